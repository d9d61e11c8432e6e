"""The incidents behind a place, on the bundled Toronto data (~241,000 incidents): how long `lawful incidents list`
(by a cell, a 200 m circle, a neighbourhood, a cell and a month) and `lawful incidents show` take in the services
the API calls (access decision, count, rows, trail entry: one transaction each), and how long a stale forecast
takes to be refused (the check `forecast run` and the gate make before computing anything).

    .venv/bin/python benchmarks/bench_places.py [--repeat 5]

The place queried is the cell holding the most of the 10,000 latest incidents of 2021. Best of `--repeat`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_sqlite_env, machine  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    fresh_sqlite_env()
    from collections import Counter

    from lawful import db
    from lawful.access.service import Actor
    from lawful.errors import LawfulError
    from lawful.forecast import flows
    from lawful.incidents import service
    from lawful.incidents.datasets import load_dataset
    from lawful.settings import Settings

    settings = Settings.from_env()
    db.upgrade(settings)
    store = db.Store(settings)
    t = time.perf_counter()
    with store.transaction() as s:
        load_dataset(s, name="toronto-mci", settings=settings, actor="operator")
    print(f"{machine()}; SQLite; loaded the bundled data in {time.perf_counter() - t:.1f} s")
    ana = Actor("ana", frozenset({"analyst"}), "internal")

    with store.transaction() as s:
        rows = service.get_all(s, actor=ana, settings=settings, limit=10_000,
                               query=service.make_query(settings=settings, start=date(2021, 1, 1), end=date(2021, 12, 31)))
    top_cell, _ = Counter(r["cell_id"] for r in rows["incidents"]).most_common(1)[0]
    one = next(r for r in rows["incidents"] if r["cell_id"] == top_cell)
    queries = {
        f"--cell {top_cell}": dict(cell=top_cell),
        f"--cell {top_cell} --from 2021-12-01 --to 2021-12-31": dict(cell=top_cell, start=date(2021, 12, 1),
                                                                      end=date(2021, 12, 31)),
        "--near LON,LAT --radius 200": dict(lon=one["lon"], lat=one["lat"], radius=200.0),
        f"--neighbourhood '{one['neighbourhood']}'": dict(neighbourhood=one["neighbourhood"]),
    }
    print(f"{'lawful incidents ...':<62} {'matched':>8} {'best ms':>8}")
    for label, q in queries.items():
        def run(q=q):
            with store.transaction() as s:
                return service.get_all(s, actor=ana, settings=settings, query=service.make_query(settings=settings, **q))

        total = run()["total"]
        print(f"list {label:<57} {total:>8,} {best(run, args.repeat) * 1000:>8.0f}")

    def show():
        with store.transaction() as s:
            return service.get_one(s, actor=ana, incident_id=one["id"], settings=settings)

    print(f"show {one['id']:<57} {1:>8} {best(show, args.repeat) * 1000:>8.0f}")

    def stale():
        try:
            flows.forecast_run(store, actor=ana, category="Break and Enter", day=date(2030, 6, 1), model="naive-all",
                               top=10, window_days=365, cell=200.0, since=date(2014, 1, 1), purpose="crime analysis")
        except LawfulError as exc:
            return exc
        raise AssertionError("a forecast for 2030-06-01 went through")

    print(f"forecast run --date 2030-06-01 refused in {best(stale, args.repeat) * 1000:.0f} ms: {stale()}")
    store.dispose()


if __name__ == "__main__":
    main()
