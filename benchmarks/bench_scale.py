"""Agency scale: N x the Toronto data, loaded, fetched, backtested and on the trail, with time and peak memory.

    TMPDIR=/work/bench-tmp .venv/bin/python benchmarks/bench_scale.py --scale 1 3 [10] [--postgres URL]
    .venv/bin/python benchmarks/bench_scale.py --cluster          # 1 -> 2 Dask workers, per-job times, serial part
    python benchmarks/bench_scale.py --cluster --workers 16 8 4 2  # on a 16-core machine

For each scale N it writes one CSV of N jittered copies of train.csv + test.csv (each copy's points moved by up to
~50 m, so no two copies share a content key), then runs every step in a process of its own and reports the step's
wall time and that process's peak resident memory (getrusage ru_maxrss):
  floor-sqlite   `sqlite3 DB ".import --csv FILE t"`: the bulk floor on SQLite, same file, same run
  load-sqlite    the streamed, validated, projected, keyed load (incidents.stream.ingest_path) into a fresh store
  floor-pg       `psql -c "\\copy t FROM FILE CSV HEADER"` (with --postgres)
  load-pg        the same load into PostgreSQL (with --postgres)
  fetch          fetch_events(Break and Enter, 2019, local year): median of 5 (SQLite; and PostgreSQL); and the same
                 window as columns (store.fetch_window: no Python object per row)
  backtest       Break and Enter, every 28th day of 2019, naive + kde + sepp, 365-day window, 200 m cells, in-process
  trail          1,000 x N single-entry appends from 32 threads through group commit, then `verify` of the trail
and the growth exponent between consecutive scales (time ~ rows^k: k = 1 is linear).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

HERE = Path(__file__).resolve()
TORONTO_COLUMNS = ["occurrencedate", "occurrencehour", "premises_type", "occurrencemonth", "occurrencedayofweek", "MCI",
                   "Neighbourhood", "occurrenceday", "occurrencedayofyear", "Pub_Id", "Park_Id", "PS_Id", "Lat", "Long"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- building the data ------------------------------------------------------------------------------------------
def build(scale: int, out: Path) -> int:
    """N jittered copies of the Toronto files, one CSV; returns the rows."""
    import numpy as np
    import pandas as pd

    from lawful.incidents.datasets import toronto_paths

    with ExitStack() as stack:
        base = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in toronto_paths(stack)],
                         ignore_index=True)
    lat, lon = base["Lat"].astype(float).to_numpy(), base["Long"].astype(float).to_numpy()
    rng = np.random.default_rng(scale)
    with open(out, "w", newline="") as f:
        for k in range(scale):
            copy = base.copy()
            if k:  # copy 0 is the data itself
                copy["Lat"] = np.round(lat + rng.uniform(-4.5e-4, 4.5e-4, len(base)), 8).astype(str)
                copy["Long"] = np.round(lon + rng.uniform(-6e-4, 6e-4, len(base)), 8).astype(str)
            copy.to_csv(f, index=False, header=(k == 0))
    return len(base) * scale


# ---- steps, each in its own process -----------------------------------------------------------------------------
def _env(data_dir: Path, pg: str | None) -> None:
    os.environ["LAWFUL_DATA_DIR"] = str(data_dir)
    if pg:
        sep = "&" if "?" in pg else "?"
        os.environ["LAWFUL_DATABASE_URL"] = f"{pg}{sep}options=-csearch_path%3Dlawful_scale"
    else:
        os.environ.pop("LAWFUL_DATABASE_URL", None)


def step(name: str, file: Path, data_dir: Path, pg: str | None, scale: int) -> dict:
    _env(data_dir, pg)
    from lawful import db
    from lawful.settings import Settings

    settings = Settings.from_env()
    if name == "load":
        from lawful.incidents.datasets import toronto_mapping
        from lawful.incidents.stream import ingest_path

        db.upgrade(settings)
        engine = db.open_store(settings)
        t0 = time.perf_counter()
        with db.transaction(engine, settings=settings) as s:
            summary = ingest_path(s, path=file, mapping=toronto_mapping(), settings=settings, actor="bench")
        seconds = time.perf_counter() - t0
        engine.dispose()
        return {"seconds": seconds, "rows": summary.inserted, "quarantined": summary.quarantined_rows}
    if name == "fetch":
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from lawful.incidents.service import fetch_events

        tz = ZoneInfo("America/Toronto")
        engine = db.open_store(settings)
        times, n = [], 0
        with db.transaction(engine, readonly=True, settings=settings) as s:
            for _ in range(5):
                t0 = time.perf_counter()
                ev = fetch_events(s, category="Break and Enter", start=datetime(2019, 1, 1, tzinfo=tz),
                                  end=datetime(2020, 1, 1, tzinfo=tz))
                times.append(time.perf_counter() - t0)
                n = len(ev)
            from lawful.incidents.service import _bind_time
            from lawful.incidents.store import fetch_window

            dialect = s.get_bind().dialect.name
            lo, hi = (_bind_time(datetime(y, 1, 1, tzinfo=tz), dialect) for y in (2019, 2020))
            columns = []
            for _ in range(5):
                t0 = time.perf_counter()
                fetch_window(s, category="Break and Enter", lo=lo, hi=hi)
                columns.append(time.perf_counter() - t0)
        engine.dispose()
        return {"seconds": statistics.median(times), "rows": n, "columns_s": statistics.median(columns)}
    if name == "backtest":
        from datetime import date
        from zoneinfo import ZoneInfo

        from lawful.forecast.service import backtest

        engine = db.open_store(settings)
        t0 = time.perf_counter()
        with db.transaction(engine, readonly=True, settings=settings) as s:
            report = backtest(s, category="Break and Enter", start=date(2019, 1, 1), end=date(2019, 12, 31),
                              every_days=28, window_days=365, cell=200, models=["naive", "kde", "sepp"],
                              since=date(2014, 1, 1), tz=ZoneInfo("America/Toronto"))
        seconds = time.perf_counter() - t0
        engine.dispose()
        return {"seconds": seconds, "rows": int(report.events_scored), "events": len(report.data.events)}
    if name == "trail":
        import threading

        from lawful.trail import audit
        from lawful.trail.group import GroupCommitter

        store = db.Store(settings)
        committer = GroupCommitter(store)
        n, threads = 1000 * scale, 32
        each = n // threads
        t0 = time.perf_counter()

        def one(w: int) -> None:
            for i in range(each):
                committer.append(actor=f"a{w}", action="access.deny", obj=f"api:/x/{i}", purpose="api request",
                                 details={"i": i})

        ts = [threading.Thread(target=one, args=(w,)) for w in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        append_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        with store.transaction(readonly=True) as s:
            v = audit.verify(s, settings=settings)
        assert v.ok
        verify_s = time.perf_counter() - t1
        store.dispose()
        return {"seconds": append_s + verify_s, "rows": each * threads, "append_per_s": each * threads / append_s,
                "verify_entries": v.entries, "verify_s": verify_s}
    raise SystemExit(f"unknown step {name}")


def run_step(name: str, file: Path, data_dir: Path, pg: str | None, scale: int) -> dict:
    args = [sys.executable, str(HERE), "--step", name, "--file", str(file), "--data-dir", str(data_dir),
            "--scale-for-step", str(scale)] + (["--postgres", pg] if pg else [])
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"step {name} failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t0


def floor_sqlite(file: Path, tmp: Path) -> dict:
    db_path = tmp / "floor.db"
    db_path.unlink(missing_ok=True)
    seconds = timed(["sqlite3", str(db_path), ".import --csv " + str(file) + " t"])
    db_path.unlink()
    return {"seconds": seconds, "peak_mb": math.nan}


def floor_pg(file: Path, pg: str) -> dict:
    from sqlalchemy.engine import make_url

    u = make_url(pg)
    conn = ["psql", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
            "-d", u.database, "-v", "ON_ERROR_STOP=1", "-q"]
    cols = ", ".join(f'"{c}" text' for c in TORONTO_COLUMNS)
    subprocess.run(conn + ["-c", f"DROP TABLE IF EXISTS lawful_floor; CREATE TABLE lawful_floor ({cols})"],
                   check=True, capture_output=True)
    seconds = timed(conn + ["-c", f"\\copy lawful_floor FROM '{file}' CSV HEADER"])
    subprocess.run(conn + ["-c", "DROP TABLE lawful_floor"], check=True, capture_output=True)
    return {"seconds": seconds, "peak_mb": math.nan}


def fresh_pg_schema(pg: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(pg)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS lawful_scale CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA lawful_scale")
    engine.dispose()


def main_scales(scales: list[int], pg: str | None) -> None:
    print(f"machine: {machine()}")
    tmp_root = Path(tempfile.mkdtemp(prefix="lawful-scale-"))
    results: dict[int, dict[str, dict]] = {}
    try:
        for n in scales:
            file = tmp_root / f"toronto-x{n}.csv"
            t0 = time.perf_counter()
            rows = build(n, file)
            print(f"\nscale {n}: {rows:,} rows, {file.stat().st_size / 2**20:,.0f} MB CSV (built in "
                  f"{time.perf_counter() - t0:.0f} s)", flush=True)
            r: dict[str, dict] = {}
            data_dir = tmp_root / f"data-x{n}"
            data_dir.mkdir()
            r["floor-sqlite"] = floor_sqlite(file, tmp_root)
            r["load-sqlite"] = run_step("load", file, data_dir, None, n)
            r["fetch-sqlite"] = run_step("fetch", file, data_dir, None, n)
            r["backtest"] = run_step("backtest", file, data_dir, None, n)
            r["trail-sqlite"] = run_step("trail", file, data_dir, None, n)
            if pg:
                r["floor-pg"] = floor_pg(file, pg)
                fresh_pg_schema(pg)
                pg_dir = tmp_root / f"data-pg-x{n}"
                pg_dir.mkdir()
                r["load-pg"] = run_step("load", file, pg_dir, pg, n)
                r["fetch-pg"] = run_step("fetch", file, pg_dir, pg, n)
                r["trail-pg"] = run_step("trail", file, pg_dir, pg, n)
            for name, v in r.items():
                extra = ""
                if name.startswith("load-"):
                    floor = r["floor-" + name.split("-")[1]]["seconds"]
                    extra = f"  {rows / v['seconds']:,.0f} rows/s, {v['seconds'] / floor:.1f}x the bulk floor"
                if name.startswith("trail"):
                    extra = f"  {v['append_per_s']:,.0f} appends/s, verify {v['verify_entries']:,} in {v['verify_s']:.2f} s"
                if name.startswith("fetch"):
                    extra = f"  {v['rows']:,} events; as columns (store.fetch_window) {v['columns_s']:.3f} s"
                print(f"  {name:13s} {v['seconds']:8.2f} s  peak {v['peak_mb']:7.0f} MB{extra}", flush=True)
            results[n] = r
            file.unlink()
            shutil.rmtree(data_dir, ignore_errors=True)
        if len(scales) > 1:
            print("\ngrowth exponent k (time ~ rows^k) between scales:")
            for a, b in zip(scales, scales[1:]):
                parts = []
                for name in results[a]:
                    ta, tb = results[a][name]["seconds"], results[b][name]["seconds"]
                    parts.append(f"{name} {math.log(tb / ta) / math.log(b / a):.2f}")
                print(f"  {a}x -> {b}x: " + ", ".join(parts))
        print("\nJSON " + json.dumps(results))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def main_cluster(workers: list[int], models: str, every: int, in_process: bool = True) -> None:
    """The public protocol's backtest (Break and Enter, every 7th day of 2019) in-process and on 1 and 2 local
    Dask workers (processes, one thread each): wall time, per-job times, and the serial part."""
    from datetime import date
    from zoneinfo import ZoneInfo

    import distributed
    import numpy as np

    from lawful import db
    from lawful.forecast.executors import DaskExecutor, LocalExecutor
    from lawful.forecast.models import parse_models
    from lawful.forecast.service import backtest
    from lawful.incidents.datasets import load_toronto
    from lawful.settings import Settings

    print(f"machine: {machine()}")
    data_dir = Path(tempfile.mkdtemp(prefix="lawful-cluster-"))
    _env(data_dir, None)
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine, settings=settings) as s:
        load_toronto(s, settings=settings)
    names = parse_models(models)
    kw = dict(category="Break and Enter", start=date(2019, 1, 1), end=date(2019, 12, 31), every_days=every,
              window_days=365, cell=200, models=names, since=date(2014, 1, 1), tz=ZoneInfo("America/Toronto"))
    walls = {}

    def run(executor) -> float:
        t0 = time.perf_counter()
        with db.transaction(engine, readonly=True, settings=settings) as s:
            report = backtest(s, executor=executor, **kw)
        wall = time.perf_counter() - t0
        return wall, report

    for n in [0, *workers] if in_process else workers:
        if n == 0:
            wall, report = run(LocalExecutor())
            job_s = [r.fit_seconds + r.predict_seconds for r in report.results]
            label = "in-process"
            serial = wall - sum(job_s)
        else:
            with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                          dashboard_address=None) as cluster, distributed.Client(cluster) as client:
                # a fresh cluster's workers import Lawful, pandas and scikit-learn on their first job; a long-lived
                # cluster has done so already, so that first-job cost is measured apart (one day, every model)
                t_cold = time.perf_counter()
                with db.transaction(engine, readonly=True, settings=settings) as s:
                    backtest(s, executor=DaskExecutor(client=client),
                             **{**kw, "start": date(2019, 1, 7), "end": date(2019, 1, 8)})
                print(f"{n} worker(s): warm-up (one day, every model, workers importing) "
                      f"{time.perf_counter() - t_cold:.1f} s", flush=True)
                ex = DaskExecutor(client=client)
                wall, report = run(ex)
                job_s = ex.job_seconds
                label = f"{n} worker{'s' * (n > 1)}"
                serial = wall - sum(job_s) / n  # what the workers' share of the jobs does not explain
        walls[n] = wall
        print(f"{label:11s}: {wall:6.1f} s wall, {len(job_s)} jobs, job seconds sum {sum(job_s):6.1f}, "
              f"p50 {np.percentile(job_s, 50):.3f} p90 {np.percentile(job_s, 90):.3f} max {max(job_s):.3f}, "
              f"outside the jobs {serial:5.1f} s", flush=True)
        by_model: dict[str, list[float]] = {}  # results and job times are both in (model, day) order
        for r, s_ in zip(report.results, job_s):
            by_model.setdefault(r.model, []).append(s_)
        print("  per job, by model: " + ", ".join(f"{m} mean {np.mean(v):.3f} s (max {max(v):.3f})"
                                                  for m, v in by_model.items()))
    for n in workers:
        if 0 in walls:
            print(f"speed-up in-process -> {n} worker(s): {walls[0] / walls[n]:.2f}x")
    if 1 in walls and 2 in walls:
        print(f"1 -> 2 workers: {walls[1] / walls[2]:.2f}x")
    engine.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, nargs="+", default=[1, 3], help="the scales to run, e.g. 1 3 10")
    ap.add_argument("--postgres", help="also load into this PostgreSQL URL (schema lawful_scale is recreated)")
    ap.add_argument("--cluster", action="store_true", help="measure the backtest in-process and on local Dask workers")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="for --cluster: the worker counts to run, e.g. 16 8 4 2 on a 16-core machine (default 1 2)")
    ap.add_argument("--no-in-process", action="store_true", help="for --cluster: skip the in-process run")
    ap.add_argument("--models", default="all", help="models for --cluster (default: all, the public protocol)")
    ap.add_argument("--every", type=int, default=7, help="days between forecast days for --cluster (protocol: 7)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--scale-for-step", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        out = step(args.step, Path(args.file), Path(args.data_dir), args.postgres, args.scale_for_step)
        out["peak_mb"] = peak_mb()
        print(json.dumps(out))
    elif args.cluster:
        main_cluster(args.workers, args.models, args.every, in_process=not args.no_in_process)
    else:
        main_scales(args.scale, args.postgres)


if __name__ == "__main__":
    main()
