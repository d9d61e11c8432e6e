"""Complaints and appeals: filed by anyone through the public form, handled inside by the data-protection officer
or a member of the review board.

The person gets a reference (not secret: it names the complaint) and a tracking code (secret: only its SHA-256 is
stored, compared in constant time); with both they check the status, read the outcome and its reasons, and add
information. Their contact details, if they give any, are stored only as a keyed pseudonym (the same key and
normalisation as every personal field, lawful.privacy.pseudonyms), so the agency can recognise the person when they
come forward but cannot read who they are from the store; answers reach them on the tracking page.

Inside: the queue with statutory deadlines (LAWFUL_COMPLAINT_DAYS, default 30) and overdue flags, assignment,
links to outputs, alerts, decisions, models and subject requests, notes (to the person, or internal), and an
outcome with reasons; an upheld complaint's actions (suspend a model through the governance service, correct data,
notify) are taken and recorded with it. Every step is on the trail, the person's as actor "public".

An appeal of an outcome is filed from the complaint's own tracking page (reference and code), so it is linked to the
complaint it appeals. Nobody decides a case about their own decision: whoever resolved or handled a linked complaint,
or made a linked output's decision, can be neither assigned the appeal (or complaint) nor resolve it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, decide, load_policy, require
from lawful.access.service import Actor
from lawful.errors import Conflict, InputError, LawfulError, NotFound
from lawful.settings import Settings
from lawful.trail import audit
from lawful.transparency.models import Complaint, ComplaintNote

KINDS = ("complaint", "appeal")
OUTCOMES = ("upheld", "partly-upheld", "not-upheld")
LINK_KINDS = ("output", "alert", "decision", "model", "subject-request", "complaint")
ACTION = "complaints.handle"
PURPOSE = "governance"
PUBLIC = "public"  # the actor named on the trail for what the person does through the public pages
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud and typed without mistakes
MAX_TEXT = 5000
REFERENCE = re.compile(r"\bLC-\d{4}-[A-Z0-9]{6}\b")  # a complaint's reference as new_reference makes it
STATUS_WORDS = {"received": "received, waiting to be assigned", "assigned": "being looked into",
                "resolved": "resolved"}


def deadline_days() -> int:
    text = os.environ.get("LAWFUL_COMPLAINT_DAYS", "30")
    if not text.isdigit() or not 1 <= int(text) <= 365:
        raise LawfulError(f"LAWFUL_COMPLAINT_DAYS={text!r} is not a number of days",
                          "give the statutory deadline in days, e.g. 30")
    return int(text)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_reference(prefix: str) -> str:
    return f"{prefix}-{_now():%Y}-{_random(6)}"


def new_code() -> str:
    """80 bits, as four groups of four characters: K7QM-2XPA-9RTC-W4HD."""
    return "-".join(_random(4) for _ in range(4))


def normal_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(("lawful tracking code v1:" + normal_code(code)).encode()).hexdigest()


def code_matches(stored_hash: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, code_hash(code))


def normal_reference(reference: str) -> str:
    return "-".join(p for p in "".join(c for c in reference.upper().strip() if c.isalnum() or c == "-").split("-") if p)


def _text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT, least: int = 0) -> str:
    value = (value or "").strip()
    if required and len(value) < max(least, 1):
        raise InputError(f"{field}: {'missing' if not value else f'at least {least} characters, please'}",
                         f"write {field} in a sentence or two")
    if len(value) > limit:
        raise InputError(f"{field}: {len(value):,} characters, above the limit of {limit:,}", "shorten it")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise InputError(f"{field}: control characters are not allowed", "type it as plain text")
    return value


def _public_systems(session: Session) -> set[str]:
    from lawful.governance import registry
    from lawful.transparency.register import is_public

    moves: dict[int, list] = {}
    for m in registry.get_state_changes(session):
        moves.setdefault(m.entry_id, []).append(m)
    return {e.name for e in registry.get_all(session) if is_public(e, moves.get(e.id, []))}


def public_systems(store) -> list[str]:
    with store.transaction(readonly=True) as session:
        return sorted(_public_systems(session))


# ---- the person's side (no sign-in) -------------------------------------------------------------------------------
def file(session: Session, *, kind: str, system: str | None, what: str, decision: str = "",
         occurred_on: str | None = None, contact: str = "", settings: Settings) -> dict:
    """A complaint or an appeal from the public form. Returns the reference and the tracking code (shown once)."""
    from lawful.privacy.pseudonyms import pseudonym
    from lawful.privacy.service import pseudonym_key

    if kind not in KINDS:
        raise InputError(f"kind {kind!r} is not a complaint or an appeal", "choose complaint or appeal")
    system = (system or "").strip() or None
    if system is not None and system not in _public_systems(session):
        raise InputError(f"system {system[:100]!r} is not in the register", "choose a system from the list, or "
                                                                             "'I do not know'")
    what = _text(what, "what happened", required=True, least=10)
    decision = _text(decision, "the decision you appeal", limit=2000)
    if kind == "appeal" and not decision:
        raise InputError("an appeal names the decision it appeals", "say which decision (when, where, what was "
                                                                    "decided)")
    day = None
    if occurred_on:
        try:
            day = date.fromisoformat(occurred_on.strip())
        except ValueError:
            raise InputError(f"date {occurred_on[:20]!r} is not a date", "write it as YYYY-MM-DD") from None
        if day > _now().date():
            raise InputError(f"date {day} is in the future", "give the day it happened")
    contact = _text(contact, "contact", limit=200)
    # an appeal that names a complaint (LC-2026-ABC123) is linked to it at once, so whoever decided that complaint
    # can decide this one neither before nor without staff linking it
    named = list(dict.fromkeys(REFERENCE.findall(f"{decision} {what}".upper())))[:5] if kind == "appeal" else []
    links = [{"kind": "complaint", "ref": r} for r in named
             if session.scalar(select(Complaint.id).where(Complaint.reference == r)) is not None]
    psn = pseudonym(pseudonym_key(session, actor=PUBLIC, settings=settings), contact) if contact else None
    now = _now()
    code = new_code()
    c = Complaint(reference=new_reference("LC"), code_hash=code_hash(code), kind=kind, system=system, what=what,
                  decision=decision, occurred_on=day.isoformat() if day else None, contact_pseudonym=psn,
                  status="received", received_at=now, deadline=now + timedelta(days=deadline_days()), links=links,
                  actions=[], updated_at=now)
    session.add(c)
    session.flush()
    audit.append(session, actor=PUBLIC, action="collection", obj=f"complaint:{c.reference}", purpose="complaints",
                 details={"step": "filed", "kind": kind, "system": system, "contact": "pseudonymised" if psn else "none",
                          "deadline": c.deadline.isoformat()})
    return {"reference": c.reference, "code": code, "kind": kind, "deadline": c.deadline.isoformat()}


class TrackingRefused(NotFound):
    """A reference and code that do not match: the same answer whether the reference exists or not. The public
    flows (transparency.public) write it to the trail in a transaction of its own (the refused one rolls back)."""

    def __init__(self, obj: str, what: str):
        self.obj = obj
        super().__init__(f"no {what} matches that reference and code",
                         "check both as they were shown when you filed it (letters and digits; dashes do not matter)")


def _by_code(session: Session, reference: str, code: str, *, lock: bool = False) -> Complaint:
    ref = normal_reference(reference)[:20]
    q = select(Complaint).where(Complaint.reference == ref)
    c = session.scalar(q.with_for_update() if lock else q)
    # the same answer whether the reference or the code is wrong, and a hash compared either way
    ok = code_matches(c.code_hash if c else code_hash(secrets.token_hex(8)), code or "")
    if c is None or not ok:
        raise TrackingRefused(f"complaint:{ref or '?'}", "complaint")
    return c


def person_view(session: Session, c: Complaint) -> dict:
    """What the person sees: their own account, the status in words, the deadline, messages to them, the outcome."""
    notes = session.scalars(select(ComplaintNote).where(ComplaintNote.complaint_id == c.id,
                                                        ComplaintNote.visible.is_(True)).order_by(ComplaintNote.id))
    return {"reference": c.reference, "kind": c.kind, "system": c.system, "what": c.what, "decision": c.decision,
            "occurred_on": c.occurred_on, "received_at": c.received_at.isoformat(), "deadline": c.deadline.isoformat(),
            "status": c.status, "status_words": STATUS_WORDS.get(c.status, c.status),
            "overdue": c.status != "resolved" and c.deadline < _now(),
            "outcome": c.outcome, "reasons": c.reasons,
            "actions": [a.get("public", a.get("action")) for a in c.actions or []],
            "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
            "messages": [{"from": "you" if n.by == PUBLIC else "the agency", "at": n.at.isoformat(), "text": n.text}
                         for n in notes]}


def track(session: Session, *, reference: str, code: str) -> dict:
    c = _by_code(session, reference, code)
    audit.append(session, actor=PUBLIC, action="consultation", obj=f"complaint:{c.reference}", purpose="complaints",
                 details={"step": "tracked"})
    return person_view(session, c)


def add_information(session: Session, *, reference: str, code: str, text: str) -> dict:
    c = _by_code(session, reference, code, lock=True)
    text = _text(text, "information", required=True)
    if c.status == "resolved":
        raise Conflict(f"complaint {c.reference} is resolved", "if you disagree with the outcome, file an appeal "
                                                               "naming this reference")
    session.add(ComplaintNote(complaint_id=c.id, by=PUBLIC, text=text, visible=True, at=_now()))
    c.updated_at = _now()
    session.flush()
    audit.append(session, actor=PUBLIC, action="collection", obj=f"complaint:{c.reference}", purpose="complaints",
                 details={"step": "information added", "characters": len(text)})
    return person_view(session, c)


def appeal_outcome(session: Session, *, reference: str, code: str, text: str) -> dict:
    """The person appeals the outcome of their resolved complaint: a new appeal, linked to it, with the same
    system and contact pseudonym, and a tracking code of its own (shown once). One per complaint: the appeal's own
    outcome is appealed from the appeal's page."""
    c = _by_code(session, reference, code, lock=True)
    text = _text(text, "why you disagree", required=True, least=10)
    if c.status != "resolved":
        raise Conflict(f"complaint {c.reference} is not decided yet", "add information to it instead; you can "
                                                                      "appeal once it is decided")
    # filed from this tracking page (only these count here: a stranger's appeal naming the complaint does not block
    # the person's own); one per complaint: an appeal's outcome is appealed from the appeal's own page
    item = {"kind": "complaint", "ref": c.reference, "by": PUBLIC}
    for other in session.scalars(select(Complaint).where(Complaint.kind == "appeal")):
        if item in (other.links or []):
            raise Conflict(f"complaint {c.reference} has already been appealed",
                           "follow that appeal with its own code; appeal its outcome from its own tracking page")
    now = _now()
    new_code_ = new_code()
    a = Complaint(reference=new_reference("LC"), code_hash=code_hash(new_code_), kind="appeal", system=c.system,
                  what=text, decision=f"the outcome of {c.reference} ({c.outcome}, {c.resolved_at:%Y-%m-%d})",
                  occurred_on=None, contact_pseudonym=c.contact_pseudonym, status="received", received_at=now,
                  deadline=now + timedelta(days=deadline_days()), links=[item], actions=[], updated_at=now)
    session.add(a)
    session.flush()
    audit.append(session, actor=PUBLIC, action="collection", obj=f"complaint:{a.reference}", purpose="complaints",
                 details={"step": "filed", "kind": "appeal", "system": c.system, "appeals": c.reference,
                          "contact": "pseudonymised" if a.contact_pseudonym else "none",
                          "deadline": a.deadline.isoformat()})
    audit.append(session, actor=PUBLIC, action="collection", obj=f"complaint:{c.reference}", purpose="complaints",
                 details={"step": "appealed", "appeal": a.reference})
    return {"reference": a.reference, "code": new_code_, "kind": "appeal", "deadline": a.deadline.isoformat(),
            "appeals": c.reference}


