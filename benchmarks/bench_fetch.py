"""One category over a 365-day window, fetched from the store as numpy arrays (what forecasting consumes).

Loads the bundled Toronto data into a fresh SQLite store (and PostgreSQL with --postgres URL), then times
fetch_events(Break and Enter, 2019-01-01 .. 2020-01-01 local) many times and prints the median and p95.

    .venv/bin/python benchmarks/bench_fetch.py [--repeat 50] [--postgres URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_postgres_env, fresh_sqlite_env, machine  # noqa: E402

from lawful import db  # noqa: E402
from lawful.incidents.datasets import load_toronto  # noqa: E402
from lawful.incidents.service import fetch_events  # noqa: E402
from lawful.settings import Settings  # noqa: E402


def measure(settings: Settings, repeat: int) -> tuple[float, float, int]:
    """Load Toronto into the (empty) store, then time the fetch: median ms, p95 ms, events."""
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine) as session:
        load_toronto(session, settings=settings)
    tz = ZoneInfo("America/Toronto")
    start, end = datetime(2019, 1, 1, tzinfo=tz), datetime(2020, 1, 1, tzinfo=tz)
    times, n = [], 0
    with db.transaction(engine) as session:
        for _ in range(repeat):
            t0 = time.perf_counter()
            events = fetch_events(session, category="Break and Enter", start=start, end=end)
            times.append(time.perf_counter() - t0)
            n = len(events)
    engine.dispose()
    return float(np.median(times)) * 1000, float(np.percentile(times, 95)) * 1000, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (its tables are dropped!)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    fresh_sqlite_env()
    med, p95, n = measure(Settings.from_env(), args.repeat)
    print(f"SQLite     fetch Break and Enter, 365 days: {n:,} events, median {med:.1f} ms, p95 {p95:.1f} ms")
    if args.postgres:
        fresh_postgres_env(args.postgres)
        med, p95, n = measure(Settings.from_env(), args.repeat)
        print(f"PostgreSQL fetch Break and Enter, 365 days: {n:,} events, median {med:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
