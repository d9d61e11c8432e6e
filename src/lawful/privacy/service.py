"""Governed re-identification: given an identity someone already knows (an investigator's suspect or a victim
asking for their records), find the records carrying its pseudonym. Its own permission, a stated purpose, and a
trail entry each time (the identity itself is not written to the trail, only the field and what was found)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.access.service import Actor
from lawful.errors import LawfulError
from lawful.governance import audit
from lawful.incidents.service import get_highest_classification
from lawful.privacy.pseudonyms import load_key, pseudonym
from lawful.settings import Settings


@dataclass(frozen=True)
class Match:
    id: int
    source: str
    category: str
    occurred_at: datetime
    area: str | None


def reidentify(session: Session, *, actor: Actor, field: str, value: str, purpose: str,
               settings: Settings) -> list[Match]:
    """Records whose `field` holds the pseudonym of `value`."""
    if not value.strip():
        raise LawfulError("no identity given", "give the name, number or plate to look for")
    require(actor, "incidents.reidentify", Resource("incidents", field, get_highest_classification(session)), purpose)
    p = pseudonym(load_key(settings.pseudonym_key_path), value)
    dialect = session.get_bind().dialect.name
    lookup = "json_extract(attributes, :path)" if dialect == "sqlite" else "attributes ->> :field"
    rows = session.execute(text(f"SELECT id, source, category, occurred_at, area_code FROM incidents "
                                f"WHERE attributes IS NOT NULL AND {lookup} = :p ORDER BY occurred_at"),
                           {"path": f'$."{field}"', "field": field, "p": p}).all()
    matches = [Match(r[0], r[1], r[2], r[3] if isinstance(r[3], datetime) else datetime.fromisoformat(str(r[3])),
                     r[4]) for r in rows]
    audit.append(session, actor=actor.name, action="combination", obj=f"incidents.{field}", purpose=purpose,
                 details={"what": "re-identification", "pseudonym": p, "records": [m.id for m in matches]})
    return matches
