"""What the server records about each request it answers: the request itself when no service recorded it, and
every refusal (unauthenticated, denied), each in the trail. Kept here, not in `web/`, because only services write
the trail; the web layer only calls these."""

from __future__ import annotations

import hashlib
import platform
import threading
import unicodedata
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.access.decide import AccessDenied
from lawful.db import Store
from lawful.errors import LawfulError
from lawful.settings import Settings
from lawful.trail import audit
from lawful.trail.group import GroupCommitter

READ_METHODS = frozenset({"GET", "HEAD"})


def _clean(text: str, limit: int) -> str:
    """A request path as the trail can hold it: control characters (a client may send any) written as escapes,
    so recording a strange request can never fail (a request that cannot be recorded is refused)."""
    return "".join(c if unicodedata.category(c)[0] != "C" else f"\\u{ord(c):04x}" for c in text)[:limit]


def record_request(session: Session, *, actor: str, method: str, path: str) -> None:
    """Every request answered is on the trail: when the service it called wrote no entry of its own (a plain read),
    this writes one. A read is a `consultation`, anything else an `alteration`."""
    if session.info.get("trail_head") is not None:  # the service wrote its entry in this transaction
        return
    action = "consultation" if method in READ_METHODS else "alteration"
    audit.append(session, actor=actor, action=action, obj=f"api:{_clean(path, 250)}", purpose="api request",
                 details={"method": method})


def record_refusal(store: Store, *, exc: LawfulError, actor: str, method: str, path: str) -> None:
    """A refusal, in its own transaction (the refused one rolled back). Raises if it cannot be written, so the
    caller can say the refusal was not recorded."""
    if isinstance(exc, AccessDenied):
        obj, purpose = _clean(f"{exc.resource.kind}:{exc.resource.name}", 300), _clean(exc.purpose, 300)
        details = {"action": exc.action, "reason": exc.reason, "request": f"{method} {_clean(path, 200)}"}
        actor = exc.actor
    else:
        obj, purpose = f"api:{_clean(path, 250)}", "api request"
        details = {"action": f"{method} {_clean(path, 200)}", "reason": exc.message[:300]}
    # a refusal's entry is a transaction of its own, so a flood of refused requests shares transactions (group
    # commit): each caller returns only once its entry is chained, signed and committed, or raises
    _committer(store).append(actor=_clean(actor, 100) or "anonymous", action="access.deny", obj=obj,
                             purpose=_clean(purpose, 300), details=details)


_COMMITTER_LOCK = threading.Lock()


def _committer(store: Store) -> GroupCommitter:
    """The store's one group committer for stand-alone entries (made on first use; one per store, since batching
    works only if every writer of that store queues in the same place)."""
    committer = store.__dict__.get("_refusal_committer")
    if committer is None:
        with _COMMITTER_LOCK:
            committer = store.__dict__.get("_refusal_committer")
            if committer is None:
                committer = store.__dict__["_refusal_committer"] = GroupCommitter(store)
    return committer


def policy_fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_start(store: Store, *, policy_path: Path, policy_sha256: str, host: str, port: int) -> int:
    """`server.start` on the trail: the policy file's SHA-256 and the settings in force, so a policy change is a
    restart the trail shows."""
    s: Settings = store.settings
    settings = {k: str(v) for k, v in asdict(s).items()}
    settings["database_url"] = store.engine.url.render_as_string(hide_password=True)
    with store.transaction() as session:
        return audit.append(session, actor="server", action="config.change", obj="server:start",
                            purpose="operation", details={"event": "server.start", "policy": str(policy_path),
                                                          "policy_sha256": policy_sha256, "settings": settings,
                                                          "listen": f"{host}:{port}", "python": platform.python_version(),
                                                          "version": _version()})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lawful")
    except PackageNotFoundError:
        return "unknown"

