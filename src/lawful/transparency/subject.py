"""Data-subject requests from the public side: access, correction and deletion, opened through the public form and
tracked with a reference and a secret code, like complaints.

The request itself is an ordinary subject request (lawful.privacy.requests: the same table, kinds, statutory
deadline and answering steps the data-protection officer already uses); only the identity's pseudonym is stored.
Checking that the person is who they say is the agency's: `identity_check` is the hook. By default it answers
"pending" and the DPO records the result (`POST /api/v1/public-requests/REF/identity`) before answering the
request; an agency with its own check (an in-person desk, an eID service) names a function in LAWFUL_IDENTITY_HOOK
("package.module:function"), called with the request's kind and the evidence the person described, returning
("verified" | "pending" | "refused", a note). The evidence text is passed to the hook and never stored.
"""

from __future__ import annotations

import importlib
import os
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.access.service import Actor
from lawful.errors import ConfigError, Conflict, InputError, NotFound
from lawful.privacy.models import SubjectRequest
from lawful.privacy.requests import KINDS, NO_MATCH, deadline_days, identity
from lawful.settings import Settings
from lawful.trail import audit
from lawful.transparency.complaints import (PUBLIC, TrackingRefused, _text, code_hash, code_matches, new_code,
                                            new_reference, normal_reference)
from lawful.transparency.models import PublicRequest

IDENTITY_STATES = ("pending", "verified", "refused")
DEFAULT_FIELDS = "victim_name=your name, as a victim or witness in a reported incident"


def fields() -> dict[str, str]:
    """The personal fields a person may ask about, and how the form describes them: LAWFUL_PUBLIC_REQUEST_FIELDS,
    "field=description;field=description" (default: victim_name)."""
    out = {}
    for part in os.environ.get("LAWFUL_PUBLIC_REQUEST_FIELDS", DEFAULT_FIELDS).split(";"):
        name, _, text = part.partition("=")
        if name.strip():
            out[name.strip()] = text.strip() or name.strip()
    return out


def pending_check(kind: str, evidence: str) -> tuple[str, str]:
    """The default hook: nothing is checked automatically; the agency checks and records it."""
    return "pending", ("the agency checks who you are before answering; it will tell you on this page how (for "
                       "example at a front desk with an identity document)")


def identity_check():
    spec = os.environ.get("LAWFUL_IDENTITY_HOOK", "").strip()
    if not spec:
        return pending_check
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"LAWFUL_IDENTITY_HOOK={spec!r} cannot be loaded ({exc})",
                          "name an importable function as package.module:function, or unset it") from None


def _ask_hook(hook, *, kind: str, field: str, value: str, evidence: str) -> tuple[str, str]:
    """The hook's answer. "verified" must mean that the evidence shows this person is the one the records name, so
    the hook is told whose records are asked for (field, value) when it takes them as keyword arguments. A hook
    that does not is never trusted with "verified": someone showing their own eID and typing another person's name
    would otherwise have that person's records exported or deleted; it becomes "pending", for a person to check."""
    import inspect

    try:
        params = inspect.signature(hook).parameters
    except (TypeError, ValueError):
        params = {}
    takes = any(p.kind is p.VAR_KEYWORD for p in params.values()) or {"field", "value"} <= set(params)
    if takes:
        return hook(kind, evidence, field=field, value=value)
    state, note = hook(kind, evidence)
    if state == "verified":
        return "pending", (f"{note}; " if note else "") + ("the agency also checks that this is whose records are "
                                                           "asked for, before answering")
    return state, note


def file(session: Session, *, kind: str, field: str, value: str, evidence: str = "", settings: Settings) -> dict:
    from lawful.privacy.service import pseudonym_key

    if kind not in KINDS:
        raise InputError(f"kind {kind!r} is not a request kind", f"choose one of {', '.join(KINDS)}")
    if field not in fields():
        raise InputError(f"{field[:50]!r} is not something you can ask about here", "choose from the list")
    value = _text(value, "how you appear in the records", required=True, limit=200, least=2)
    evidence = _text(evidence, "identity evidence", limit=1000)
    state, note = _ask_hook(identity_check(), kind=kind, field=field, value=value, evidence=evidence)
    if state not in IDENTITY_STATES:
        raise ConfigError(f"the identity hook answered {state!r}", "it must answer verified, pending or refused")
    now = datetime.now(timezone.utc)
    key = pseudonym_key(session, actor=PUBLIC, settings=settings)
    code = new_code()
    reference = new_reference("LR")
    req = SubjectRequest(kind=kind, field=field, **identity(key, value), received_at=now,
                         deadline=now + timedelta(days=deadline_days()), status="open",
                         note=f"opened from the public form ({reference}); identity {state}",
                         opened_by=PUBLIC)
    session.add(req)
    session.flush()
    pr = PublicRequest(reference=reference, code_hash=code_hash(code), request_id=req.id, identity=state,
                       identity_note=str(note)[:1000], received_at=now)
    session.add(pr)
    session.flush()
    audit.append(session, actor=PUBLIC, action="collection", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"step": "opened from the public form", "reference": reference,
                                                     "kind": kind, "field": field, "pseudonym": req.pseudonym,
                                                     "identity": state, "deadline": req.deadline.isoformat()})
    return {"reference": reference, "code": code, "kind": kind, "deadline": req.deadline.isoformat(),
            "identity": state, "identity_note": pr.identity_note}


