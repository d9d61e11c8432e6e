"""Why SQLite's unique key is built once at the end of a first load (migration 0014): the same rows inserted with
Python's `executemany` into an in-memory table with and without a unique index on (source, source_key), keys in
random order as source keys are against time.

    .venv/bin/python benchmarks/bench_key_index.py [--rows 241000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

COLUMNS = ("source_key, category, occurred_at, occurred_from, occurred_to, reported_at, lat, lon, x, y, area_code, "
           "premises_type, attributes, load_id")


def insert_seconds(rows: list[tuple], unique: bool, then_build: bool = False) -> float:
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, source TEXT, {COLUMNS}, classification TEXT, ingested_at "
                f"TEXT{', UNIQUE (source, source_key)' if unique else ''})")
    t0 = time.perf_counter()
    con.executemany(f"INSERT INTO t (source, classification, ingested_at, {COLUMNS}) VALUES ('toronto', 'internal', "
                    f"'2026-01-01', {', '.join('?' * 14)})", rows)
    if then_build:
        con.execute("CREATE UNIQUE INDEX uq ON t (source, source_key)")
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=241_000)
    args = ap.parse_args()
    rng = random.Random(0)
    rows = [(f"GO-{rng.randrange(10**12):012d}-{i}", "Break and Enter", "2019-03-01 22:15:00.000000", None, None,
             "2019-03-02 10:00:00.000000", 43.6 + rng.random(), -79.4 + rng.random(), 6e5 + rng.random() * 1e4,
             4.8e6 + rng.random() * 1e4, "Downtown (77)", "House", '{"a":1}', 5) for i in range(args.rows)]
    print(f"machine: {machine()}; {args.rows:,} rows of 14 bound values")
    print(f"no unique index:                 {insert_seconds(rows, unique=False):.2f} s")
    print(f"unique index, row by row:        {insert_seconds(rows, unique=True):.2f} s")
    print(f"no index, then built once:       {insert_seconds(rows, unique=False, then_build=True):.2f} s")


if __name__ == "__main__":
    main()
