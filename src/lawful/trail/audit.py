"""The decision trail: the only writer of `audit_entries`, and its verifier (export and witness: export.py, witness.py).

Appends within one transaction take a lock first (PostgreSQL: a transaction-scoped advisory lock; SQLite: the
write lock, which a writing transaction holds from BEGIN IMMEDIATE), so concurrent writers in any number of
processes form one unbroken chain. Before the transaction commits, the new head is signed (Ed25519) into
`audit_checkpoints`: the signed head always keeps up with the writes, so cutting entries off the end is detected.

The writer fails closed: before it signs, it checks that the chain it is about to sign extends the last head it
signed (the head file beside the key, the newest checkpoint in the database, and the last head this process
signed), and that it is signing with the trail's key. If not, it refuses, the transaction rolls back, and the error
says the trail needs an auditor. The check is cheap: normally the last signed head is the entry the transaction
read as its head under the lock, so it costs one more indexed read (the newest checkpoint) and a small file read.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from sqlalchemy import bindparam, event, select, text
from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.trail import chain, keys
from lawful.trail.keys import read_public_key, signing_key
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
    chain.KEY_ACTION,  # the trail handed over to a new signing key (rotate_key)
)

_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.lawful_audit_entries'))")


_CONTROL = re.compile("[\x00-\x1f]")  # one C scan: a per-character loop cost more than the hashing (issue 16)


def _refuse_controls(**fields: str) -> None:
    for name, value in fields.items():
        if _CONTROL.search(value):
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
        head = session.info["trail_base"] = _lock_and_read_head(session)
    seq = head[0] + 1
    at_us = time.time_ns() // 1000
    details_text = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    own = chain.entry_hash(seq, at_us, actor, action, obj, purpose, details_text, head[1])
    session.connection().execute(_INSERT_ENTRY, {"seq": seq, "at_us": at_us, "actor": actor, "action": action,
                                                 "object": obj, "purpose": purpose, "details": details_text,
                                                 "prev_hash": head[1], "hash": own})
    session.info["trail_head"] = (seq, own, at_us)
    return seq


def append_many(session: Session, entries: list[dict]) -> list[int]:
    """Add several entries (each the keyword arguments of `append`) to the trail in the caller's transaction, chained
    in order and inserted in one statement; returns their sequence numbers. Every entry is checked before any is
    written, so a bad one writes none. What group commit (trail.group) writes for a batch of callers."""
    for e in entries:
        if e["action"] not in ACTIONS:
            raise ValueError(f"unknown trail action {e['action']!r}")
        _refuse_controls(actor=e["actor"], object=e["obj"], purpose=e.get("purpose", ""))
    if session.info.get("readonly"):
        raise RuntimeError("a read-only transaction cannot write the trail; open a short writing one for the entry")
    if not entries:
        return []
    head = session.info.get("trail_head")
    if head is None:
        head = session.info["trail_base"] = _lock_and_read_head(session)
    seq, prev = head[0], head[1]
    rows, seqs = [], []
    for e in entries:
        seq += 1
        at_us = max(time.time_ns() // 1000, head[2])  # never before the entry it follows
        purpose = e.get("purpose", "")
        details_text = json.dumps(e.get("details") or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                  default=str)
        own = chain.entry_hash(seq, at_us, e["actor"], e["action"], e["obj"], purpose, details_text, prev)
        rows.append({"seq": seq, "at_us": at_us, "actor": e["actor"], "action": e["action"], "object": e["obj"],
                     "purpose": purpose, "details": details_text, "prev_hash": prev, "hash": own})
        seqs.append(seq)
        prev, head = own, (seq, own, at_us)
    session.connection().execute(_INSERT_ENTRY, rows)
    session.info["trail_head"] = head
    return seqs


# Prepared once: compiled statements are cached, which is most of an append's cost otherwise.
_INSERT_ENTRY = TrailEntry.__table__.insert()
_INSERT_CHECKPOINT = Checkpoint.__table__.insert()
_HEAD = select(TrailEntry.seq, TrailEntry.hash, TrailEntry.at_us).order_by(TrailEntry.seq.desc()).limit(1)
_NEWEST_CHECKPOINT = select(Checkpoint.seq, Checkpoint.hash, Checkpoint.at_us, Checkpoint.key_id,
                            Checkpoint.signature).order_by(Checkpoint.seq.desc()).limit(1)
_ANY_CHECKPOINT = select(Checkpoint.seq).limit(1)
_ENTRY = select(TrailEntry.hash, TrailEntry.action, TrailEntry.details).where(TrailEntry.seq == bindparam("seq"))


def _lock_and_read_head(session: Session) -> tuple[int, str, int]:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_SQL)
    row = conn.execute(_HEAD).first()
    return (row.seq, row.hash, row.at_us) if row else (0, chain.GENESIS, 0)


class TrailRefused(LawfulError):
    """The writer will not sign: the history it would sign does not extend the last head it signed, or the key is
    not the trail's. The transaction is rolled back; an auditor must look before the trail is written again."""

    kind = "conflict"

    def __init__(self, reason: str):
        super().__init__(f"the decision trail refuses to sign: {reason}. Nothing was written; the trail needs an "
                         "auditor", "an auditor runs `lawful audit verify` (it still answers while the trail refuses) "
                         "and follows docs/governance.md ('When the trail refuses')")