def _by_code(session: Session, reference: str, code: str) -> tuple[PublicRequest, SubjectRequest]:
    import secrets

    ref = normal_reference(reference)[:20]
    pr = session.scalar(select(PublicRequest).where(PublicRequest.reference == ref))
    ok = code_matches(pr.code_hash if pr else code_hash(secrets.token_hex(8)), code or "")
    if pr is None or not ok:
        raise TrackingRefused(f"public-request:{ref or '?'}", "request")
    return pr, session.get(SubjectRequest, pr.request_id)


def person_view(pr: PublicRequest, req: SubjectRequest) -> dict:
    """What the person sees. Until their identity is verified, nothing about what the records hold."""
    now = datetime.now(timezone.utc)
    closed = req.status != "open"
    answered = req.status == "done"  # refused (identity not verified) is closed, not answered
    view = {"reference": pr.reference, "kind": req.kind, "received_at": pr.received_at.isoformat(),
            "deadline": req.deadline.isoformat(), "overdue": not closed and req.deadline < now,
            "identity": pr.identity, "identity_note": pr.identity_note,
            "status": "answered" if answered else ("refused" if closed else "open"),
            "answered_at": req.closed_at.isoformat() if closed and req.closed_at else None, "outcome": None}
    if answered and pr.identity == "verified":
        outcome = (req.result or {}).get("outcome")
        view["outcome"] = ("no records about you were found" if outcome == NO_MATCH else
                           "answered; the agency gives you the result as agreed when it checked your identity")
    return view


def track(session: Session, *, reference: str, code: str) -> dict:
    pr, req = _by_code(session, reference, code)
    audit.append(session, actor=PUBLIC, action="consultation", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"step": "tracked", "reference": pr.reference})
    return person_view(pr, req)


# ---- inside: the data-protection officer records the identity check -------------------------------------------------
def _require(actor: Actor) -> None:
    require(actor, "privacy.requests", Resource("incidents", "subject", "public"), "data protection")


def staff_view(pr: PublicRequest, req: SubjectRequest) -> dict:
    from lawful.privacy.requests import request_view

    return {"reference": pr.reference, "identity": pr.identity, "identity_note": pr.identity_note,
            "received_at": pr.received_at.isoformat(), "request": request_view(req)}


def list_public(session: Session, *, actor: Actor) -> list[dict]:
    _require(actor)
    rows = session.execute(select(PublicRequest, SubjectRequest)
                           .join(SubjectRequest, SubjectRequest.id == PublicRequest.request_id)
                           .order_by(PublicRequest.id)).all()
    audit.append(session, actor=actor.name, action="consultation", obj="public-requests", purpose="data protection",
                 details={"requests": len(rows)})
    return [staff_view(pr, req) for pr, req in rows]


def record_identity(session: Session, *, actor: Actor, reference: str, state: str, note: str) -> dict:
    """The agency's identity check, recorded: verified (answer the request as usual: `lawful requests ...`) or
    refused (the request is closed saying so)."""
    _require(actor)
    if state not in ("verified", "refused"):
        raise InputError(f"identity {state!r}", "record verified or refused")
    note = _text(note, "note", required=True, limit=1000)
    pr = session.scalar(select(PublicRequest).where(PublicRequest.reference == normal_reference(reference)[:20]))
    if pr is None:
        raise NotFound(f"there is no public request {reference[:30]!r}", "see GET /api/v1/public-requests")
    req = session.get(SubjectRequest, pr.request_id)
    if req.status != "open":  # a closed request's identity is history: it stays as it was decided
        raise Conflict(f"request {pr.reference} is already {req.status}; its identity cannot change now",
                       "the person files a new request, whose identity is checked afresh")
    pr.identity, pr.identity_note = state, note
    if state == "refused" and req.status == "open":
        req.status, req.closed_at, req.closed_by = "refused", datetime.now(timezone.utc), actor.name
        req.result = {"outcome": "identity not verified"}
    audit.append(session, actor=actor.name, action="alteration", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"step": "identity " + state, "reference": pr.reference})
    return staff_view(pr, req)
