"""What upgrading a SQLite store to migration 0014 costs (it rebuilds `incidents`), on N x the Toronto data.

    TMPDIR=/work/bench-tmp .venv/bin/python benchmarks/bench_migrate.py --scale 10

Builds N jittered copies of the Toronto data (bench_scale.build), loads them into a fresh store with the current
code, then times `downgrade 0013` (the table rebuilt with the old constraint) and `upgrade head` (rebuilt again,
the key a named index), each one transaction, as `lawful admin db upgrade` runs it. Prints the store's size, which
is also about the free disk the rebuild needs while the old and new tables both exist.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_sqlite_env, machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1, help="copies of the Toronto data (10: 2.4 million incidents)")
    args = ap.parse_args()
    import bench_scale
    from alembic import command

    from lawful import db
    from lawful.incidents.datasets import toronto_mapping
    from lawful.incidents.stream import ingest_path
    from lawful.settings import Settings

    data_dir = fresh_sqlite_env()
    csv = Path(tempfile.mkdtemp(prefix="lawful-migrate-")) / f"toronto-x{args.scale}.csv"
    rows = bench_scale.build(args.scale, csv)
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine, settings=settings) as s:
        ingest_path(s, path=csv, mapping=toronto_mapping(), settings=settings, actor="bench")
    engine.dispose()
    csv.unlink()
    size = (data_dir / "lawful.db").stat().st_size / 2**20
    print(f"machine: {machine()}; {rows:,} incidents, store {size:,.0f} MB")
    for revision, what in (("0013", "down to 0013 (constraint back in the table)"),
                           ("head", "up to 0014 (the key a named index)")):
        engine = db.make_engine(settings.database_url)
        cfg = db.alembic_config(settings.database_url)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if revision != "head" else command.upgrade)(cfg, revision)
        engine.dispose()
        print(f"{what}: {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