class HeadFileNotUpdated(LawfulError):
    """Raised after the commit: the work is saved and signed in the database, only the head file lags."""

    kind = "unavailable"
    committed = True


# The last head each process signed and committed, per (database, key): an attacker who rewrites the database
# between two appends of a long-running server is caught even if he also deletes checkpoints and the head file.
_SIGNED: dict[tuple[str, Path], dict] = {}
_GOOD_SIGNATURES: set[tuple] = set()  # checkpoints already verified by this process (bounded below)


@event.listens_for(Session, "before_commit")  # once for every session: per-session listeners cost 0.3 ms each
def _sign_head(session: Session) -> None:
    head = session.info.pop("trail_head", None)
    if head is None:
        return
    base = session.info.pop("trail_base")
    rotation = session.info.pop("trail_rotation", None)
    seq, own, at_us = head
    settings = session.info.get("settings") or Settings.from_env()
    conn = session.connection()
    memo = (str(conn.engine.url), settings.audit_key_path)
    key = _check_extends(conn, settings, memo, base)
    checkpoint = {"seq": seq, "hash": own, "at_us": at_us, "key_id": _key_id(key),
                  "signature": chain.sign_checkpoint(key, seq, own, at_us)}
    conn.execute(_INSERT_CHECKPOINT, checkpoint)
    record = dict(checkpoint)
    if rotation is not None:
        if rotation["seq"] != seq:
            raise RuntimeError("a key change must be the last entry of its transaction")
        record["next_key_id"] = rotation["key_id"]
    # written outside the database once committed (see _write_head_file for why not before)
    session.info["signed_head"] = (memo, head_path(settings), record, rotation, settings)


