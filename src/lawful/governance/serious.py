"""The register of serious incidents involving a model, with reporting deadlines counted from awareness
(15 days; 2 if widespread; 10 if someone died, as in EU AI Act Art. 73), linked to the trail and the breaker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.service import Actor
from lawful.errors import LawfulError, NotFound
from lawful.trail import audit
from lawful.governance.models import Entry, SeriousIncident
from lawful.access.decide import Resource, require
from lawful.governance.registry import suspend

KINDS = ("wrongful-stop", "data-leak", "discriminatory-pattern", "death-or-harm", "other")


def deadline_days(*, widespread: bool, death: bool) -> int:
    days = 15
    if death:
        days = min(days, 10)
    if widespread:
        days = min(days, 2)
    return days


def record(session: Session, *, actor: Actor, entry: Entry, kind: str, description: str, aware_at: datetime,
           widespread: bool = False, death: bool = False, keep_running: str | None = None) -> SeriousIncident:
    """Register an incident. The model is suspended unless keep_running gives the reason it should not be."""
    require(actor, "serious-incidents.record", Resource("model", entry.name, "public"), "governance")
    if kind not in KINDS:
        raise LawfulError(f"{kind!r} is not an incident kind", f"use one of {', '.join(KINDS)}")
    if not description.strip():
        raise LawfulError("describe the incident", "give --description")
    now = datetime.now(timezone.utc)
    if aware_at > now:
        raise LawfulError("the time of awareness is in the future", "give when you became aware, at the latest now")
    inc = SeriousIncident(entry_id=entry.id, kind=kind, description=description, widespread=widespread, death=death,
                          aware_at=aware_at, deadline=aware_at + timedelta(days=deadline_days(widespread=widespread,
                                                                                              death=death)),
                          recorded_by=actor.name, recorded_at=now)
    session.add(inc)
    session.flush()
    audit.append(session, actor=actor.name, action="incident.record", obj=f"serious-incident:{inc.id}",
                 purpose="governance", details={"model": entry.ref, "kind": kind, "widespread": widespread,
                                                "death": death, "deadline": inc.deadline.isoformat(),
                                                "keep_running": keep_running})
    if keep_running is None and entry.state in ("active", "sandbox", "approved"):
        suspend(session, actor=None, entry=entry, reason=f"serious incident {inc.id} ({kind}) recorded by {actor.name}")
    return inc


def mark_reported(session: Session, *, actor: Actor, incident_id: int, to: str) -> SeriousIncident:
    inc = session.get(SeriousIncident, incident_id)
    if inc is None:
        raise NotFound(f"there is no serious incident {incident_id}", "see `lawful serious-incidents list`")
    require(actor, "serious-incidents.record", Resource("serious-incident", str(incident_id)), "governance")
    if not to.strip():
        raise LawfulError("say which authority it was reported to", "give --to AUTHORITY")
    inc.reported_at, inc.reported_to = datetime.now(timezone.utc), to
    session.flush()
    audit.append(session, actor=actor.name, action="incident.report", obj=f"serious-incident:{inc.id}",
                 purpose="governance", details={"to": to})
    return inc


def get_all(session: Session, *, entry: Entry | None = None) -> list[SeriousIncident]:
    q = select(SeriousIncident).order_by(SeriousIncident.id)
    if entry is not None:
        q = q.where(SeriousIncident.entry_id == entry.id)
    return list(session.scalars(q))
