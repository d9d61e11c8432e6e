"""The trail as people reach it through the server: reading the log, verifying it, exporting it, each decided by
the access policy (`audit.read`, `audit.export`) and itself on the trail."""

from __future__ import annotations

import io
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.db import Store
from lawful.errors import InputError
from lawful.trail import audit


def read_log(session: Session, *, actor, action: str | None = None, by: str | None = None, obj: str | None = None,
             limit: int = 50, purpose: str = "governance", since: datetime | None = None,
             until: datetime | None = None) -> list[dict]:
    """The newest entries (filtered; since inclusive, until exclusive, a naive time is UTC), for whoever the policy
    lets read the trail; the reading is a consultation."""
    require(actor, "audit.read", Resource("trail", "log"), purpose)
    if since is not None and until is not None and _utc(since) >= _utc(until):
        raise InputError(f"the search starts ({_utc(since).isoformat()}) at or after it ends "
                         f"({_utc(until).isoformat()})", "give a start before the end")
    rows = audit.get_all(session, action=action, actor=by, obj=obj, limit=max(1, min(limit, 1000)), since=since,
                         until=until)
    window = {"since": _utc(since).isoformat() if since else None, "until": _utc(until).isoformat() if until else None}
    audit.append(session, actor=actor.name, action="consultation", obj="trail:log", purpose=purpose,
                 details={"entries": len(rows), "action": action, "by": by,
                          **({k: v for k, v in window.items() if v})})
    return [{"seq": e.seq, "at_us": e.at_us, "actor": e.actor, "action": e.action, "object": e.object,
             "purpose": e.purpose, "details": e.details} for e in rows]


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def verify_trail(store: Store, *, actor, purpose: str = "governance") -> dict:
    """Recompute every hash and check the signed checkpoints with the server's key; the check is on the trail."""
    require(actor, "audit.read", Resource("trail", "verify"), purpose)
    refused = None
    try:
        with store.transaction() as session:
            audit.append(session, actor=actor.name, action="consultation", obj="trail:verify", purpose=purpose,
                         details={})
    except audit.TrailRefused as exc:
        # The one request that still runs when the trail refuses to sign: verifying is how an auditor finds out
        # why (docs/governance.md, "When the trail refuses"). Its consultation cannot be recorded; the answer says so.
        refused = exc.message
    with store.transaction(readonly=True) as session:
        v = audit.verify(session, settings=store.settings)
    return {"ok": v.ok and refused is None, "refused": refused, "entries": v.entries, "checkpoints": v.checkpoints,
            "head_seq": v.head_seq, "head_hash": v.head_hash, "retention_days": store.settings.audit_retention_days,
            "problems": [{"seq": p.seq, "kind": p.kind, "text": p.text}
                         for p in sorted(v.problems, key=lambda p: p.seq)[:50]]}


def export_trail(store: Store, *, actor, purpose: str = "external audit") -> bytes:
    """The export bundle (entries, checkpoints, public key, stand-alone verifier) as a gzipped tar. The export is
    itself on the trail (a disclosure), signed before the bundle is cut."""
    with store.transaction() as session:
        require(actor, "audit.export", Resource("trail", "export"), purpose)
        audit.append(session, actor=actor.name, action="audit.export", obj="trail", purpose=purpose,
                     details={"via": "api"})
    with tempfile.TemporaryDirectory(prefix="lawful-export-") as tmp:
        out = Path(tmp) / "bundle"
        with store.transaction(readonly=True) as session:
            audit.export(session, settings=store.settings, out_dir=out)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for p in sorted(out.iterdir()):
                tar.add(p, arcname=p.name)
        return buf.getvalue()


def sign_document(settings, *, label: str, data: bytes) -> dict:
    """Sign a document that is not a checkpoint (an annual audit pack's manifest) with the trail's key, so it can be
    checked offline with the key the register publishes. Domain-separated: the signed message is
    "lawful-document-v1\\n{label}\\n{sha256 of data}", which no checkpoint message ("lawful-checkpoint-v1\\n...")
    can equal."""
    import hashlib

    from lawful.trail import chain, keys

    key = keys.signing_key(settings)
    message = f"lawful-document-v1\n{label}\n{hashlib.sha256(data).hexdigest()}".encode()
    return {"label": label, "sha256": hashlib.sha256(data).hexdigest(), "signature": key.sign(message).hex(),
            "key_id": chain.key_id(key.public_key()), "fingerprint": chain.fingerprint(key.public_key()),
            "message": message.decode()}