def _check_extends(conn, settings: Settings, memo: tuple, base: tuple) -> object:
    """The signing key, once the chain about to be signed is known to extend the last signed head; else refuse."""
    from_file = _head_file_now(head_path(settings))
    newest = conn.execute(_NEWEST_CHECKPOINT).first()
    remembered = _SIGNED.get(memo)
    begun = base[0] > 0 or from_file is not None or newest is not None or remembered is not None
    if not settings.audit_key_path.exists() and settings.audit_key_path not in keys._LOADED and begun:
        raise LawfulError(f"the trail signing key {settings.audit_key_path} is missing, but the trail has already "
                          "begun; Lawful never starts a new key for an existing trail, so nothing was written",
                          "restore the key (and the .pub beside it) from backup; if it is lost for good, an auditor "
                          "decides how to go on (docs/governance.md, 'When the trail refuses')", kind="unavailable")
    key = signing_key(settings, create=not begun)
    kid = _key_id(key)
    if not begun:
        return key  # a new trail: its first checkpoint pins this key
    anchors = []  # (seq, hash, key in force after it, signer, where)
    if remembered:
        anchors.append((remembered["seq"], remembered["hash"], remembered.get("next_key_id") or remembered["key_id"],
                        remembered["key_id"], "the last head this process signed"))
    if from_file and from_file["key_id"] == kid:
        # The head file sits beside the key, as well guarded: whoever can write it can read the key. Its own
        # signature is left to verification; trusting it spares a signature check per append with many writers.
        _remember_good(_fact(from_file))
    for where, c in (("the head file", from_file), ("the newest checkpoint", newest and newest._asdict())):
        if c:
            signer = _verified_signer(settings, c, key, kid, where)
            # the key in force after this head: a key change it signs hands over to the new key, whether or not the
            # head file (which says so as next_key_id) was written before the change was interrupted
            after = c.get("next_key_id") or _handed_to(conn, c["seq"], signer) or signer
            anchors.append((c["seq"], c["hash"], after, signer, where))
    if not anchors:
        raise TrailRefused(f"the trail has {base[0]} entries but no signed head to check them against "
                           "(its checkpoints were deleted)")
    by_seq: dict[int, tuple] = {}
    for a in anchors:
        other = by_seq.setdefault(a[0], a)
        if other[1] != a[1]:
            raise TrailRefused(f"{other[4]} and {a[4]} sign different hashes for entry {a[0]}")
    top = max(anchors, key=lambda a: (a[0], a[2] != a[3]))  # at one entry, prefer the record naming a key change
    if top[0] > base[0]:
        raise TrailRefused(f"{top[4]} signed entry {top[0]}, but the trail now ends at entry {base[0]}: entries "
                           "were removed")
    if top[0] == base[0]:
        if top[1] != base[1]:
            raise TrailRefused(f"entry {top[0]} no longer has the hash {top[4]} signed: the history was rewritten")
    else:
        # Every transaction that writes entries signs its head as it commits (group commit included), so entries
        # after the newest signed head were written by someone without the key: a plain INSERT that chains
        # correctly needs no secret. Signing over them would make them authentic; the trail refuses instead.
        raise TrailRefused(f"entries {top[0] + 1} to {base[0]} come after the newest signed head ({top[4]}, entry "
                           f"{top[0]}) but were never signed: they were written without the trail's key")
    if top[2] != kid:
        entry = conn.execute(_ENTRY, {"seq": top[0]}).first()
        if not _hands_over(entry, top[3], kid):
            raise TrailRefused(f"the trail's key is {top[2]} ({top[4]}, entry {top[0]}), but the signing key "
                               f"{settings.audit_key_path} is {kid}: the key file was replaced (restore the right "
                               f"key from backup; if a key change was interrupted, move {keys.next_path(settings)} "
                               "into place)")
    return key


def _handed_to(conn, seq: int, signer: str) -> str | None:
    """The key a trail.key entry at `seq`, signed by `signer`, hands the trail to (None if it is not one)."""
    return _hand_over(conn.execute(_ENTRY, {"seq": seq}).first(), signer)


def _hand_over(entry, from_kid: str) -> str | None:
    """The key_id a trail.key entry hands the trail to from `from_kid` (None if it is not such an entry)."""
    if entry is None or entry.action != chain.KEY_ACTION:
        return None
    try:
        d = json.loads(entry.details)
    except ValueError:
        return None
    return d.get("key_id") if d.get("from_key_id") == from_kid else None


def _hands_over(entry, from_kid: str, to_kid: str) -> bool:
    return _hand_over(entry, from_kid) == to_kid


