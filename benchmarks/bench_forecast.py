"""Forecast accuracy: the public protocol for every model beside open_cp's published figures, and the new model
against open_cp's best on every category and year.

Part 1, the public protocol (../shared/BENCHMARKS.md): Toronto, Break and Enter, every 7th day of 2019 (52 days),
365-day window, 200 m cells (9,472 valid), all models on a two-worker Dask LocalCluster (one single-threaded job per
core, as the reference was run): per model fit + predict seconds a day, pooled hit rate and mean PAI at
1/2/5/10/20%, then the whole backtest's wall time.

Part 2, every category x year (--grid): the same rules (200 m cells, 365-day window for the windowed baselines, the
same mask and tie-aware scoring), forecast days every --every days of each year. Per category and year: the best of
open_cp's predictors as Lawful reproduces them exactly (naive-all = open_cp naive_all, naive = naive, kde = retro),
the new model, its ratio to that best, and its paired difference in daily PAI against naive-all with the 95%
t-interval over days.

    .venv/bin/python benchmarks/bench_forecast.py                       # part 1
    .venv/bin/python benchmarks/bench_forecast.py --grid --every 7      # part 2, every 7th day (about 10 min)
    .venv/bin/python benchmarks/bench_forecast.py --grid --every 2 --years 2019 --categories Assault
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, toronto_store  # noqa: E402

from lawful import db  # noqa: E402
from lawful.forecast.executors import DaskExecutor, LocalExecutor  # noqa: E402
from lawful.forecast.models import parse_models  # noqa: E402
from lawful.forecast.service import backtest  # noqa: E402

TZ = ZoneInfo("America/Toronto")
CATEGORIES = ("Assault", "Auto Theft", "Break and Enter", "Robbery", "Theft Over")
OPEN_CP_EQUIVALENTS = ("naive-all", "naive", "kde")  # exactly open_cp's naive_all, naive and retro

# open_cp on the same protocol (../shared/BENCHMARKS.md): s/day, pooled hit rate, mean PAI at 1/2/5/10/20%.
OPEN_CP = {
    "naive_all": (0.1, (0.125, 0.196, 0.350, 0.489, 0.640), (13.17, 10.13, 7.18, 4.95, 3.23)),
    "seppexp": (33.6, (0.122, 0.196, 0.342, 0.467, 0.596), (12.66, 10.15, 6.93, 4.73, 3.00)),
    "naive": (0.0, (0.124, 0.192, 0.332, 0.460, 0.597), (12.87, 9.94, 6.77, 4.67, 3.01)),
    "retro": (1.6, (0.128, 0.198, 0.322, 0.463, 0.598), (13.18, 10.18, 6.65, 4.68, 3.02)),
    "sepp (22 days, 180-day window)": (262.0, (0.131, 0.212, 0.318, 0.438, 0.577), (13.58, 10.82, 6.55, 4.43, 2.89)),
    "prohot_bowers": (13.1, (0.111, 0.169, 0.301, 0.417, 0.543), (11.68, 8.77, 6.14, 4.20, 2.75)),
}
COUNTERPART = {"naive": "naive", "naive-all": "naive_all", "kde": "retro", "prospective": "prohot_bowers",
               "sepp": "sepp (22 days, 180-day window)", "features": "-", "ensemble": "-"}


def protocol(engine, models: list[str], executor, every: int) -> None:
    if isinstance(executor, DaskExecutor):
        # a fresh cluster's workers import Lawful, pandas and scikit-learn on their first job; a server's long-lived
        # cluster has done so already, so that cost is measured apart: one day, every model
        t0 = time.perf_counter()
        with db.transaction(engine) as session:
            backtest(session, category="Break and Enter", start=date(2019, 1, 7), end=date(2019, 1, 8),
                     every_days=every, window_days=365, cell=200, models=models, since=date(2014, 1, 1), tz=TZ,
                     executor=executor)
        print(f"warm-up (one day, every model, the workers importing): {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with db.transaction(engine) as session:
        report = backtest(session, category="Break and Enter", start=date(2019, 1, 1), end=date(2019, 12, 31),
                          every_days=every, window_days=365, cell=200, models=models, since=date(2014, 1, 1), tz=TZ,
                          executor=executor, baseline="naive-all" if "naive-all" in models else None)
    wall = time.perf_counter() - t0
    print(f"{len(report.days)} days, {report.events_scored} events, executor {report.executor}")
    print("| model | days | s/day (fit+predict) | hit rate 1/2/5/10/20% (pooled) | PAI 1/2/5/10/20% (mean of days) "
          "| PAI 5% - naive-all (95%) |")
    print("|---|---|---|---|---|---|")
    for m in models:
        rows = [s for s in report.summaries if s.model == m]
        sec = rows[0].fit_seconds + rows[0].predict_seconds
        hr = " / ".join(f"{s.hit_rate_pooled:.3f}" for s in rows)
        pai = " / ".join(f"{s.pai:.2f}" for s in rows)
        five = rows[2]
        diff = "" if m == "naive-all" or five.baseline is None else (
            f"{five.pai_diff:+.2f} ({five.pai_diff_low:+.2f} to {five.pai_diff_high:+.2f})")
        print(f"| lawful {m} | {rows[0].days} | {sec:.2f} | {hr} | {pai} | {diff} |")
    for name, (sec, hr, pai) in OPEN_CP.items():
        print(f"| open_cp {name} | | {sec} | {' / '.join(f'{v:.3f}' for v in hr)} | "
              f"{' / '.join(f'{v:.2f}' for v in pai)} | |")
    print(f"counterparts: {', '.join(f'{k} ~ {v}' for k, v in COUNTERPART.items())}")
    print(f"whole backtest ({len(models)} models x {len(report.days)} days): {wall:.1f} s wall")


def grid(engine, model: str, categories, years, every: int, executor) -> None:
    print(f"| category | year | days | best open_cp PAI 1% / 5% (which) | {model} PAI 1% / 5% | x best 1% / 5% "
          f"| {model} - naive-all, PAI 1% (95%) | PAI 5% (95%) | {model} s/day |")
    print("|---|---|---|---|---|---|---|---|---|")
    models = [*OPEN_CP_EQUIVALENTS, model]
    t0 = time.perf_counter()
    for category in categories:
        for year in years:
            with db.transaction(engine) as session:
                report = backtest(session, category=category, start=date(year, 1, 1), end=date(year, 12, 31),
                                  every_days=every, window_days=365, cell=200, models=models,
                                  since=date(2014, 1, 1), tz=TZ, executor=executor, baseline="naive-all")
            by = {(s.model, s.coverage): s for s in report.summaries}
            best1 = max(OPEN_CP_EQUIVALENTS, key=lambda m: by[m, 0.01].pai)
            best5 = max(OPEN_CP_EQUIVALENTS, key=lambda m: by[m, 0.05].pai)
            e1, e5 = by[model, 0.01], by[model, 0.05]
            print(f"| {category} | {year} | {e5.days} | {by[best1, 0.01].pai:.2f} / {by[best5, 0.05].pai:.2f} "
                  f"({best1} / {best5}) | {e1.pai:.2f} / {e5.pai:.2f} | {e1.pai / by[best1, 0.01].pai:.3f} / "
                  f"{e5.pai / by[best5, 0.05].pai:.3f} | {e1.pai_diff:+.2f} ({e1.pai_diff_low:+.2f} to "
                  f"{e1.pai_diff_high:+.2f}) | {e5.pai_diff:+.2f} ({e5.pai_diff_low:+.2f} to {e5.pai_diff_high:+.2f}) "
                  f"| {e5.fit_seconds + e5.predict_seconds:.2f} |", flush=True)
    print(f"grid: {time.perf_counter() - t0:.0f} s wall")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="all", help="part 1's models")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (0: in-process)")
    ap.add_argument("--every", type=int, default=None, help="days between forecast days (part 1: 7, part 2: 7)")
    ap.add_argument("--grid", action="store_true", help="part 2: every category x year instead of part 1")
    ap.add_argument("--model", default="ensemble", help="part 2's model")
    ap.add_argument("--categories", default=",".join(CATEGORIES))
    ap.add_argument("--years", default="2017-2021", help="e.g. 2017-2021 or 2019")
    args = ap.parse_args()
    print(machine())
    engine = toronto_store()
    cluster = client = None
    if args.workers:
        import os

        # one thread per job, as the reference was run: the feature model's trees would otherwise start a thread
        # per core in every worker and the workers would fight over the same two cores
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        executor = DaskExecutor(client=client)
    else:
        executor = LocalExecutor()
    try:
        if args.grid:
            lo, _, hi = args.years.partition("-")
            years = range(int(lo), int(hi or lo) + 1)
            grid(engine, args.model, [c.strip() for c in args.categories.split(",")], years, args.every or 7,
                 executor)
        else:
            protocol(engine, parse_models(args.models), executor, args.every or 7)
    finally:
        if client:
            client.close()
            cluster.close()
        engine.dispose()


if __name__ == "__main__":
    main()
