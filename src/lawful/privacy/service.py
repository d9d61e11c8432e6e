"""Governed re-identification: given an identity someone already knows (an investigator's suspect or a victim
asking for their records), find the records carrying its pseudonym. Its own permission, a stated purpose, and a
trail entry each time (the identity itself is not written to the trail, only the field and what was found)."""

from __future__ import annotations


from sqlalchemy.orm import Session

from lawful.access.service import Actor
from lawful.errors import LawfulError
from lawful.trail import audit
from lawful.incidents.models import Incident
from lawful.incidents.service import get_all_with_attribute, require_read
from lawful.privacy.pseudonyms import load_key, pseudonym
from lawful.settings import Settings


def reidentify(session: Session, *, actor: Actor, field: str, value: str, purpose: str,
               settings: Settings) -> list[Incident]:
    """Records whose `field` holds the pseudonym of `value`."""
    if not value.strip():
        raise LawfulError("no identity given", "give the name, number or plate to look for")
    require_read(session, actor=actor, purpose=purpose, action="incidents.reidentify")
    p = pseudonym(load_key(settings.pseudonym_key_path), value)
    matches = get_all_with_attribute(session, field=field, value=p)
    audit.append(session, actor=actor.name, action="combination", obj=f"incidents.{field}", purpose=purpose,
                 details={"what": "re-identification", "pseudonym": p, "records": [m.id for m in matches]})
    return matches
