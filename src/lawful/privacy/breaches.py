"""The breach register. What a suspected breach touched is computed from the decision trail: every data action
(consultation, disclosure, combination, alteration, erasure, collection) and every other disclosure (a trail
export, an output issued, a serious-incident report) in the window, by the suspect if named, with the records,
outputs and pseudonymised people involved. A trail export discloses the trail as it stood: every pseudonym in the
entries before it counts as involved. The notification deadline is 72 hours from awareness
(GDPR Art. 33, Law Enforcement Directive Art. 30), a setting (LAWFUL_BREACH_HOURS)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.access.service import Actor
from lawful.errors import LawfulError, NotFound
from lawful.trail import audit
from lawful.trail.audit import DATA_ACTIONS
from lawful.privacy.models import Breach

PSEUDONYM = re.compile(r"psn:[0-9a-f]{32}")
# Actions beyond the data actions that put data in someone else's hands.
DISCLOSING = ("audit.export", "output.issue", "incident.report")
COUNTED = DATA_ACTIONS + DISCLOSING


def notify_hours() -> int:
    value = os.environ.get("LAWFUL_BREACH_HOURS", "72")
    if not value.isdigit() or int(value) < 1:
        raise LawfulError(f"LAWFUL_BREACH_HOURS={value!r} is not a number of hours", "give e.g. 72")
    return int(value)


def touched(session: Session, *, start: datetime, end: datetime, suspect: str | None) -> dict:
    """From the trail: data actions and disclosures in [start, end), by the suspect if given."""
    lo, hi = int(start.timestamp() * 1e6), int(end.timestamp() * 1e6)
    actions, objects, people, actors, entries = Counter(), set(), set(), Counter(), []
    in_trail: set[str] = set()  # every pseudonym the trail holds so far: what an export of it discloses
    for seq, at_us, who, action, obj, purpose, details, _, _ in audit.iter_entries(session):
        named = PSEUDONYM.findall(details) if "psn:" in details else []
        if not lo <= at_us < hi or action not in COUNTED or (suspect and who != suspect):
            in_trail.update(named)
            continue
        actions[action] += 1
        actors[who] += 1
        objects.add(obj)
        d = json.loads(details)
        records = d.get("records", [])
        objects.update(f"incident:{i}" for i in (records if isinstance(records, list) else []) if isinstance(i, int))
        people.update(named)
        if action == "audit.export":
            people.update(in_trail)
        in_trail.update(named)
        entries.append(seq)
    return {"actions": dict(actions), "actors": dict(actors), "objects": sorted(objects),
            "people": sorted(people), "trail_entries": entries}


def record(session: Session, *, actor: Actor, description: str, start: datetime, end: datetime,
           suspect: str | None = None, aware_at: datetime | None = None) -> Breach:
    require(actor, "privacy.breaches", Resource("trail", "breach", "public"), "data protection")
    if not description.strip():
        raise LawfulError("describe the suspected breach", "give --description")
    if end <= start:
        raise LawfulError("the window is empty", "give --to after --from")
    now = datetime.now(timezone.utc)
    aware = aware_at or now
    b = Breach(description=description, suspect=suspect, window_from=start, window_to=end, aware_at=aware,
               deadline=aware + timedelta(hours=notify_hours()),
               affected=touched(session, start=start, end=end, suspect=suspect), recorded_by=actor.name,
               recorded_at=now)
    session.add(b)
    session.flush()
    audit.append(session, actor=actor.name, action="config.change", obj=f"breach:{b.id}", purpose="data protection",
                 details={"suspect": suspect, "deadline": b.deadline.isoformat(),
                          "people": len(b.affected["people"]), "objects": len(b.affected["objects"])})
    return b


def mark_notified(session: Session, *, actor: Actor, breach_id: int, to: str) -> Breach:
    require(actor, "privacy.breaches", Resource("trail", "breach", "public"), "data protection")
    b = session.get(Breach, breach_id)
    if b is None:
        raise NotFound(f"there is no breach {breach_id}", "see `lawful breaches list`")
    if not to.strip():
        raise LawfulError("name the authority notified", "give --to, e.g. the supervisory authority's name")
    b.notified_at, b.notified_to = datetime.now(timezone.utc), to
    audit.append(session, actor=actor.name, action="disclosure", obj=f"breach:{b.id}", purpose="data protection",
                 details={"recipient": to})
    return b


def get_all(session: Session) -> list[Breach]:
    return list(session.scalars(select(Breach).order_by(Breach.id)))


def breach_view(b: Breach, now: datetime | None = None) -> dict:
    """A breach as the API shows it: overdue when not notified and past its deadline."""
    now = now or datetime.now(timezone.utc)
    return {"id": b.id, "description": b.description, "suspect": b.suspect,
            "window_from": b.window_from.isoformat(), "window_to": b.window_to.isoformat(),
            "aware_at": b.aware_at.isoformat(), "deadline": b.deadline.isoformat(), "affected": b.affected,
            "recorded_by": b.recorded_by, "recorded_at": b.recorded_at.isoformat(),
            "notified_at": b.notified_at.isoformat() if b.notified_at else None, "notified_to": b.notified_to,
            "overdue": b.notified_to is None and b.deadline < now}


def list_breaches(session: Session, *, actor: Actor) -> list[dict]:
    """The breach register, for the data-protection officer: what each breach touched (which names pseudonymised
    people), so the reading is a consultation on the trail."""
    require(actor, "privacy.breaches", Resource("trail", "breach", "public"), "data protection")
    now = datetime.now(timezone.utc)
    rows = [breach_view(b, now) for b in get_all(session)]
    audit.append(session, actor=actor.name, action="consultation", obj="breaches", purpose="data protection",
                 details={"breaches": len(rows), "overdue": sum(r["overdue"] for r in rows)})
    return rows
