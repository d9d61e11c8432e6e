"""Full validated, projected, idempotent load of the bundled Toronto data, against the bare floor, in one run.

Floor: pandas read_csv + DataFrame.to_sql of the same two files into a fresh SQLite file, with no checks at all.
Lawful: `load_toronto` into a fresh, migrated store (parse, validate, project, key, write in one transaction),
then the same again (idempotent re-load: adds 0). Optionally the same on PostgreSQL with --postgres URL.

    .venv/bin/python benchmarks/bench_ingest.py [--repeat 3] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_postgres_env, fresh_sqlite_env, machine  # noqa: E402

import pandas as pd  # noqa: E402

from lawful import db  # noqa: E402
from lawful.incidents.datasets import load_toronto, toronto_paths  # noqa: E402
from lawful.settings import Settings  # noqa: E402


def floor_once(paths: list[Path]) -> float:
    target = fresh_sqlite_env() / "floor.db"
    start = time.perf_counter()
    con = sqlite3.connect(target)
    for path in paths:
        pd.read_csv(path).to_sql("incidents", con, if_exists="append", index=False)
    con.commit()
    con.close()
    return time.perf_counter() - start


def lawful_once(url: str | None) -> tuple[float, float, int]:
    """Seconds for the first load and for the idempotent re-load, and the rows the first one added."""
    fresh_postgres_env(url) if url else fresh_sqlite_env()
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    seconds, added = [], []
    for _ in range(2):
        start = time.perf_counter()
        with db.transaction(engine) as session:
            added.append(load_toronto(session, settings=settings).inserted)
        seconds.append(time.perf_counter() - start)
    engine.dispose()
    assert added[1] == 0, "the re-load added rows"
    return seconds[0], seconds[1], added[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (its tables are dropped!)")
    args = parser.parse_args()
    with ExitStack() as stack:
        paths = toronto_paths(stack)
        rows = sum(1 for p in paths for _ in p.open()) - len(paths)
        print(f"machine: {machine()}")
        print(f"data: {rows:,} rows in {', '.join(p.name for p in paths)}")
        floor = [floor_once(paths) for _ in range(args.repeat)]
        runs = [lawful_once(None) for _ in range(args.repeat)]
        f, first, again = statistics.median(floor), statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"floor  read_csv + to_sql (SQLite, no checks)        : {f:6.2f} s  (median of {args.repeat})")
        print(f"lawful full load into SQLite                        : {first:6.2f} s  = {first / f:.1f}x floor, "
              f"{runs[0][2] / first:,.0f} rows/s, {runs[0][2]:,} rows")
        print(f"lawful re-load into SQLite (adds 0)                 : {again:6.2f} s  = {again / f:.1f}x floor")
        if args.postgres:
            pg = [lawful_once(args.postgres) for _ in range(args.repeat)]
            print(f"lawful full load into PostgreSQL                    : {statistics.median(p[0] for p in pg):6.2f} s")
            print(f"lawful re-load into PostgreSQL (adds 0)             : {statistics.median(p[1] for p in pg):6.2f} s")


if __name__ == "__main__":
    main()
