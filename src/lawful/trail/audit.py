"""The decision trail: the only writer of `audit_entries`, its verifier and its exporter.

Appends within one transaction take a lock first (PostgreSQL: a transaction-scoped advisory lock; SQLite: the
write lock, which a writing transaction holds from BEGIN IMMEDIATE), so concurrent writers in any number of
processes form one unbroken chain. Before the transaction commits, the new head is signed (Ed25519) into
`audit_checkpoints`: the signed head always keeps up with the writes, so cutting entries off the end is detected.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.trail import chain
from lawful.trail.keys import public_pem, read_public_key, signing_key
from lawful.trail.models import Checkpoint, TrailEntry
from lawful.settings import Settings

# What the trail records (EU Law Enforcement Directive Art. 25 asks for the first six, with justification,
# time, user and recipient), then the governance events.
DATA_ACTIONS = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure")
ACTIONS = DATA_ACTIONS + (
    "development",  # backtests and analyses: logged, never operational
    "user.create", "model.register", "model.attach", "model.submit", "model.approve", "model.refuse",
    "model.activate", "model.suspend", "model.reinstate", "model.retire", "gate.refuse", "output.issue",
    "review.decide", "incident.record", "incident.report", "config.change", "audit.export", "access.deny", "user.sign-in", "user.token", "user.revoke", "user.enrol", "user.disable", "user.reset", "user.roles",
)

_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.lawful_audit_entries'))")


def _refuse_controls(**fields: str) -> None:
    for name, value in fields.items():
        if any(ord(c) < 32 for c in value):
            raise LawfulError(f"the trail's {name} field may not contain control characters: {value!r}",
                              "remove tabs, newlines and other control characters from it")


def append(session: Session, *, actor: str, action: str, obj: str, purpose: str = "",
           details: dict | None = None) -> int:
    """Add one entry to the trail in the caller's transaction; returns its sequence number."""
    if action not in ACTIONS:
        raise ValueError(f"unknown trail action {action!r}")
    if session.info.get("readonly"):
        raise RuntimeError("a read-only transaction cannot write the trail; open a short writing one for the entry")
    _refuse_controls(actor=actor, object=obj, purpose=purpose)
    head = session.info.get("trail_head")
    if head is None:
        head = _lock_and_read_head(session)
    seq = head[0] + 1
    at_us = time.time_ns() // 1000
    details_text = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    own = chain.entry_hash(seq, at_us, actor, action, obj, purpose, details_text, head[1])
    session.connection().execute(_INSERT_ENTRY, {"seq": seq, "at_us": at_us, "actor": actor, "action": action,
                                                 "object": obj, "purpose": purpose, "details": details_text,
                                                 "prev_hash": head[1], "hash": own})
    session.info["trail_head"] = (seq, own, at_us)
    return seq


# Prepared once: compiled statements are cached, which is most of an append's cost otherwise.
_INSERT_ENTRY = TrailEntry.__table__.insert()
_INSERT_CHECKPOINT = Checkpoint.__table__.insert()
_HEAD = select(TrailEntry.seq, TrailEntry.hash, TrailEntry.at_us).order_by(TrailEntry.seq.desc()).limit(1)


def _lock_and_read_head(session: Session) -> tuple[int, str, int]:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_SQL)
    row = conn.execute(_HEAD).first()
    return (row.seq, row.hash, row.at_us) if row else (0, chain.GENESIS, 0)


@event.listens_for(Session, "before_commit")  # once for every session: per-session listeners cost 0.3 ms each
def _sign_head(session: Session) -> None:
    head = session.info.pop("trail_head", None)
    if head is None:
        return
    seq, own, at_us = head
    settings = session.info.get("settings") or Settings.from_env()
    key = signing_key(settings)
    checkpoint = {"seq": seq, "hash": own, "at_us": at_us, "key_id": _key_id(key),
                  "signature": chain.sign_checkpoint(key, seq, own, at_us)}
    session.connection().execute(_INSERT_CHECKPOINT, checkpoint)
    session.info["signed_head"] = (head_path(settings), checkpoint)  # written outside the database once committed


@event.listens_for(Session, "after_commit")
def _write_head_file(session: Session) -> None:
    pending = session.info.pop("signed_head", None)
    if pending:
        _advance_head_file(*pending)


def head_path(settings: Settings) -> Path:
    """The newest signed head, kept beside the signing key: someone who can rewrite the database (entries and
    checkpoints alike) but not this directory still cannot cut entries off the end unnoticed."""
    return settings.audit_key_path.with_name(settings.audit_key_path.stem + "-head.json")


_HEAD_LOCKS: dict[Path, int] = {}  # one open lock file per head file per process


def _advance_head_file(path: Path, checkpoint: dict) -> None:
    """Replace the head file if this checkpoint is newer; several processes may race, the newest wins.
    Written to a temporary file and renamed, so a crash never leaves half a head."""
    lock = _HEAD_LOCKS.get(path)
    if lock is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = _HEAD_LOCKS[path] = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        current = read_head_file(path)
        if current is not None and current["seq"] >= checkpoint["seq"]:
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(checkpoint).encode())
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def read_head_file(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, OSError) as exc:
        raise LawfulError(f"the signed head file {path} is unreadable: {exc}",
                          "restore it from backup; it holds the newest signed checkpoint") from None


@lru_cache(maxsize=8)
def _key_id(key) -> str:
    return chain.key_id(key.public_key())


@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, _previous_transaction) -> None:
    session.info.pop("trail_head", None)  # the next transaction must lock and read the head again
    session.info.pop("signed_head", None)


# ---- reading ---------------------------------------------------------------------------------------------------


