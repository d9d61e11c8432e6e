"""Published trail heads: the register publishes the trail's newest signed head and, for every day the trail was
written, the last head signed that day, with the public key. Each head is in the witness format
(`lawful admin witness` writes the same lines), so anyone who keeps a copy can later check, offline, that an export
of the trail still contains every head published before it:

    python verify.py --public-key trail-public-key.pem --witness heads.jsonl

(verify.py is in every trail export and every annual audit pack). A trail cut short or rewritten after a head was
published no longer contains that head, and the check names it: the gossip Certificate Transparency relies on.

The heads are the trail's own signed checkpoints, read here; nothing is signed or written by publishing them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lawful.settings import Settings
from lawful.trail import chain, keys
from lawful.trail.models import Checkpoint

DAY_US = 86_400_000_000


def _signer(settings: Settings, key_id: str):
    current = keys.signing_key(settings).public_key()
    if chain.key_id(current) == key_id:
        return current
    anchor = keys.trust_anchor(settings)
    if chain.key_id(anchor) == key_id:
        return anchor
    return keys.retired_public_key(settings, key_id)


def _record(settings: Settings, row, *, check: bool = True) -> dict | None:
    key = _signer(settings, row.key_id)
    if key is None or (check and not chain.signature_ok(key, row.seq, row.hash, row.at_us, row.signature)):
        return None  # never publish a head the trail's keys did not sign
    return {"seq": row.seq, "hash": row.hash, "at_us": row.at_us, "key_id": row.key_id, "signature": row.signature,
            "fingerprint": chain.fingerprint(key)}


def latest(session: Session, *, settings: Settings) -> dict | None:
    row = session.execute(select(Checkpoint).order_by(Checkpoint.seq.desc()).limit(1)).scalars().first()
    return _record(settings, row) if row else None


def daily(session: Session, *, settings: Settings, since_us: int | None = None, until_us: int | None = None,
          limit: int = 3660) -> list[dict]:
    """The last signed head of each UTC day, oldest first (at most `limit` days, the newest ones)."""
    day = Checkpoint.at_us // DAY_US
    q = select(func.max(Checkpoint.seq)).group_by(day)
    if since_us is not None:
        q = q.where(Checkpoint.at_us >= since_us)
    if until_us is not None:
        q = q.where(Checkpoint.at_us < until_us)
    seqs = sorted(session.scalars(q))[-limit:]
    out = []
    for i in range(0, len(seqs), 500):
        rows = session.scalars(select(Checkpoint).where(Checkpoint.seq.in_(seqs[i:i + 500]))
                               .order_by(Checkpoint.seq))
        out += [r for r in (_record(settings, row) for row in rows) if r]
    return out


def with_day(head: dict) -> dict:
    at = datetime.fromtimestamp(head["at_us"] / 1e6, timezone.utc)
    return {**head, "day": at.date().isoformat(), "at": at.isoformat()}


def public_key_pem(settings: Settings) -> bytes:
    """The key the trail was started with (its trust anchor): what verify.py checks every head against."""
    return keys.public_pem(keys.trust_anchor(settings))


def jsonl(heads: list[dict]) -> str:
    fields = ("seq", "hash", "at_us", "key_id", "signature", "fingerprint")
    return "".join(json.dumps({k: h[k] for k in fields}, sort_keys=True) + "\n" for h in heads)


def published(store) -> dict:
    """What the public pages show: the newest head, the daily history (newest first) and the key's fingerprint."""
    settings = store.settings
    with store.transaction(readonly=True) as session:
        head = latest(session, settings=settings)
        history = daily(session, settings=settings)
    anchor = keys.trust_anchor(settings)
    if head and (not history or history[-1]["seq"] != head["seq"]):
        history.append(head)
    return {"latest": with_day(head) if head else None, "daily": [with_day(h) for h in reversed(history)],
            "fingerprint": chain.fingerprint(anchor), "key_id": chain.key_id(anchor),
            "jsonl": jsonl(history)}
