"""Publishing the trail's signed head outside the agency's data directory (`lawful admin witness DEST`).

A witness is any place the operator names that someone who can rewrite the database, the checkpoints and the head
file cannot also rewrite: another machine's share, a write-once bucket mounted as a directory, a file that is
mailed or printed. `lawful audit verify --witness DEST` (and the exported verify.py) then checks the trail against
every head ever published there, so cutting entries off the end and rolling the head file back is named.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.errors import LawfulError, NotFound
from lawful.settings import Settings
from lawful.trail import chain, keys
from lawful.trail.audit import _ENTRY, _HEAD, _NEWEST_CHECKPOINT, TrailRefused


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def publish(session: Session, *, settings: Settings, dest: Path) -> dict:
    """Append the current signed head to DEST (a file: one JSON line per head; an existing directory, or a path
    ending in '/': one file per head). Refuses a destination inside the data directory or the key's directory,
    and a trail that no longer holds the head last published there. Returns the published record."""
    target = Path(os.path.abspath(dest.expanduser()))
    resolved = target.resolve()
    for what, folder in (("data directory", settings.data_dir), ("trail key's directory", settings.audit_key_path.parent)):
        if _inside(resolved, folder.expanduser().resolve()):
            raise LawfulError(f"{dest} is inside the {what} ({folder}); a witness there proves nothing, since whoever "
                              "can rewrite the trail can rewrite it too", "name a place on another disk or machine")
    conn = session.connection()
    cp = conn.execute(_NEWEST_CHECKPOINT).first()
    head = conn.execute(_HEAD).first()
    if cp is None or head is None:
        raise NotFound("the trail has no signed head yet", "publish once something has been written to the trail")
    if (cp.seq, cp.hash) != (head.seq, head.hash):
        raise TrailRefused(f"the newest checkpoint (entry {cp.seq}) is not the trail's head (entry {head.seq})")
    key = keys.signing_key(settings).public_key()
    if cp.key_id != chain.key_id(key):  # the head of a key change is signed by the key it replaced
        key = keys.retired_public_key(settings, cp.key_id) or key
    if cp.key_id != chain.key_id(key) or not chain.signature_ok(key, cp.seq, cp.hash, cp.at_us, cp.signature):
        raise TrailRefused(f"the newest checkpoint (entry {cp.seq}) is not validly signed by the trail's key")
    as_dir = target.is_dir() or str(dest).endswith(os.sep)
    previous = _last_published(target)
    if previous is not None:
        then = conn.execute(_ENTRY, {"seq": previous["seq"]}).first()
        if then is None or then.hash != previous["hash"]:
            raise TrailRefused(f"the head published to {dest} at entry {previous['seq']} is no longer in the trail")
    record = {"seq": cp.seq, "hash": cp.hash, "at_us": cp.at_us, "key_id": cp.key_id, "signature": cp.signature,
              "fingerprint": chain.fingerprint(key)}
    line = json.dumps(record, sort_keys=True) + "\n"
    try:
        if as_dir:
            target.mkdir(parents=True, exist_ok=True)
            _write_synced(target / f"lawful-head-{cp.seq:012d}.json", line, os.O_TRUNC)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_synced(target, line, os.O_APPEND)
    except OSError as exc:
        raise LawfulError(f"cannot write the witness {dest}: {exc.strerror or exc}; nothing was published",
                          "check the path, its permissions and free space", kind="unavailable") from None
    return record


def _write_synced(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_published(target: Path) -> dict | None:
    if not target.exists():
        return None
    try:
        heads = chain.read_witness(target)
    except ValueError as exc:
        raise LawfulError(str(exc), "give a witness file or directory that only `lawful admin witness` writes") from None
    if not heads:
        return None
    seq, hash_, *_ = max(heads)
    return {"seq": seq, "hash": hash_}
