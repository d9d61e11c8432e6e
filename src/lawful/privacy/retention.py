"""Retention: what each source keeps and for how long, legal holds, and the purge that removes expired records
(and nothing else). The trail keeps a tombstone of each purge (how many, which categories, a digest of the ids),
never the content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import and_, delete, func, not_, or_, select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.access.service import Actor
from lawful.errors import ConfigError, LawfulError, NotFound
from lawful.trail import audit
from lawful.incidents.models import Incident, QuarantinedRow
from lawful.privacy.models import LegalHold


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RetentionRow:
    source: str
    category: str
    classification: str
    records: int
    expired: int
    held: int
    next_expiry: datetime | None


def held_clause(holds: list[LegalHold]):
    """SQL: the incident falls under one of the active holds."""
    if not holds:
        return None
    return or_(*[and_(Incident.occurred_at >= h.occurred_from, Incident.occurred_at < h.occurred_to,
                      *( [Incident.category == h.category] if h.category else []),
                      *( [Incident.area_code == h.area] if h.area else [])) for h in holds])


def active_holds(session: Session) -> list[LegalHold]:
    return list(session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)))


def report(session: Session, *, now: datetime | None = None) -> list[RetentionRow]:
    """Per source, category and classification: records kept, expired, held, and when the next one expires."""
    now = now or _now()
    held = held_clause(active_holds(session))
    expired = and_(Incident.retention_until.is_not(None), Incident.retention_until < now)
    q = select(Incident.source, Incident.category, Incident.classification, func.count()).group_by(
        Incident.source, Incident.category, Incident.classification)
    rows = []
    for source, category, classification, n in session.execute(q):
        base = and_(Incident.source == source, Incident.category == category, Incident.classification == classification)
        n_expired = session.scalar(select(func.count()).where(base, expired)) or 0
        n_held = (session.scalar(select(func.count()).where(base, expired, held)) or 0) if held is not None else 0
        nxt = session.scalar(select(func.min(Incident.retention_until)).where(base, Incident.retention_until >= now))
        rows.append(RetentionRow(source, category, classification, n, n_expired, n_held, nxt))
    return sorted(rows, key=lambda r: (r.source, r.category, r.classification))


def hold_view(h: LegalHold) -> dict:
    return {"id": h.id, "category": h.category, "area": h.area, "occurred_from": h.occurred_from.isoformat(),
            "occurred_to": h.occurred_to.isoformat(), "reason": h.reason, "created_by": h.created_by,
            "created_at": h.created_at.isoformat(),
            "released_at": h.released_at.isoformat() if h.released_at else None, "released_by": h.released_by}


def retention_report(session: Session, *, actor: Actor, purpose: str = "retention",
                     now: datetime | None = None) -> dict:
    """The retention report and the active legal holds, for whoever the policy lets purge (the data-protection
    officer): the hold reasons can name investigations, so the reading is a consultation on the trail."""
    require(actor, "privacy.purge", Resource("incidents", "retention", "public"), purpose)
    rows = report(session, now=now)
    holds = active_holds(session)
    audit.append(session, actor=actor.name, action="consultation", obj="incidents:retention", purpose=purpose,
                 details={"what": "retention report", "rows": len(rows), "holds": [h.id for h in holds]})
    return {"rows": [{"source": r.source, "category": r.category, "classification": r.classification,
                      "records": r.records, "expired": r.expired, "held": r.held,
                      "next_expiry": r.next_expiry.isoformat() if r.next_expiry else None} for r in rows],
            "holds": [hold_view(h) for h in holds]}


@dataclass(frozen=True)
class PurgeResult:
    removed: int
    kept_for_holds: int
    by_category: dict[str, int]
    digest: str  # SHA-256 of the removed ids, so an auditor can check a claimed id list against the tombstone


def purge(session: Session, *, actor: Actor, purpose: str, dry_run: bool = False,
          now: datetime | None = None) -> PurgeResult:
    """Remove every incident past its retention date that no active legal hold covers; nothing else."""
    require(actor, "privacy.purge", Resource("incidents", "expired", "public"), purpose)
    now = now or _now()
    expired = and_(Incident.retention_until.is_not(None), Incident.retention_until < now)
    held = held_clause(active_holds(session))
    target = and_(expired, not_(held)) if held is not None else expired
    rows = session.execute(select(Incident.id, Incident.category).where(target).order_by(Incident.id)).all()
    kept = session.scalar(select(func.count()).where(expired, held)) if held is not None else 0
    ids = [r.id for r in rows]
    by_category: dict[str, int] = {}
    for r in rows:
        by_category[r.category] = by_category.get(r.category, 0) + 1
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    if not dry_run and ids:
        for start in range(0, len(ids), 10_000):
            session.execute(delete(Incident).where(Incident.id.in_(ids[start:start + 10_000])))
        # quarantined raw rows of loads whose every record is gone hold raw values too: they go with them
        session.execute(delete(QuarantinedRow).where(not_(QuarantinedRow.load_id.in_(
            select(Incident.load_id).distinct()))))
    if not dry_run:
        audit.append(session, actor=actor.name, action="erasure", obj="incidents", purpose=purpose,
                     details={"what": "retention purge", "removed": len(ids), "kept_for_holds": kept or 0,
                              "by_category": by_category, "ids_sha256": digest, "before": now.isoformat()})
    else:  # a dry run changes nothing but still read which records are due: a consultation
        audit.append(session, actor=actor.name, action="consultation", obj="incidents:expired", purpose=purpose,
                     details={"what": "retention purge (dry run)", "would_remove": len(ids),
                              "kept_for_holds": kept or 0, "by_category": by_category, "before": now.isoformat()})
    return PurgeResult(len(ids), kept or 0, by_category, digest)


def add_hold(session: Session, *, actor: Actor, reason: str, occurred_from: datetime, occurred_to: datetime,
             category: str | None = None, area: str | None = None) -> LegalHold:
    require(actor, "privacy.hold", Resource("incidents", category or "all", "public"), "data protection")
    if not reason.strip():
        raise LawfulError("a legal hold needs a reason", "give --reason, e.g. the case or request it serves")
    if occurred_to <= occurred_from:
        raise LawfulError("the hold's period is empty", "give --to after --from")
    hold = LegalHold(category=category, area=area, occurred_from=occurred_from, occurred_to=occurred_to, reason=reason,
                     created_by=actor.name, created_at=_now())
    session.add(hold)
    session.flush()
    audit.append(session, actor=actor.name, action="config.change", obj=f"legal-hold:{hold.id}",
                 purpose="data protection", details={"reason": reason, "category": category, "area": area,
                                                     "from": occurred_from.isoformat(), "to": occurred_to.isoformat()})
    return hold


def release_hold(session: Session, *, actor: Actor, hold_id: int) -> None:
    require(actor, "privacy.hold", Resource("incidents", "all", "public"), "data protection")
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise NotFound(f"there is no active legal hold {hold_id}", "see the active holds with `lawful privacy retention`")
    hold.released_at, hold.released_by = _now(), actor.name
    audit.append(session, actor=actor.name, action="config.change", obj=f"legal-hold:{hold.id}",
                 purpose="data protection", details={"released": True})


@dataclass(frozen=True)
class SourceFields:
    source: str
    mapping: str | None  # the mapping's name; None when the client did not send the source's mapping
    purposes: tuple[str, ...]
    fields: tuple[str, ...]  # the incident fields the mapping fills
    kept_extras: tuple[str, ...]
    pseudonymised: tuple[str, ...]
    dropped: tuple[str, ...]  # columns the source offered and the mapping did not declare
    retention_days: int | None
    retention_by_category: dict[str, int]
    records: int


def _bundled(path: str):
    """The bundled dataset's mapping, when a load recorded it (the server's own file, never a client's path)."""
    from lawful.incidents.datasets import toronto_mapping

    m = toronto_mapping()
    try:
        return m if Path(path).resolve() == Path(m.path).resolve() else None
    except (OSError, ValueError):
        return None