# ---- inside: the DPO's or the review board's queue ------------------------------------------------------------------
def _require(actor: Actor, what: str = "complaints") -> None:
    require(actor, ACTION, Resource("complaint", what, "internal"), PURPOSE)


def may_handle(actor: Actor) -> bool:
    return decide(actor, ACTION, Resource("complaint", "queue", "internal"), PURPOSE, load_policy()).allowed


def _get(session: Session, reference: str, *, lock: bool = False) -> Complaint:
    q = select(Complaint).where(Complaint.reference == normal_reference(reference)[:20])
    c = session.scalar(q.with_for_update() if lock else q)
    if c is None:
        raise NotFound(f"there is no complaint {reference[:30]!r}", "see `lawful complaints list`")
    return c


def staff_view(session: Session, c: Complaint, *, notes: bool = False, now: datetime | None = None) -> dict:
    now = now or _now()
    view = {"reference": c.reference, "kind": c.kind, "system": c.system, "what": c.what, "decision": c.decision,
            "occurred_on": c.occurred_on, "contact": "pseudonymised" if c.contact_pseudonym else "none given",
            "status": c.status, "assigned_to": c.assigned_to, "received_at": c.received_at.isoformat(),
            "deadline": c.deadline.isoformat(), "overdue": c.status != "resolved" and c.deadline < now,
            "days_left": (c.deadline - now).days if c.status != "resolved" else None,
            "links": list(c.links or []), "outcome": c.outcome, "reasons": c.reasons, "actions": list(c.actions or []),
            "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None, "resolved_by": c.resolved_by}
    if notes:
        view["may_not_decide"] = own_decisions(session, c)
        view["notes"] = [{"by": "the person" if n.by == PUBLIC else n.by, "at": n.at.isoformat(), "text": n.text,
                          "visible": n.visible}
                         for n in session.scalars(select(ComplaintNote).where(ComplaintNote.complaint_id == c.id)
                                                  .order_by(ComplaintNote.id))]
    return view


def list_complaints(session: Session, *, actor: Actor, status: str | None = None) -> list[dict]:
    """The queue: open ones first, overdue first among them, then by deadline; a consultation on the trail."""
    _require(actor, "queue")
    if status not in (None, "open", "received", "assigned", "resolved"):
        raise InputError(f"status {status!r}", "use open, received, assigned or resolved")
    q = select(Complaint)
    if status == "open":
        q = q.where(Complaint.status != "resolved")
    elif status:
        q = q.where(Complaint.status == status)
    now = _now()
    rows = [staff_view(session, c, now=now) for c in session.scalars(q)]
    rows.sort(key=lambda r: (r["status"] == "resolved", not r["overdue"], r["deadline"]))
    audit.append(session, actor=actor.name, action="consultation", obj="complaints", purpose=PURPOSE,
                 details={"complaints": len(rows), "overdue": sum(r["overdue"] for r in rows)})
    return rows


def show(session: Session, *, actor: Actor, reference: str) -> dict:
    _require(actor, reference)
    c = _get(session, reference)
    audit.append(session, actor=actor.name, action="consultation", obj=f"complaint:{c.reference}", purpose=PURPOSE,
                 details={})
    return staff_view(session, c, notes=True)


def _open(c: Complaint) -> None:
    if c.status == "resolved":
        raise Conflict(f"complaint {c.reference} is resolved ({c.outcome})", "a new complaint or appeal reopens it")


def own_decisions(session: Session, c: Complaint) -> dict[str, str]:
    """Who may not decide `c`, and why: the person who resolved or handled a complaint it is linked to (an appeal
    of that outcome), and the reviewer of an output or decision it is linked to."""
    from lawful.governance.models import Review

    out: dict[str, str] = {}
    seen, todo = {c.reference}, list(c.links or [])
    while todo:  # through a chain of appeals: an appeal of an appeal is also about the first decision
        item = todo.pop()
        ref = str(item.get("ref", ""))
        if item.get("kind") == "complaint":
            if ref in seen:
                continue
            seen.add(ref)
            other = session.scalar(select(Complaint).where(Complaint.reference == ref))
            if other is None:
                continue
            # whoever resolved it, holds it, or handled it earlier (a note or a message is handling it)
            staff = set(session.scalars(select(ComplaintNote.by).where(ComplaintNote.complaint_id == other.id,
                                                                       ComplaintNote.by != PUBLIC)))
            for name in (other.resolved_by, other.assigned_to, *sorted(staff)):
                if name:
                    out.setdefault(name, f"handled complaint {ref}, which this {c.kind} is about")
            todo += list(other.links or [])
        elif item.get("kind") in ("decision", "output", "alert") and ref.isdigit():
            for name in session.scalars(select(Review.reviewer).where(Review.output_id == int(ref))):
                out.setdefault(name, f"decided output {ref}, which this {c.kind} is about")
    return out


def _not_their_own(session: Session, c: Complaint, name: str, doing: str) -> None:
    """A refusal (denied: on the trail as access.deny) when `name` decided what `c` is about."""
    why = own_decisions(session, c).get(name)
    if why:
        raise LawfulError(f"{name} {why}, so may not {doing} {c.reference}",
                          "give it to another data-protection officer or member of the review board", kind="denied")


def assign(session: Session, *, actor: Actor, reference: str, to: str) -> dict:
    """Assign to a person who may handle complaints (the DPO or a member of the review board)."""
    from lawful.access.service import get_actor

    _require(actor, reference)
    c = _get(session, reference, lock=True)
    _open(c)
    person = get_actor(session, name=to)
    if not may_handle(person):
        raise InputError(f"{to} may not handle complaints",
                         "assign it to the data-protection officer or a member of the review board")
    _not_their_own(session, c, person.name, "be assigned")
    c.assigned_to, c.status, c.updated_at = person.name, "assigned", _now()
    audit.append(session, actor=actor.name, action="alteration", obj=f"complaint:{c.reference}", purpose=PURPOSE,
                 details={"step": "assigned", "to": person.name})
    return staff_view(session, c, notes=True)


def link(session: Session, *, actor: Actor, reference: str, kind: str, ref: str) -> dict:
    """Link the complaint to what it is about: an output, an alert, a decision (an output's review), a model or a
    subject request. The thing linked must exist."""
    from lawful.governance import registry
    from lawful.governance.models import Output, Review
    from lawful.privacy.models import SubjectRequest

    _require(actor, reference)
    c = _get(session, reference, lock=True)
    if kind not in LINK_KINDS:
        raise InputError(f"link kind {kind!r}", f"use one of {', '.join(LINK_KINDS)}")
    ref = (ref or "").strip()
    if kind == "model":
        ref = registry.get(session, ref=ref).ref
    elif kind == "complaint":
        other = _get(session, ref)
        if other.id == c.id:
            raise InputError(f"{c.reference} cannot be linked to itself", "link the complaint it appeals")
        ref = other.reference
    else:
        if not ref.isdigit() or not 1 <= int(ref) <= 2**62:
            raise InputError(f"{kind} {ref[:30]!r} is not an id", f"give the {kind}'s number")
        n = int(ref)
        if kind in ("output", "alert"):
            o = session.get(Output, n)
            if o is None or (kind == "alert") != (o.kind == "alert"):
                raise NotFound(f"there is no {kind} {n}", "see `lawful review list`")
        elif kind == "decision":
            if session.scalar(select(Review.id).where(Review.output_id == n)) is None:
                raise NotFound(f"output {n} has no decision", "link the output instead, or wait for its decision")
        elif session.get(SubjectRequest, n) is None:
            raise NotFound(f"there is no subject request {n}", "see `lawful requests list`")
    item = {"kind": kind, "ref": ref}
    if item not in (c.links or []):
        c.links = [*(c.links or []), item]
    c.updated_at = _now()
    audit.append(session, actor=actor.name, action="combination", obj=f"complaint:{c.reference}", purpose=PURPOSE,
                 details={"step": "linked", **item})
    return staff_view(session, c, notes=True)


def note(session: Session, *, actor: Actor, reference: str, text: str, to_person: bool) -> dict:
    """A message the person reads on the tracking page (to_person) or an internal note."""
    _require(actor, reference)
    c = _get(session, reference, lock=True)
    text = _text(text, "note", required=True)
    session.add(ComplaintNote(complaint_id=c.id, by=actor.name, text=text, visible=to_person, at=_now()))
    c.updated_at = _now()
    session.flush()
    audit.append(session, actor=actor.name, action="alteration", obj=f"complaint:{c.reference}", purpose=PURPOSE,
                 details={"step": "message to the person" if to_person else "internal note"})
    return staff_view(session, c, notes=True)


def resolve(session: Session, *, actor: Actor, reference: str, outcome: str, reasons: str,
            suspend: list[str] | None = None, correct: str = "", notify: str = "") -> dict:
    """The outcome with its reasons. Upheld (or partly): the actions are taken now and recorded with it: suspend
    each named model through the governance service (the circuit breaker, on the trail in the resolver's name),
    a data correction to make (recorded; the correction itself is a subject request's or the owner's step), and
    who was notified."""
    from lawful.governance import service as gov

    _require(actor, reference)
    c = _get(session, reference, lock=True)
    _open(c)
    _not_their_own(session, c, actor.name, "resolve")
    if outcome not in OUTCOMES:
        raise InputError(f"outcome {outcome!r}", f"use one of {', '.join(OUTCOMES)}")
    reasons = _text(reasons, "reasons", required=True, least=10)
    suspend = [s.strip() for s in (suspend or []) if s.strip()]
    correct, notify = _text(correct, "correction", limit=2000), _text(notify, "notified", limit=500)
    if outcome == "not-upheld" and (suspend or correct):
        raise InputError("a complaint not upheld takes no action", "choose upheld or partly-upheld, or leave the "
                                                                   "actions empty")
    actions = []
    for ref in suspend:
        view = gov.move(session, actor=actor, ref=ref, step="suspend",
                        reason=f"complaint {c.reference} {outcome}")
        # Not the reasons: they were written to the complainant (their private tracking page), and a suspension's
        # reason is published on the register and its feed. The reasons stay on the complaint and its trail entry.
        actions.append({"action": "suspend", "model": view["ref"], "state": view["state"],
                        "public": f"the system {view['name']} (version {view['version']}) was suspended"})
        item = {"kind": "model", "ref": view["ref"]}
        if item not in (c.links or []):
            c.links = [*(c.links or []), item]
    if correct:
        actions.append({"action": "correct data", "what": correct, "public": "records are being corrected"})
    if notify:
        actions.append({"action": "notify", "to": notify, "public": f"notified: {notify}"})
    now = _now()
    c.outcome, c.reasons, c.actions, c.status = outcome, reasons, actions, "resolved"
    c.resolved_at, c.resolved_by, c.updated_at = now, actor.name, now
    audit.append(session, actor=actor.name, action="alteration", obj=f"complaint:{c.reference}", purpose=PURPOSE,
                 details={"step": "resolved", "outcome": outcome, "actions": [a["action"] for a in actions],
                          "suspended": suspend, "late": c.deadline < now})
    return staff_view(session, c, notes=True)


# ---- counts for reports -----------------------------------------------------------------------------------------
def week_summary(session: Session, *, system: str, start: datetime, end: datetime) -> str | None:
    """One sentence for the weekly report: complaints about `system` received in [start, end), open, overdue."""
    rows = list(session.scalars(select(Complaint).where(Complaint.system == system)))
    if not rows:
        return None
    now = _now()
    new = sum(start <= c.received_at < end for c in rows)
    open_ = [c for c in rows if c.status != "resolved"]
    overdue = sum(c.deadline < now for c in open_)
    decided = [c for c in rows if c.resolved_at and start <= c.resolved_at < end]
    upheld = sum(c.outcome in ("upheld", "partly-upheld") for c in decided)
    return (f"Complaints and appeals: {new} received this week, {len(decided)} resolved ({upheld} upheld in whole or "
            f"part), {len(open_)} open" + (f", {overdue} OVERDUE" if overdue else "") + ".")


def in_year(session: Session, *, start: datetime, end: datetime) -> list[dict]:
    """Every complaint received in [start, end), as the audit pack holds them (no contact pseudonym, no code)."""
    rows = session.scalars(select(Complaint).where(Complaint.received_at >= start, Complaint.received_at < end)
                           .order_by(Complaint.id))
    return [staff_view(session, c, notes=True) for c in rows]