def _verified_signer(settings: Settings, c: dict, key, kid: str, where: str) -> str:
    """The key_id of a signed head's signer, once its signature is checked: this key, or one it replaced."""
    fact = _fact(c)
    if fact in _GOOD_SIGNATURES:
        return c["key_id"]
    public = key.public_key() if c["key_id"] == kid else keys.retired_public_key(settings, c["key_id"])
    if public is None:
        raise TrailRefused(f"{where} (entry {c['seq']}) is signed by key {c['key_id']}, but the signing key "
                           f"{settings.audit_key_path} is {kid} and no key change retired {c['key_id']} here: the key "
                           "file was replaced (restore the right key from backup)")
    if not chain.signature_ok(public, c["seq"], c["hash"], c["at_us"], c["signature"]):
        raise TrailRefused(f"{where} (entry {c['seq']}) has an invalid signature")
    _remember_good(fact)
    return c["key_id"]


def _fact(c: dict) -> tuple:
    return (c["seq"], c["hash"], c["at_us"], c["key_id"], c["signature"])


def _remember_good(fact: tuple) -> None:
    """Signatures this process made or checked: the next append finds its own head signed and skips the check."""
    if len(_GOOD_SIGNATURES) > 4096:
        _GOOD_SIGNATURES.clear()
    _GOOD_SIGNATURES.add(fact)


@event.listens_for(Session, "after_commit")
def _write_head_file(session: Session) -> None:
    """After the commit, the head file moves forward. Not before: a head file ahead of the database (after a crash
    or a failed commit between the two) would look exactly like entries cut off, and stop the trail for nothing.
    A head file behind is safe: the writer also checks the newest checkpoint and the next write catches it up.
    A failure here says that the work was committed; it never looks like a failure of the work itself."""
    pending = session.info.pop("signed_head", None)
    if not pending:
        return
    memo, path, record, rotation, settings = pending
    if record["seq"] > _SIGNED.get(memo, {"seq": 0})["seq"]:
        _SIGNED[memo] = record
    _remember_good(_fact(record))
    problem = None
    try:
        _advance_head_file(path, record)
    except OSError as exc:
        problem = f"the trail's head file {path} could not be updated ({exc.strerror or exc})"
    if rotation is not None:
        try:
            keys.install_next(settings, rotation["old"], rotation["from_key_id"])
        except (OSError, LawfulError) as exc:
            raise HeadFileNotUpdated(
                f"committed: the key change is entry {record['seq']}, signed by the old key, but the new key could "
                f"not be put in place ({exc})", f"move {keys.next_path(settings)} to {settings.audit_key_path} by "
                "hand; until then the trail refuses to sign") from None
    if problem:
        raise HeadFileNotUpdated(
            f"committed: the work and its trail entries up to {record['seq']} are saved and signed in the database, "
            f"but {problem}", f"make {path.parent} writable and give it free space; the next trail write brings the "
            "head file up to date (until then only the database and the witness hold the newest signed head)")


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
    # flock excludes other processes only: threads of one process share the descriptor, so the server's request
    # threads also take a thread lock (without it they raced on the one temporary file).
    with _HEAD_THREAD_LOCK:
        _advance_locked(path, lock, checkpoint)


_HEAD_THREAD_LOCK = threading.Lock()


def _advance_locked(path: Path, lock: int, checkpoint: dict) -> None:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        current = read_head_file(path)
        if current is not None and current["seq"] >= checkpoint["seq"]:
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.write(fd, json.dumps(checkpoint).encode())
            finally:
                os.close(fd)
            os.replace(tmp, path)
            _HEAD_SEEN[path] = (_stat_key(path), checkpoint)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


_HEAD_SEEN: dict[Path, tuple] = {}  # the head file as this process last wrote or read it, by its stat