def minimisation(session: Session, *, actor: Actor, mappings: list[tuple[str, str]] = (),
                 purpose: str = "data protection") -> list[SourceFields]:
    """Per source: which fields are kept, which dropped, which pseudonymised, for which declared purposes, and how
    long. The mappings are the ones the client sent (name, TOML text), matched to the loads by their source name;
    a bundled dataset's own mapping is known to the server. Columns dropped and record counts come from the loads.
    For the data-protection officer (privacy.purge); a consultation on the trail."""
    from lawful.incidents.mapping import parse_mapping
    from lawful.incidents.models import Load
    from lawful.limits import parse_toml

    require(actor, "privacy.purge", Resource("incidents", "minimisation", "public"), purpose)
    sent = {}
    for name, text in mappings:
        m = parse_mapping(parse_toml(text, f"Mapping {name}", error=ConfigError), name)
        sent[m.source] = m
    out = []
    for source in sorted(set(session.scalars(select(Load.source)))):
        loads = list(session.scalars(select(Load).where(Load.source == source).order_by(Load.id)))
        dropped = sorted({c for ld in loads for c in (ld.dropped_columns or [])})
        count = session.scalar(select(func.count()).where(Incident.source == source)) or 0
        m = sent.get(source) or _bundled(loads[-1].mapping_name)
        if m is None:
            out.append(SourceFields(source, None, (), (), (), (),
                                    tuple(dropped), None, {}, count))
            continue
        out.append(SourceFields(source, Path(m.path).name, m.purposes, tuple(sorted(m.fields) + sorted(m.times)),
                                m.extra_keep, m.extra_pseudonymise, tuple(dropped), m.retention_days,
                                m.retention_by_category, count))
    audit.append(session, actor=actor.name, action="consultation", obj="incidents:minimisation", purpose=purpose,
                 details={"what": "minimisation report", "sources": [r.source for r in out],
                          "mappings_sent": sorted(sent)})
    return out


def minimisation_view(rows: list[SourceFields]) -> list[dict]:
    return [{"source": r.source, "mapping": r.mapping, "records": r.records, "purposes": list(r.purposes),
             "fields": list(r.fields), "kept_extras": list(r.kept_extras), "pseudonymised": list(r.pseudonymised),
             "dropped": list(r.dropped), "retention_days": r.retention_days,
             "retention_by_category": dict(r.retention_by_category)} for r in rows]
