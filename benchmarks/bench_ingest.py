"""Full validated, projected, idempotent load of the bundled Toronto data, against the bare floor, in one run.

Floor: pandas read_csv + DataFrame.to_sql of the same two files into a fresh SQLite file, with no checks at all.
Lawful: `load_toronto` into a fresh, migrated store (parse, validate, project, key, write in one transaction),
then the same again (idempotent re-load: adds 0). Optionally the same on PostgreSQL with --postgres URL.

    .venv/bin/python benchmarks/bench_ingest.py [--repeat 3] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]

--stream N [N ...]: the streamed load (`incidents.stream.ingest_path`, what `lawful ingest FILE` runs) of N jittered
copies of the Toronto data (bench_scale.build), each load in a fresh process (wall time, peak RSS), and its reading
side alone (read, check, key, convert; no database, one thread: a lower bound for the load), against the bulk
floor of the same file measured in the same run: `sqlite3 .import` into an unindexed table, and `psql \\copy` with
--postgres. --profile DIR writes each load's cProfile stats there (load-sqlite-xN.prof, load-pg-xN.prof).

    TMPDIR=/work/bench-tmp .venv/bin/python benchmarks/bench_ingest.py --stream 1 3 [--postgres URL] [--profile DIR]
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


STREAM_SCHEMA = "lawful_stream"


def _fresh_schema(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {STREAM_SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {STREAM_SCHEMA}")
    engine.dispose()


def stream_load(file: Path, data_dir: Path, pg: str | None, profile: str | None) -> dict:
    """One streamed load into a fresh store, in this process (run by --stream in a child process)."""
    import bench_scale

    import os

    os.environ["LAWFUL_DATA_DIR"] = str(data_dir)
    os.environ.pop("LAWFUL_DATABASE_URL", None)
    if pg:  # a schema of its own: bench_scale's lawful_scale may be in use by another run
        os.environ["LAWFUL_DATABASE_URL"] = f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{STREAM_SCHEMA}"
    from lawful.incidents.datasets import toronto_mapping
    from lawful.incidents.stream import ingest_path

    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    prof = None
    if profile:
        import cProfile
        import logging

        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="    %(message)s")
        logging.getLogger("lawful.incidents").setLevel(logging.DEBUG)

        prof = cProfile.Profile()
        prof.enable()
    import resource

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def backend_cpu(s) -> float:  # the PostgreSQL server process of this session (same machine), in seconds
        if not pg:
            return 0.0
        pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / __import__("os").sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    t0, c0 = time.perf_counter(), cpu()
    with db.transaction(engine, settings=settings) as s:
        b0 = backend_cpu(s)
        summary = ingest_path(s, path=file, mapping=toronto_mapping(), settings=settings, actor="bench")
        b1 = backend_cpu(s)
    seconds = time.perf_counter() - t0
    cpu_s = cpu() - c0
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    engine.dispose()
    return {"seconds": seconds, "rows": summary.inserted, "quarantined": summary.quarantined_rows,
            "peak_mb": bench_scale.peak_mb(), "cpu_s": cpu_s, "server_cpu_s": b1 - b0}


def read_only(file: Path, dialect: str) -> dict:
    """The load's reading side alone, on one thread, with no database: read, check, key and convert each chunk
    (what the load's reading thread does). Its time is a lower bound for the whole load on two cores, since the
    database's work can only overlap it (run by --stream in a child process)."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from lawful.incidents.datasets import toronto_mapping
    from lawful.incidents.readers import TableReader
    from lawful.incidents.store import Stage, per_load_values
    from lawful.incidents.validate import FileState, prepare

    mapping, settings, now = toronto_mapping(), Settings.from_env(), datetime.now(timezone.utc)
    stage = Stage.__new__(Stage)  # convert() only reads these two attributes; it touches no connection
    stage.dialect, stage.values = dialect, {**per_load_values(mapping.source, mapping.classification, now, dialect),
                                            "load_id": 1}
    state, rows = FileState(), 0
    times = SimpleNamespace(read=0.0, check=0.0, convert=0.0)
    chunks = iter(TableReader(file, mapping, file.name))
    while True:
        t0 = time.perf_counter()
        chunk = next(chunks, None)
        t1 = time.perf_counter()
        times.read += t1 - t0
        if chunk is None:
            break
        prepared = prepare(chunk, mapping, settings, file.name, now=now, state=state)
        t2 = time.perf_counter()
        stage.convert(prepared.records)
        times.check += t2 - t1
        times.convert += time.perf_counter() - t2
        rows += len(prepared.records)
    return {"seconds": times.read + times.check + times.convert, "rows": rows, **vars(times)}


def main_stream(scales: list[int], pg: str | None, profile: str | None) -> None:
    import json
    import shutil
    import subprocess
    import tempfile

    import bench_scale

    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}")
    tmp = Path(tempfile.mkdtemp(prefix="lawful-stream-"))
    try:
        for n in scales:
            file = tmp / f"toronto-x{n}.csv"
            rows = bench_scale.build(n, file)
            print(f"scale {n}: {rows:,} rows, {file.stat().st_size / 2**20:,.0f} MB CSV", flush=True)
            targets = [("sqlite", None)] + ([("pg", pg)] if pg else [])
            for name, url in targets:
                import resource

                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if url:
                    floor = bench_scale.floor_pg(file, url)["seconds"]
                    _fresh_schema(url)
                else:
                    floor = bench_scale.floor_sqlite(file, tmp)["seconds"]
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                floor_cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
                data_dir = tmp / f"data-{name}-x{n}"
                data_dir.mkdir()
                args = [sys.executable, __file__, "--stream-step", str(file), "--data-dir", str(data_dir)]
                args += (["--postgres", url] if url else [])
                args += (["--profile", str(Path(profile) / f"load-{name}-x{n}.prof")] if profile else [])
                out = subprocess.run(args, capture_output=True, text=True)
                if out.returncode:
                    raise SystemExit(out.stderr[-3000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
                alone = subprocess.run([sys.executable, __file__, "--read-only", str(file), "--data-dir", str(data_dir),
                                        "--dialect", "postgresql" if url else "sqlite"], capture_output=True, text=True)
                if alone.returncode:
                    raise SystemExit(alone.stderr[-3000:])
                ro = json.loads(alone.stdout.strip().splitlines()[-1])
                if profile and out.stderr.strip():
                    print(out.stderr.rstrip())
                shutil.rmtree(data_dir, ignore_errors=True)
                if url:
                    _fresh_schema(url)  # the loaded rows are not kept
                print(f"  {name:6s} floor {floor:6.2f} s | streamed load {r['seconds']:7.2f} s, "
                      f"{rows / r['seconds']:9,.0f} rows/s, peak {r['peak_mb']:5.0f} MB, "
                      f"{r['seconds'] / floor:4.1f}x the floor | inserted {r['rows']:,}", flush=True)
                print(f"         reading side alone (no database, one thread): {ro['seconds']:.2f} s = "
                      f"{ro['seconds'] / floor:.1f}x the floor (read {ro['read']:.2f}, check and key {ro['check']:.2f}, "
                      f"convert {ro['convert']:.2f} s)", flush=True)
                if url:
                    print(f"         cpu: load process {r['cpu_s']:.2f} s + its server process {r['server_cpu_s']:.2f} s "
                          "(the floor's is on the server, not measured)", flush=True)
                else:
                    print(f"         cpu: floor {floor_cpu:.2f} s, load {r['cpu_s']:.2f} s (all threads) = "
                          f"{r['cpu_s'] / floor_cpu:.1f}x the floor's", flush=True)
            file.unlink()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL URL (its tables are dropped!)")
    parser.add_argument("--stream", type=int, nargs="+", help="streamed loads of N x Toronto against the bulk floor")
    parser.add_argument("--profile", help="with --stream: a folder for each load's cProfile stats")
    parser.add_argument("--stream-step", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--read-only", help=argparse.SUPPRESS)
    parser.add_argument("--dialect", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_only:
        import json
        import os

        os.environ["LAWFUL_DATA_DIR"] = args.data_dir
        print(json.dumps(read_only(Path(args.read_only), args.dialect)))
        return
    if args.stream_step:
        import json

        print(json.dumps(stream_load(Path(args.stream_step), Path(args.data_dir), args.postgres, args.profile)))
        return
    if args.stream:
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
        main_stream(args.stream, args.postgres, args.profile)
        return
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
