"""Patrol planning: the optimiser (HiGHS LP relaxation, then exact per-unit best responses; SciPy only) against the
greedy baseline on the bundled Toronto data.

For each day, the places are the top 5% of 200 m cells (the public protocol's grid) ranked by the past 365 days'
Break and Enter counts (what the `naive` estimator scores; the planner does not care which estimator ranked the
cells), each cell's neighbourhood is its most common one, and 6, 20 or 50 units start at seeded random cells. The
planning configuration is the approved card's (examples/governance/patrol-planner.toml): 15 min visits, 40% of an
8 h shift free for patrol, at most 3 visits per place and 30% of the visits in any one neighbourhood. "LP bound" is
the LP relaxation's coverage: no plan within the same limits covers more.

    .venv/bin/python benchmarks/bench_patrol.py [--days 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from lawful.forecast.exposure import cell_areas  # noqa: E402
from lawful.forecast.grid import Grid  # noqa: E402
from lawful.governance.card import load_card  # noqa: E402
from lawful.incidents.datasets import toronto_paths  # noqa: E402
from lawful.incidents.validate import transformer  # noqa: E402
from lawful.patrol import plan as solver  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=4)
    args = ap.parse_args()
    with ExitStack() as st:
        frame = pd.concat([pd.read_csv(p, usecols=["occurrencedate", "MCI", "Neighbourhood", "Lat", "Long"])
                           for p in toronto_paths(st)])
    frame = frame[np.isfinite(frame["Lat"]) & (frame["Lat"] > 43) & (frame["Long"] < -78)]
    x, y = transformer("EPSG:4326", "EPSG:32617").transform(frame["Long"].to_numpy(), frame["Lat"].to_numpy())
    t = pd.to_datetime(frame["occurrencedate"], format="%Y/%m/%d %H:%M:%S+00", utc=True).dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    grid = Grid.from_events(x, y, 200.0)
    areas = cell_areas(grid, x, y, frame["Neighbourhood"].to_numpy(object))
    bne = (frame["MCI"] == "Break and Enter").to_numpy()
    cfg = solver.Config.from_table(load_card(ROOT / "examples" / "governance" / "patrol-planner.toml")["model"])
    rng = np.random.default_rng(18)
    days = [np.datetime64("2019-12-01") + np.timedelta64(7 * i, "D") for i in range(args.days)]
    print(f"machine: {machine()}; grid {grid.nx} x {grid.ny}, {grid.n_valid:,} valid cells; config {cfg.table()}")
    rows = []
    for n_units in (6, 20, 50):
        res = []
        for day in days:
            d64 = day.astype("datetime64[us]")
            keep = bne & (t >= d64 - np.timedelta64(365, "D")) & (t < d64)
            counts = grid.counts(x[keep], y[keep])
            top = np.argsort(-counts, kind="stable")[:max(1, round(0.05 * grid.n_valid))]
            c = grid.centres[top]
            places = solver.Places([str(i) for i in top], c[:, 0], c[:, 1], counts[top], list(areas[top]))
            starts = grid.centres[rng.choice(grid.n_valid, n_units, replace=False)]
            units = [solver.Unit(f"u{i}", float(a), float(b)) for i, (a, b) in enumerate(starts)]
            best = solver.solve(units, places, 480, cfg)
            base = solver.greedy(units, places, 480, cfg)
            res.append((best.seconds, best.share, base.share, best.minutes_driven, base.minutes_driven,
                        best.status == "optimal", len(top), best.bound / best.risk_total))
        s = [r[0] for r in res]
        rows.append((n_units, res[0][6], statistics.median(s), max(s), statistics.mean(r[1] for r in res),
                     statistics.mean(r[2] for r in res), statistics.mean(r[3] for r in res),
                     statistics.mean(r[4] for r in res), sum(r[5] for r in res), len(res),
                     statistics.mean(r[7] for r in res)))
    print("\n| units | places | optimiser s (median / max) | risk covered: optimiser / greedy | LP bound "
          "| minutes driven: optimiser / greedy | proven within 1% |")
    print("|---|---|---|---|---|---|---|")
    for u, n, med, mx, ms, gs, md, gd, opt, k, lb in rows:
        print(f"| {u} | {n} | {med:.2f} / {mx:.2f} | {ms:.1%} / {gs:.1%} ({(ms - gs) * 100:+.1f} pts) | {lb:.1%} | "
              f"{md:,.0f} / {gd:,.0f} | {opt}/{k} |")


if __name__ == "__main__":
    main()
