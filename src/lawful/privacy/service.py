"""The pseudonymisation key, checked against the store, and governed re-identification.

The key: its fingerprint (`pseudonyms.fingerprint`, never the key) is written to the trail as a `config.change`
entry on object `pseudonym-key` when the key is first created or first used. From then on a missing or different
key is refused, naming the key file, instead of silently making a new key (new pseudonyms would not link to the
old ones, and a request about a person would find nothing while their records remain).

Re-identification: given an identity someone already knows (an investigator's suspect or a victim asking for their
records), find the records carrying its pseudonym. Its own permission, a stated purpose, and a trail entry each
time (the identity itself is not written to the trail, only the field and what was found)."""

from __future__ import annotations

import json

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from lawful.access.service import Actor
from lawful.errors import ConfigError, LawfulError
from lawful.incidents.models import Incident
from lawful.incidents.service import get_all_with_attribute, require_read
from lawful.privacy.pseudonyms import PREFIX, fingerprint, new_key, pseudonym, read_key
from lawful.settings import Settings
from lawful.trail import audit

KEY_OBJECT = "pseudonym-key"


def recorded_fingerprint(session: Session) -> str | None:
    """The fingerprint of the key the store's pseudonyms were made with, as the trail last recorded it."""
    for entry in audit.get_all(session, action="config.change", obj=KEY_OBJECT, limit=1):
        return json.loads(entry.details).get("pseudonym_key")
    return None


def pseudonyms_stored(session: Session) -> bool:
    """Whether any pseudonym is in the store already: in a record, or in a data-subject request."""
    from lawful.privacy.models import SubjectRequest

    if session.scalar(select(SubjectRequest.id).limit(1)) is not None:
        return True
    return session.scalar(select(Incident.id).where(cast(Incident.attributes, Text).like(f'%"{PREFIX}%')).limit(1)) \
        is not None


def pseudonym_key(session: Session, *, actor: Actor | str, settings: Settings) -> bytes:
    """The pseudonymisation key, refused if it is not the one the store's pseudonyms were made with. Creates the
    key only while the store holds no pseudonym; records its fingerprint on the trail the first time."""
    path = settings.pseudonym_key_path
    recorded = recorded_fingerprint(session)
    key = read_key(path)
    if key is None:
        if recorded is not None or pseudonyms_stored(session):
            raise ConfigError(
                f"the pseudonymisation key {path} is missing, but this store already holds pseudonyms made with it",
                f"restore {path} from backup (or point LAWFUL_PSEUDONYM_KEY at it); a new key would not link to "
                "the stored pseudonyms, so Lawful will not make one", kind="unavailable")
        key = new_key(path)
        recorded_now = {"pseudonym_key": fingerprint(key), "created": True}
    else:
        recorded_now = {"pseudonym_key": fingerprint(key), "created": False}
    if recorded is None:
        audit.append(session, actor=getattr(actor, "name", actor), action="config.change", obj=KEY_OBJECT,
                     purpose="data protection", details=recorded_now)
    elif recorded != recorded_now["pseudonym_key"]:
        raise ConfigError(
            f"the pseudonymisation key {path} is not the key this store's pseudonyms were made with (its "
            f"fingerprint is {recorded_now['pseudonym_key']}; the trail records {recorded})",
            f"restore the original {path} from backup (or point LAWFUL_PSEUDONYM_KEY at it); with another key "
            "nobody's records can be found or linked", kind="unavailable")
    return key


def reidentify(session: Session, *, actor: Actor, field: str, value: str, purpose: str,
               settings: Settings) -> list[Incident]:
    """Records whose `field` holds the pseudonym of `value`."""
    if not value.strip():
        raise LawfulError("no identity given", "give the name, number or plate to look for")
    require_read(session, actor=actor, purpose=purpose, action="incidents.reidentify")
    p = pseudonym(pseudonym_key(session, actor=actor, settings=settings), value)
    matches = get_all_with_attribute(session, field=field, value=p)
    audit.append(session, actor=actor.name, action="combination", obj=f"incidents.{field}", purpose=purpose,
                 details={"what": "re-identification", "pseudonym": p, "records": [m.id for m in matches]})
    return matches


def reidentify_view(session: Session, *, actor: Actor, field: str, value: str, purpose: str,
                    settings: Settings) -> list[dict]:
    """reidentify(), as the API answers it."""
    return [{"id": m.id, "source": m.source, "category": m.category, "occurred_at": m.occurred_at.isoformat(),
             "area": m.area_code} for m in reidentify(session, actor=actor, field=field, value=value, purpose=purpose,
                                                       settings=settings)]