def _stat_key(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _head_file_now(path: Path) -> dict | None:
    """read_head_file, without reading a file that has not changed since (a stat instead of a read and a parse)."""
    key = _stat_key(path)
    seen = _HEAD_SEEN.get(path)
    if key is not None and seen is not None and seen[0] == key:
        return seen[1]
    head = read_head_file(path)
    if head is not None:
        _HEAD_SEEN[path] = (key, head)
    return head


def read_head_file(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (json.JSONDecodeError, OSError) as exc:
        raise LawfulError(f"the signed head file {path} is unreadable: {exc}",
                          "restore it from backup; it holds the newest signed checkpoint") from None


@lru_cache(maxsize=8)
def _key_id(key) -> str:
    return chain.key_id(key.public_key())


@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, _previous_transaction) -> None:
    for name in ("trail_head", "trail_base", "trail_rotation", "signed_head"):
        session.info.pop(name, None)  # the next transaction must lock and read the head again


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
            limit: int = 50, since: datetime | None = None, until: datetime | None = None) -> list[TrailEntry]:
    """The newest entries, optionally filtered; since (inclusive) and until (exclusive) bound the time recorded
    (a naive datetime is UTC)."""
    q = select(TrailEntry).order_by(TrailEntry.seq.desc()).limit(limit)
    if since is not None:
        q = q.where(TrailEntry.at_us >= _micros(since))
    if until is not None:
        q = q.where(TrailEntry.at_us < _micros(until))
    if action:
        q = q.where(TrailEntry.action == action)
    if obj:
        q = q.where(TrailEntry.object == obj)
    if actor:
        q = q.where(TrailEntry.actor == actor)
    return list(session.scalars(q))


def _micros(t: datetime) -> int:
    """Microseconds since the epoch, as entries record their time (a naive datetime is UTC)."""
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def verify(session: Session, *, settings: Settings, public_key_path: Path | None = None,
           witness: Path | None = None) -> chain.Verification:
    """Recompute every hash and check every signed head (the database's checkpoints, the head file, and the heads
    published to a witness) against the key the trail was started with: public_key_path, or the local record of it."""
    key = read_public_key(public_key_path) if public_key_path else keys.trust_anchor(settings)
    cps = all_checkpoints(session, settings)
    if witness is not None:
        try:
            cps += chain.read_witness(witness)
        except ValueError as exc:
            raise LawfulError(str(exc), "give the file or directory `lawful admin witness` wrote to") from None
    return chain.verify(iter_entries(session), cps, key)


def all_checkpoints(session: Session, settings: Settings) -> list[tuple]:
    """The database's checkpoints, plus the head file's unless it is exactly one of them."""
    cps = get_checkpoints(session)
    head = read_head_file(head_path(settings))
    if head:
        fact = (head["seq"], head["hash"], head["at_us"], head["key_id"], head["signature"])
        if not any(tuple(c) == fact for c in cps[-3:]) and fact not in set(map(tuple, cps)):
            cps.append((*fact, "head-file checkpoint"))
    return cps


def rotate_key(session: Session, *, settings: Settings, actor) -> tuple[str, str]:
    """Hand the trail over to a new signing key: one `trail.key` entry naming the new key, signed (as the head of
    this transaction) by the old key; after the commit the new key replaces the old, whose public half is kept as
    retired. The caller's transaction must hold nothing else. Admins only. Returns (old key_id, new key_id)."""
    if "admin" not in actor.roles:
        raise LawfulError(f"{actor.name} may not change the trail's key", "ask an admin", kind="denied")
    if session.info.get("trail_head") is not None:
        raise LawfulError("a key change must be a transaction of its own", "commit the other work first")
    old = signing_key(settings)
    new = keys.stage_next(settings)
    old_kid, new_kid = _key_id(old), _key_id(new)
    append(session, actor=actor.name, action=chain.KEY_ACTION, obj="trail", purpose="key rotation",
           details={"event": "rotate", "from_key_id": old_kid, "key_id": new_kid,
                    "fingerprint": chain.fingerprint(new.public_key()),
                    "public_key": chain.raw_public(new.public_key()).hex()})
    session.info["trail_rotation"] = {"seq": session.info["trail_head"][0], "key_id": new_kid,
                                      "from_key_id": old_kid, "old": old}
    return old_kid, new_kid


def export(session: Session, *, settings: Settings, out_dir: Path):
    """Write the bundle for an external auditor (lawful.trail.export)."""
    from lawful.trail.export import export as _export

    return _export(session, settings=settings, out_dir=out_dir)
