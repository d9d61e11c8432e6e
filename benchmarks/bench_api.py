"""The door under load: 50 concurrent clients on loopback reading the review queue, a forecast output, the trail
log and the incident stats through `lawful serve` (real uvicorn, real HTTP, every request authenticated, decided
and written to the trail). Bounded in count and time.

    .venv/bin/python benchmarks/bench_api.py [--clients 50] [--requests 3000] [--seconds 60] [--postgres URL]

Prints p50 / p99 latency and requests/s per endpoint and overall. Target (issue 12): p99 under 100 ms on SQLite.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_postgres_env, fresh_sqlite_env, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROWS = ["id,offence,when,lat,lon,hood,premises"] + [
    f"B{i},Break and Enter,2019-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:15,{43.60 + (i % 37) * 0.004:.4f},"
    f"{-79.50 + (i % 41) * 0.005:.4f},Area{i % 9},House" for i in range(3000)]
MAPPING = """
[source]
name = "bench"
timezone = "America/Toronto"
crs = "EPSG:4326"
classification = "internal"
retention_days = 3650
[key]
column = "id"
[fields]
category = "offence"
lat = "lat"
lon = "lon"
area_code = "hood"
premises_type = "premises"
occurred_at = { column = "when", format = "%Y-%m-%d %H:%M" }
[categories]
allowed = ["Break and Enter"]
"""


def setup(tmp: Path) -> dict[str, str]:
    """Store, incidents and people, made by the operator through the services."""
    from lawful import db
    from lawful.access.credentials import create_api_token
    from lawful.access.service import Actor, create
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file
    from lawful.settings import Settings

    settings = Settings.from_env()
    db.upgrade(settings)
    (tmp / "b.csv").write_text("\n".join(ROWS) + "\n")
    (tmp / "m.toml").write_text(MAPPING)
    engine = db.open_store(settings)
    tokens = {}
    with db.transaction(engine, settings=settings) as s:
        ingest_file(s, path=tmp / "b.csv", mapping=load_mapping(tmp / "m.toml"), settings=settings, actor="operator")
        create(s, creator=None, name="root", roles=["admin"], first_admin=True, password="correct horse battery")
        root = Actor("root", frozenset({"admin"}), "internal")
        for name, roles in (("ana", ["analyst"]), ("sue", ["supervisor"]), ("aud", ["auditor"])):
            create(s, creator=root, name=name, roles=roles)
            tokens[name] = create_api_token(s, actor=Actor(name, frozenset(roles), "internal"), label="bench", days=1)
    engine.dispose()
    for p in [settings.data_dir, *settings.data_dir.rglob("*")]:
        if settings.data_dir.exists():
            p.chmod(0o700 if p.is_dir() else 0o600)
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--postgres")
    args = ap.parse_args()
    tmp = fresh_sqlite_env()
    if args.postgres:
        fresh_postgres_env(args.postgres)
    tokens = setup(tmp)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "lawful.cli", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"), env=os.environ.copy(),
                              text=True)  # the server's own log, for the errors a client sees only as 503
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = lambda who: {"Authorization": f"Bearer {tokens[who]}"}  # noqa: E731
        floor = load(base, [("/health (no auth, no store)", "GET", "/health", None)], args, auth)
        plan = [("review queue", "GET", "/api/v1/review/outputs", "sue"),
                ("trail log", "GET", "/api/v1/audit/log?limit=20", "aud"),
                ("incident stats", "GET", "/api/v1/incidents/stats", "ana"),
                ("whoami", "GET", "/api/v1/me", "ana")]
        main_run = load(base, plan, args, auth)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"machine: {machine()}; store: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.clients} clients on "
          "the same machine as the server")
    for label, (times, errors, wall) in (("floor: the framework alone", floor), ("the door", main_run)):
        every = [x for v in times.values() for x in v]
        print(f"{label}: {len(every)} requests in {wall:.1f} s, {len(every) / wall:.0f} requests/s; errors: "
              f"{len(errors)}")
        for name, v in [*times.items(), *([("all", every)] if len(times) > 1 else [])]:
            if v:
                q = statistics.quantiles(v, n=100)
                print(f"  {name:28s} n={len(v):5d}  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms")
        for e in errors[:5]:
            print("  error:", e)
    log = (tmp / "server.log").read_text().splitlines()
    if log:
        print(f"server log ({tmp / 'server.log'}): {len(log)} lines; first: {log[0][:300]}")
    print("target (issue 12): p99 < 100 ms on SQLite")


def load(base: str, plan, args, auth):
    """`args.clients` threads, each with its own keep-alive connection, round-robin over the plan, until
    `args.requests` have been sent or `args.seconds` have passed."""
    times: dict[str, list[float]] = {p[0]: [] for p in plan}
    errors: list[str] = []
    lock = threading.Lock()
    issued = [0]
    deadline = time.perf_counter() + args.seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            i = k
            while time.perf_counter() < deadline:
                with lock:
                    if issued[0] >= args.requests:
                        return
                    issued[0] += 1
                name, method, path, who = plan[i % len(plan)]
                i += 1
                t0 = time.perf_counter()
                r = http.request(method, path, headers=auth(who) if who else {})
                dt = time.perf_counter() - t0
                with lock:
                    times[name].append(dt)
                    if r.status_code != 200:
                        errors.append(f"{name}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors, time.perf_counter() - t0


if __name__ == "__main__":
    main()
