"""How far above open_cp's best can any forecast of this data go? Hindsight ceilings for issue #15's 1.1x target.

No forecast can use these: each ranks the cells with knowledge of the future, to bound what a model *could* gain
over the long-term counts. Per category and year, on the same days, grid, mask and tie-aware scoring as
`bench_forecast.py --grid` (200 m cells, 365-day window for the windowed baselines):

- best open_cp: the best of naive-all, naive and kde (open_cp's naive_all, naive and retro), per coverage;
- year: a blend of the long-term counts (all history before the day) with the forecast year's own incidents on
  every other day of that year, past *and future*: the perfect static map of the year;
- near: the long-term counts blended with the incidents of the 30 days either side of the day (not the day
  itself): perfect knowledge of what is "hot" around the day, which no recency term can exceed;
- both: long-term counts, the year's map and the 30 days either side together.

Each blend's weights (shares of the three count vectors, each scaled to sum 1, on a 0.1 simplex grid) are chosen
*after the fact* to maximise the mean daily PAI at that coverage over the year's days, which flatters the ceiling
further. A ceiling below 1.1x means no model ranking cells from these counts, however fitted, reaches the target.

    .venv/bin/python benchmarks/bench_forecast_ceiling.py --every 7          # all 25 category-years, ~1 min on 2 cores
    .venv/bin/python benchmarks/bench_forecast_ceiling.py --every 7 --categories Robbery --years 2019
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, toronto_store  # noqa: E402

from lawful import db  # noqa: E402
from lawful.forecast.executors import LocalExecutor  # noqa: E402
from lawful.forecast.scoring import cells_for, expected_hits  # noqa: E402
from lawful.forecast.service import backtest, local_midnight  # noqa: E402

TZ = ZoneInfo("America/Toronto")
CATEGORIES = ("Assault", "Auto Theft", "Break and Enter", "Robbery", "Theft Over")
OPEN_CP_EQUIVALENTS = ("naive-all", "naive", "kde")
COVERAGES = (0.01, 0.05)
NEAR_DAYS = 30
# shares of (long-term, year, near) on a 0.1 grid; "year" and "near" use only the rows with a zero elsewhere
SIMPLEX = [(a / 10, b / 10, round(1 - a / 10 - b / 10, 1)) for a in range(11) for b in range(11 - a)]
FAMILIES = {"year": [w for w in SIMPLEX if w[2] == 0], "near": [w for w in SIMPLEX if w[1] == 0], "both": SIMPLEX}


def unit(v: np.ndarray) -> np.ndarray:
    s = v.sum()
    return v / s if s else v


def pai(risk: np.ndarray, actual: np.ndarray, coverage: float) -> float:
    n = len(risk)
    k = cells_for(n, coverage)
    return expected_hits(risk, actual, k) / actual.sum() / (k / n)


def ceilings(report, year: int, near_days: int) -> dict[tuple[str, float], float]:
    """Per (family, coverage): the mean daily PAI of the family's best blend, weights chosen on these very days."""
    data = report.data
    ev, grid = data.events, data.grid
    y0, y1 = local_midnight(date(year, 1, 1), TZ), local_midnight(date(year + 1, 1, 1), TZ)
    year_counts = grid.counts(*_xy(ev.between(y0, y1)))
    rows = []  # per day: (long-term, year without the day, 30 days either side without the day, the day)
    for _, at, end in report.days:
        actual = grid.counts(*_xy(ev.between(at, end)))
        if actual.sum() == 0:
            continue
        lo = at - np.timedelta64(near_days, "D")
        hi = end + np.timedelta64(near_days, "D")
        near = grid.counts(*_xy(ev.between(lo, hi))) - actual
        rows.append((unit(grid.counts(*_xy(ev.before(at)))), unit(year_counts - actual), unit(near), actual))
    out = {}
    for family, weights in FAMILIES.items():
        for coverage in COVERAGES:
            out[family, coverage] = max(
                np.mean([pai(a * lt + b * yr + c * nr, act, coverage) for lt, yr, nr, act in rows])
                for a, b, c in weights)
    return out


def _xy(e):
    return e.x, e.y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=7, help="days between forecast days")
    ap.add_argument("--categories", default=",".join(CATEGORIES))
    ap.add_argument("--years", default="2017-2021", help="e.g. 2017-2021 or 2019")
    ap.add_argument("--near", type=int, default=NEAR_DAYS, help="days either side of the day for 'near' (30)")
    args = ap.parse_args()
    lo, _, hi = args.years.partition("-")
    years = range(int(lo), int(hi or lo) + 1)
    print(machine())
    engine = toronto_store()
    print("| category | year | days | best open_cp PAI 1% / 5% | ceiling x best open_cp at 1%: year / near / both "
          "| at 5%: year / near / both |")
    print("|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    ratios = {}
    for category in [c.strip() for c in args.categories.split(",")]:
        for year in years:
            with db.transaction(engine) as session:
                report = backtest(session, category=category, start=date(year, 1, 1),
                                  end=date(year, 12, 31), every_days=args.every,
                                  window_days=365, cell=200, models=list(OPEN_CP_EQUIVALENTS),
                                  since=date(2014, 1, 1), tz=TZ, executor=LocalExecutor())
            by = {(s.model, s.coverage): s.pai for s in report.summaries}
            best = {c: max(by[m, c] for m in OPEN_CP_EQUIVALENTS) for c in COVERAGES}
            top = ceilings(report, year, args.near)
            days = next(s.days for s in report.summaries)
            cells = []
            for c in COVERAGES:
                rs = [top[f, c] / best[c] for f in FAMILIES]
                for f, r in zip(FAMILIES, rs):
                    ratios.setdefault((f, c), []).append(r)
                cells.append(" / ".join(f"{r:.3f}" for r in rs))
            print(f"| {category} | {year} | {days} | {best[0.01]:.2f} / {best[0.05]:.2f} | {cells[0]} | {cells[1]} |",
                  flush=True)
    for c in COVERAGES:
        print(f"at {c:.0%}: " + "; ".join(
            f"{f}: mean {np.mean(ratios[f, c]):.3f}, min {min(ratios[f, c]):.3f}, "
            f">= 1.1 in {sum(r >= 1.1 for r in ratios[f, c])} of {len(ratios[f, c])}" for f in FAMILIES))
    print(f"ceilings: {time.perf_counter() - t0:.0f} s wall")
    engine.dispose()


if __name__ == "__main__":
    main()