def iter_entries(session: Session, batch: int = 20_000) -> Iterator[tuple]:
    """Every entry in sequence order, streamed (memory stays flat on a long trail).

    Reads through the driver's own cursor: SQLAlchemy's row objects cost more than the hashing they feed.
    """
    conn = session.connection()
    raw = conn.connection.driver_connection
    cur = raw.cursor(name="lawful_trail") if conn.dialect.name == "postgresql" else raw.cursor()  # server-side on PG
    try:
        cur.execute("SELECT seq, at_us, actor, action, object, purpose, details, prev_hash, hash "
                    "FROM audit_entries ORDER BY seq")
        while rows := cur.fetchmany(batch):
            yield from rows
    finally:
        cur.close()


def get_checkpoints(session: Session) -> list[tuple]:
    """(seq, hash, at_us, key_id, signature) of every checkpoint, in sequence order."""
    cur = session.connection().connection.driver_connection.cursor()
    try:
        cur.execute("SELECT seq, hash, at_us, key_id, signature FROM audit_checkpoints ORDER BY seq")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def get_all(session: Session, *, action: str | None = None, obj: str | None = None, actor: str | None = None,
            limit: int = 50) -> list[TrailEntry]:
    """The newest entries, optionally filtered."""
    q = select(TrailEntry).order_by(TrailEntry.seq.desc()).limit(limit)
    if action:
        q = q.where(TrailEntry.action == action)
    if obj:
        q = q.where(TrailEntry.object == obj)
    if actor:
        q = q.where(TrailEntry.actor == actor)
    return list(session.scalars(q))


def verify(session: Session, *, settings: Settings, public_key_path: Path | None = None) -> chain.Verification:
    """Recompute every hash and check every signed checkpoint with the public key."""
    key = read_public_key(public_key_path) if public_key_path else signing_key(settings).public_key()
    return chain.verify(iter_entries(session), all_checkpoints(session, settings), key)


def all_checkpoints(session: Session, settings: Settings) -> list[tuple]:
    """The database's checkpoints plus the head file's, if it is newer than any of them."""
    cps = get_checkpoints(session)
    head = read_head_file(head_path(settings))
    if head and (not cps or head["seq"] > cps[-1][0]):
        cps.append((head["seq"], head["hash"], head["at_us"], head["key_id"], head["signature"]))
    return cps


# ---- export ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bundle:
    path: Path
    entries: int
    checkpoints: int
    head_seq: int
    head_hash: str


VERIFY_PY = '''"""Verify a Lawful trail export with the public key alone: python verify.py [--public-key trail.pub]

Needs Python 3.10+ and the `cryptography` package; not Lawful. lawful_chain.py is Lawful's own verifier, copied.
"""
import argparse
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))  # lawful_chain.py sits next to this file, wherever it is run from
import lawful_chain  # noqa: E402
parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--public-key", type=Path, default=here / "trail.pub",
                    help="the trail's Ed25519 public key (PEM); obtain it from the agency, not only from this bundle")
args = parser.parse_args()
key = load_pem_public_key(args.public_key.read_bytes())
fields = ("seq", "at_us", "actor", "action", "object", "purpose", "details", "prev_hash", "hash")


def entries():
    with open(here / "entries.jsonl", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            yield tuple(e[k] for k in fields)


with open(here / "checkpoints.jsonl", encoding="utf-8") as f:
    checkpoints = [tuple(c[k] for k in ("seq", "hash", "at_us", "key_id", "signature")) for c in map(json.loads, f)]
v = lawful_chain.verify(entries(), checkpoints, key)
if v.ok:
    print(f"OK: {v.entries} entries, head {v.head_seq} {v.head_hash}, {v.checkpoints} signed checkpoints")
    sys.exit(0)
for p in sorted(v.problems, key=lambda p: p.seq):
    print(f"entry {p.seq}: {p.kind}: {p.text}")
sys.exit(1)
'''


def export(session: Session, *, settings: Settings, out_dir: Path) -> Bundle:
    """Write entries, checkpoints, the public key and a stand-alone verifier into out_dir."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise LawfulError(f"{out_dir} is not empty", "give a new or empty directory for the bundle")
    out_dir.mkdir(parents=True, exist_ok=True)
    fields = ("seq", "at_us", "actor", "action", "object", "purpose", "details", "prev_hash", "hash")
    n = 0
    head = (0, chain.GENESIS)
    with open(out_dir / "entries.jsonl", "w", encoding="utf-8") as f:
        for row in iter_entries(session):
            f.write(json.dumps(dict(zip(fields, row)), ensure_ascii=False) + "\n")
            n, head = n + 1, (row[0], row[8])
    cps = all_checkpoints(session, settings)
    with open(out_dir / "checkpoints.jsonl", "w", encoding="utf-8") as f:
        for c in cps:
            f.write(json.dumps(dict(zip(("seq", "hash", "at_us", "key_id", "signature"), c))) + "\n")
    (out_dir / "trail.pub").write_bytes(public_pem(signing_key(settings).public_key()))
    (out_dir / "lawful_chain.py").write_text(inspect.getsource(chain))
    (out_dir / "verify.py").write_text(VERIFY_PY)
    (out_dir / "README.txt").write_text(
        "Lawful decision-trail export.\n\n"
        f"{n} entries (head {head[0]}: {head[1]}), {len(cps)} signed checkpoints.\n\n"
        "Verify with the agency's public key, obtained separately:\n"
        "    pip install cryptography\n    python verify.py --public-key trail.pub\n\n"
        "The encoding is described at the top of lawful_chain.py; you can re-implement it from that text alone.\n")
    return Bundle(out_dir, n, len(cps), head[0], head[1])
