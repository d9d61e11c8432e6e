"""Decision-trail speed: appends per second with several writer processes, and entries verified per second.

    .venv/bin/python benchmarks/bench_trail.py [--postgres URL] [--writers 4] [--entries 20000]
    .venv/bin/python benchmarks/bench_trail.py --grouped-only --threads 16 64 128 --repeat 5   # the spread

Appends: each writer is its own process with its own connection, appending `--entries` / writers entries in
transactions of 1 entry (every append committed and its head signed) and of 10 (a gate call with its review and
data-access entries). Then the same single-entry appends from many threads of one process (the server's request threads), plain and
through group commit (lawful.trail.group: stand-alone entries batched into one transaction; issue 16, target
5,000/s on SQLite, 2,000/s on PostgreSQL). Verification: the pure verifier over entries in memory, and `lawful audit verify`'s path
(stream from the store + verify). Targets (issue 4): >= 5,000 appends/s, >= 500,000 entries verified/s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_postgres_env, fresh_sqlite_env, machine  # noqa: E402


def writer(n: int, per_tx: int, barrier) -> None:
    from lawful import db
    from lawful.trail import audit
    from lawful.settings import Settings

    settings = Settings.from_env()
    engine = db.open_store(settings)
    barrier.wait()
    for start in range(0, n, per_tx):
        with db.transaction(engine, settings=settings) as s:
            for i in range(start, min(n, start + per_tx)):
                audit.append(s, actor=f"analyst-{os.getpid()}", action="consultation", obj=f"incident:{i}",
                             purpose="investigation 2026-0412", details={"fields": ["category", "occurred_at"], "i": i})
    engine.dispose()


def appends(writers: int, total: int, per_tx: int) -> float:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers + 1)
    procs = [ctx.Process(target=writer, args=(total // writers, per_tx, barrier)) for _ in range(writers)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    return (total // writers * writers) / (time.perf_counter() - t0)


def threaded(threads: int, total: int, group: bool) -> tuple[float, int]:
    """Single-entry appends from `threads` threads of one process (the server's request threads), each entry a
    transaction of its own: plainly (one transaction each) or through group commit. Returns (entries/s, batches)."""
    import threading

    from lawful import db
    from lawful.settings import Settings
    from lawful.trail import audit
    from lawful.trail.group import GroupCommitter

    store = db.Store(Settings.from_env())
    committer = GroupCommitter(store)
    each = total // threads
    barrier = threading.Barrier(threads + 1)

    def one(w: int) -> None:
        barrier.wait()
        for i in range(each):
            entry = dict(actor=f"analyst-{w}", action="access.deny", obj=f"api:/incidents/{i}",
                         purpose="api request", details={"action": "GET /api/v1/incidents", "i": i})
            if group:
                committer.append(**entry)
            else:
                with store.transaction() as s:
                    audit.append(s, **entry)

    ts = [threading.Thread(target=one, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    rate = each * threads / (time.perf_counter() - t0)
    store.dispose()
    return rate, committer.batches


def verify_from_store(settings) -> None:
    """`lawful audit verify`'s path: stream the entries from the store, recompute the chain, check every checkpoint's
    signature (which sets the pace when checkpoints are many: one per transaction)."""
    from lawful import db
    from lawful.trail import audit

    engine = db.open_store(settings)
    with db.transaction(engine, readonly=True, settings=settings) as s:
        t0 = time.perf_counter()
        v = audit.verify(s, settings=settings)
        dt = time.perf_counter() - t0
    assert v.ok, v.first
    print(f"verify from the store (`lawful audit verify`): {v.entries:,} entries, {v.checkpoints:,} checkpoints in "
          f"{dt:.2f} s: {v.entries / dt:,.0f} entries/s")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", help="benchmark on this PostgreSQL URL (schema lawful_bench is recreated)")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--entries", type=int, default=20_000, help="entries appended per configuration")
    ap.add_argument("--threads", type=int, nargs="*", default=[16, 64],
                    help="thread counts for the single-process appends (plain and group commit)")
    ap.add_argument("--verify-entries", type=int, default=1_000_000, help="entries for the in-memory verify figure")
    ap.add_argument("--grouped-only", action="store_true",
                    help="only the group-commit figure for each --threads (no writer processes, no verify)")
    ap.add_argument("--repeat", type=int, default=1, help="with --grouped-only: runs per thread count (the spread)")
    args = ap.parse_args()
    fresh_postgres_env(args.postgres) if args.postgres else fresh_sqlite_env()
    from lawful import db
    from lawful.trail import audit, chain
    from lawful.trail.keys import signing_key
    from lawful.settings import Settings

    settings = Settings.from_env()
    db.upgrade(settings)
    signing_key(settings, create=True)  # created once, before the writers start
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"machine: {machine()}; store: {store}")
    if args.grouped_only:
        for threads in args.threads:
            for _ in range(max(1, args.repeat)):
                grouped, batches = threaded(threads, args.entries, group=True)
                print(f"group commit, {threads} threads: {grouped:,.0f} entries/s "
                      f"({args.entries // threads * threads / max(batches, 1):.1f} entries per transaction)", flush=True)
        verify_from_store(settings)  # a trail of group-committed entries: one checkpoint per batch
        return
    for per_tx in (1, 10):
        for w in sorted({1, args.writers}):
            rate = appends(w, args.entries, per_tx)
            print(f"appends: {w} writer(s), {per_tx} entr{'y' if per_tx == 1 else 'ies'} per transaction: "
                  f"{rate:,.0f} entries/s")

    for threads in args.threads:
        plain, _ = threaded(threads, args.entries // 4, group=False)
        grouped, batches = threaded(threads, args.entries, group=True)
        print(f"appends: {threads} threads of one process, 1 entry per transaction: {plain:,.0f} entries/s; with group "
              f"commit (trail.group): {grouped:,.0f} entries/s ({args.entries // threads * threads / max(batches, 1):.1f} "
              "entries per transaction)")

    verify_from_store(settings)

    key = signing_key(settings)
    entries, prev = [], chain.GENESIS
    for seq in range(1, args.verify_entries + 1):
        row = (seq, 1_790_000_000_000_000 + seq, "analyst-7", "consultation", f"incident:{seq}",
               "investigation 2026-0412", '{"fields":["category","occurred_at"],"i":%d}' % seq)
        own = chain.entry_hash(*row, prev)
        entries.append((*row, prev, own))
        prev = own
    head = entries[-1]
    cps = [(head[0], head[8], head[1], chain.key_id(key.public_key()), chain.sign_checkpoint(key, head[0], head[8], head[1]))]
    t0 = time.perf_counter()
    v = chain.verify(entries, cps, key.public_key())
    dt = time.perf_counter() - t0
    assert v.ok
    print(f"verify in memory (the chain check alone): {v.entries:,} entries in {dt:.2f} s: {v.entries / dt:,.0f} entries/s")


if __name__ == "__main__":
    main()
