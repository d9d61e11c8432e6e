"""The public forecasting protocol (../shared/BENCHMARKS.md) for every model, beside open_cp's published figures.

Toronto, Break and Enter, every 7th day of 2019 (52 days), 365-day window, 200 m cells (9,472 valid). Loads the
bundled data into a fresh SQLite store, runs the backtest of all models on a two-worker Dask LocalCluster (one
single-threaded job per core, as the reference was run) and prints, per model: fit + predict seconds per day,
pooled hit rate and mean PAI at 1/2/5/10/20%, then the whole backtest's wall time.

    .venv/bin/python benchmarks/bench_forecast.py [--models all] [--workers 2] [--every 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_sqlite_env, machine  # noqa: E402

from lawful import db  # noqa: E402
from lawful.forecast.executors import DaskExecutor, LocalExecutor  # noqa: E402
from lawful.forecast.models import parse_models  # noqa: E402
from lawful.forecast.service import backtest  # noqa: E402
from lawful.incidents.datasets import load_toronto  # noqa: E402
from lawful.settings import Settings  # noqa: E402

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
               "sepp": "sepp (22 days, 180-day window)", "features": "-"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="all")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (0: in-process)")
    ap.add_argument("--every", type=int, default=7)
    args = ap.parse_args()
    print(machine())
    fresh_sqlite_env()
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine) as session:
        load_toronto(session, settings=settings)
    models = parse_models(args.models)
    cluster = client = None
    if args.workers:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        executor = DaskExecutor(client=client)
    else:
        executor = LocalExecutor()
    t0 = time.perf_counter()
    with db.transaction(engine) as session:
        report = backtest(session, category="Break and Enter", start=date(2019, 1, 1), end=date(2019, 12, 31),  # exclusive: the protocol's 52 days
                          every_days=args.every, window_days=365, cell=200, models=models, since=date(2014, 1, 1),
                          tz=ZoneInfo("America/Toronto"), executor=executor)
    wall = time.perf_counter() - t0
    if client:
        client.close()
        cluster.close()
    engine.dispose()
    print(f"{len(report.days)} days, {report.events_scored} events, executor {report.executor}")
    print("| model | days | s/day (fit+predict) | hit rate 1/2/5/10/20% (pooled) | PAI 1/2/5/10/20% (mean of days) |")
    print("|---|---|---|---|---|")
    for m in models:
        rows = [s for s in report.summaries if s.model == m]
        sec = rows[0].fit_seconds + rows[0].predict_seconds
        hr = " / ".join(f"{s.hit_rate_pooled:.3f}" for s in rows)
        pai = " / ".join(f"{s.pai:.2f}" for s in rows)
        print(f"| lawful {m} | {rows[0].days} | {sec:.2f} | {hr} | {pai} |")
    for name, (sec, hr, pai) in OPEN_CP.items():
        print(f"| open_cp {name} | | {sec} | {' / '.join(f'{v:.3f}' for v in hr)} | {' / '.join(f'{v:.2f}' for v in pai)} |")
    print(f"counterparts: {', '.join(f'{k} ~ {v}' for k, v in COUNTERPART.items())}")
    print(f"whole backtest ({len(models)} models x {len(report.days)} days): {wall:.1f} s wall")


if __name__ == "__main__":
    main()
