"""Patrol planning: the optimiser (HiGHS LP relaxation, then exact per-unit best responses; SciPy only) against the
greedy baseline on the bundled Toronto data.

For each day, the places are the top 5% of 200 m cells (the public protocol's grid) ranked by the past 365 days'
Break and Enter counts (what the `naive` estimator scores; the planner does not care which estimator ranked the
cells), each cell's neighbourhood is its most common one, and 6, 20 or 50 units start at seeded random cells. The
planning configuration is the approved card's (examples/governance/patrol-planner.toml): 15 min visits, 40% of an
8 h shift free for patrol, at most 3 visits per place and 30% of the visits in any one neighbourhood. "LP bound" is
the LP relaxation's coverage: no plan within the same limits covers more.

    .venv/bin/python benchmarks/bench_patrol.py [--days 4]

`--simulate-month` instead replays a month (`--start 2019-12-01 --month-days 30`, `--units 20`): each day a plan
over that day's forecast (the `prospective` hotspot model by default, `--model`; the top 5% of cells, the card's
limits, the weekly cap per place counted over the week's earlier plans), against patrolling the top 5% of cells of
`naive-all` (counts over all history) by rota: in rank order, one 15-minute visit per place by the nearest unit
with the time left, each day going on where the day before stopped. Same units (fixed start points), same shift
(22:00-06:00 local), same minutes. Measured against the Break and Enter recorded in the shift (the data give the
local hour) and on the day: the share in visited places, and the share "covered" by the plan's own curve
(1 - 0.5^visits).

    .venv/bin/python benchmarks/bench_patrol.py --simulate-month [--units 20] [--model prospective]
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


def load():
    with ExitStack() as st:
        frame = pd.concat([pd.read_csv(p, usecols=["occurrencedate", "occurrencehour", "MCI", "Neighbourhood", "Lat",
                                                  "Long"]) for p in toronto_paths(st)])
    frame = frame[np.isfinite(frame["Lat"]) & (frame["Lat"] > 43) & (frame["Long"] < -78)]
    x, y = transformer("EPSG:4326", "EPSG:32617").transform(frame["Long"].to_numpy(), frame["Lat"].to_numpy())
    t = pd.to_datetime(frame["occurrencedate"], format="%Y/%m/%d %H:%M:%S+00", utc=True).dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    # local time of occurrence: the local day (occurrencedate is local midnight in UTC) plus the hour
    local = (pd.to_datetime(frame["occurrencedate"].str[:10], format="%Y/%m/%d").to_numpy().astype("datetime64[us]")
             + frame["occurrencehour"].to_numpy().astype("timedelta64[h]"))
    grid = Grid.from_events(x, y, 200.0)
    areas = cell_areas(grid, x, y, frame["Neighbourhood"].to_numpy(object))
    bne = (frame["MCI"] == "Break and Enter").to_numpy()
    cfg = solver.Config.from_table(load_card(ROOT / "examples" / "governance" / "patrol-planner.toml")["model"])
    return x, y, t, local, grid, areas, bne, cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--simulate-month", action="store_true", help="replay a month of plans against a rota")
    ap.add_argument("--start", default="2019-12-01")
    ap.add_argument("--month-days", type=int, default=30)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--model", default="prospective", help="the forecast the month's plans are made over")
    args = ap.parse_args()
    data = load()
    if args.simulate_month:
        simulate_month(data, start=np.datetime64(args.start), n_days=args.month_days, n_units=args.units,
                       model=args.model)
        return
    x, y, t, _, grid, areas, bne, cfg = data
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


def rota_day(units, places_xy, order, pointer, cfg, shift_min):
    """One day of the rota: from `pointer` on in the ranking, one visit per place by the nearest unit with the time
    left (out-and-back priced, as the planner prices it); a place no unit can fit is passed over. Returns (visits
    per unit and place index in `order`, the next day's pointer)."""
    free = np.full(len(units), shift_min * cfg.patrol_share)
    ux = np.array([u.x for u in units])
    uy = np.array([u.y for u in units])
    speed = cfg.speed_kmh * 1000 / 60
    visits = np.zeros((len(units), len(order)), int)
    n = len(order)
    last = pointer - 1
    for step in range(n):
        j = (pointer + step) % n
        i = order[j]
        cost = cfg.visit_min + 2 * (np.abs(ux - places_xy[i, 0]) + np.abs(uy - places_xy[i, 1])) / speed
        ok = cost <= free
        if ok.any():
            u = int(np.argmin(np.where(ok, cost, np.inf)))
            visits[u, j] += 1
            free[u] -= cost[u]
            last = j
        if free.max() < cfg.visit_min:
            break
    return visits, (last + 1) % n  # tomorrow goes on after the last place visited today


def simulate_month(data, *, start: np.datetime64, n_days: int, n_units: int, model: str) -> None:
    from lawful.forecast.events import Events
    from lawful.forecast.models import build

    x, y, t, local, grid, areas, bne, cfg = data
    rng = np.random.default_rng(18)
    starts = grid.centres[rng.choice(grid.n_valid, n_units, replace=False)]
    units = [solver.Unit(f"u{i}", float(a), float(b)) for i, (a, b) in enumerate(starts)]
    k = max(1, round(0.05 * grid.n_valid))
    ev = Events.sorted(t[bne], x[bne], y[bne])
    planned = [model] + (["naive-all"] if model != "naive-all" else [])  # plans over each; the rota over naive-all
    fitted = {m: build(m).fit(ev) for m in planned}
    naive_all = fitted["naive-all"]
    cell_of = grid.cell_of(x, y)
    lx = local[bne]
    lc = cell_of[bne]
    p = cfg.first_visit_share
    week_used: dict[str, dict[int, int]] = {m: {} for m in planned}
    pointer = 0
    stats: dict[str, list] = {m: [] for m in planned} | {"rota": []}
    print(f"machine: {machine()}; month from {start} ({n_days} days), {n_units} units, shift 22:00-06:00, "
          f"plan over `{model}`'s top {k} cells, rota over `naive-all`'s top {k}; config {cfg.table()}")
    for n in range(n_days):
        day = start + np.timedelta64(n, "D")
        if n == 0 or day.astype("datetime64[D]").astype(object).weekday() == 0:
            week_used = {m: {} for m in planned}
        # forecast instant: UTC midnight, before the day's first event (each event's time is its local day's
        # midnight in UTC, 04:00 or 05:00), so no forecast sees the day it is for
        at = day.astype("datetime64[us]")
        shift0 = day.astype("datetime64[us]") + np.timedelta64(22, "h")
        shift1 = shift0 + np.timedelta64(8, "h")
        in_shift = (lx >= shift0) & (lx < shift1) & (lc >= 0)
        on_day = (lx >= day.astype("datetime64[us]")) & (lx < day.astype("datetime64[us]") + np.timedelta64(1, "D")) \
            & (lc >= 0)
        shift_cells, day_cells = lc[in_shift], lc[on_day]
        outcomes = []
        for m in planned:  # the plan over each forecast, the weekly cap counted over the week's earlier plans
            values = fitted[m].predict(grid, at).values
            top = np.argsort(-values, kind="stable")[:k]
            c = grid.centres[top]
            used = week_used[m]
            cap = np.array([max(cfg.max_visits_per_place_week - used.get(int(i), 0), 0) for i in top])
            places = solver.Places([str(i) for i in top], c[:, 0], c[:, 1], np.maximum(values[top], 0),
                                   list(areas[top]), cap)
            best = solver.solve(units, places, 480, cfg)
            pv = best.place_visits()
            for i, v in zip(top, pv):
                if v:
                    used[int(i)] = used.get(int(i), 0) + int(v)
            outcomes.append((m, top, pv, best.minutes_driven))
        # the rota over naive-all's ranking (as of the day)
        ranked = np.argsort(-naive_all.predict(grid, at).values, kind="stable")[:k]
        xy = grid.centres[ranked]
        rv, pointer = rota_day(units, xy, np.arange(k), pointer, cfg, 480)
        rota_visits = rv.sum(axis=0)
        _, rota_driven = solver.route(rv, units, solver.Places([str(i) for i in ranked], xy[:, 0], xy[:, 1],
                                                                np.ones(k), list(areas[ranked])), 480, cfg)
        for name, cells, visits, driven in outcomes + [("rota", ranked, rota_visits, rota_driven)]:
            per_cell = np.zeros(grid.n_valid, int)
            per_cell[cells] = visits
            a = pd.Series(visits, index=list(areas[cells])).groupby(level=0).sum()
            stats[name].append({
                "places": int((visits > 0).sum()), "visits": int(visits.sum()), "driven": driven,
                "shift": len(shift_cells), "shift_hit": int((per_cell[shift_cells] > 0).sum()),
                "shift_cover": float((1 - (1 - p) ** per_cell[shift_cells]).sum()),
                "day": len(day_cells), "day_hit": int((per_cell[day_cells] > 0).sum()),
                "top_shift": int(np.isin(shift_cells, cells).sum()),
                "largest_area": float(a.max() / max(a.sum(), 1))})
    print("\n| strategy | places visited / day | visits / day | B&E in the shift: in visited places | "
          "covered by the curve | B&E on the day: in visited places | in the strategy's top 5% (shift) | "
          "minutes driven / day | largest neighbourhood share (mean) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label in [(m, f"daily plans over `{m}`") for m in planned] + [("rota", "`naive-all` top cells by rota")]:
        r = stats[name]

        def tot(key):
            return sum(d[key] for d in r)

        print(f"| {label} | {tot('places') / len(r):.0f} | {tot('visits') / len(r):.0f} | "
              f"{tot('shift_hit')} of {tot('shift')} ({tot('shift_hit') / max(tot('shift'), 1):.1%}) | "
              f"{tot('shift_cover') / max(tot('shift'), 1):.1%} | "
              f"{tot('day_hit')} of {tot('day')} ({tot('day_hit') / max(tot('day'), 1):.1%}) | "
              f"{tot('top_shift') / max(tot('shift'), 1):.1%} | {tot('driven') / len(r):,.0f} | "
              f"{statistics.mean(d['largest_area'] for d in r):.0%} |")


if __name__ == "__main__":
    main()
