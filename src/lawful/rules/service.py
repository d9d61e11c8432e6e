"""The rules' link to the store (like forecast/service.py): stored incidents as engine events, alerts through the
governance gate, and officers' verdicts read back; each a step of one transaction, `(session, *, actor, ...)`.
lawful.rules.flows strings them together for the server; everything else in lawful.rules stays pure."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.rules.engine import Alert, Events
from lawful.rules.language import AreaSpike, Compare, CountNear, RuleSet
from lawful.rules.sources import from_incidents


def sha256_text(text: str) -> str:
    """The SHA-256 of a rule file sent as text: its UTF-8 bytes, which are the file's bytes when the client sent
    the file's text as it is (byte-order mark included)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(rules: str, zones: dict[str, str] | None = None) -> str:
    """What a rule set's card pins ([rules] sha256): the rule file's SHA-256; for rules that read a zone file, the
    SHA-256 of the rule file together with that file's name and text, so an approval covers the zones the rules run
    with (else anyone issuing could send other zones under the approved rules: more alerts, other places)."""
    if not zones:
        return sha256_text(rules)
    parts = ["lawful-rules-with-zones-v1", rules]
    for name in sorted(zones):
        parts += [name, zones[name]]
    return sha256_text("\x00".join(parts))


def load_events(session: Session, *, rs: RuleSet, start: datetime, end: datetime) -> Events:
    """Stored incidents in [start, end), plus as much history before start as the rules' windows need."""
    from lawful.incidents.service import fetch_incident_frame

    return from_incidents(fetch_incident_frame(session, start=start - timedelta(hours=rs.lookback_hours), end=end))


def check_issue(session: Session, *, actor, entry, rules_sha256: str, rule_file: str, purpose: str,
                reads_store: bool) -> str | None:
    """Before running: the entry is a rule set, this is the very file its card approved (by SHA-256; `rule_file`
    names it in the message), the gate would let its alerts out (its refusal, written to the trail, is returned),
    and the actor may read the stored incidents (AccessDenied otherwise)."""
    from lawful.governance import gate
    from lawful.incidents.service import require_read

    if entry.kind != "rule-set":
        raise LawfulError(f"{entry.ref} is a {entry.kind}, not a rule set", "give the rule set's registry entry")
    approved = (entry.card.get("rules") or {}).get("sha256", "")
    if rules_sha256 != approved:
        raise LawfulError(f"{rule_file} (with the zone file it names, if any) is not what {entry.ref} was approved "
                          f"with (SHA-256 {rules_sha256[:12]}... against {approved[:12]}...)", "run the approved file "
                          "and zones, or register and approve these as a new version")
    why = gate.precheck(session, actor=actor, entry=entry, purpose=purpose, kind="alert")
    if why is None and reads_store:
        require_read(session, actor=actor, purpose=purpose)
    return why


def record_store_read(session: Session, *, actor, purpose: str, rs: RuleSet, rules_sha256: str, start: datetime,
                      end: datetime, issue: str | None) -> int:
    """Stored incidents are about to be read for a rule run: on the trail in the actor's name before the read. A
    run that only tries rules is `development`; one that issues alerts is a `consultation` for the purpose."""
    from lawful.trail import audit

    return audit.append(session, actor=actor.name, action="consultation" if issue else "development",
                        obj="incidents", purpose=purpose,
                        details={"analysis": f"rules run {rs.name}", "rules_sha256": rules_sha256,
                                 "start": start.isoformat(), "end": end.isoformat(),
                                 "lookback_hours": rs.lookback_hours, "issue": issue})


def alert_places(events: Events, alerts: list[Alert], crs: str, cell_m: float = 200.0) -> dict[str, dict]:
    """Each alerted event's place, named as forecasts name theirs (lawful.forecast.places): the 200 m cell id, the
    event's lon/lat and its neighbourhood (its area, 'unknown' when it has none)."""
    import numpy as np

    from lawful.forecast.grid import to_lonlat

    wanted = {a.event_id for a in alerts}
    ids = events.columns["id"]
    rows = [i for i in range(len(ids)) if ids[i] in wanted]
    if not rows:
        return {}
    x, y = events.columns["x"][rows].astype(float), events.columns["y"][rows].astype(float)
    lon, lat = to_lonlat(crs, x, y)
    area = events.columns.get("area")
    return {str(ids[i]): {"cell_id": f"{cell_m:g}m:{int(np.floor(x[k] / cell_m))}:{int(np.floor(y[k] / cell_m))}",
                          "lon": round(float(lon[k]), 6), "lat": round(float(lat[k]), 6),
                          "neighbourhood": str(area[i]) if area is not None and area[i] is not None
                          and area[i] == area[i] else "unknown"}
            for k, i in enumerate(rows)}


def issue_alerts(session: Session, *, actor, entry, purpose: str, alerts: list[Alert],
                 tz: ZoneInfo, places: dict[str, dict] | None = None) -> tuple[list[int], str | None]:
    """Every alert through the gate, in the caller's transaction: (output ids, None) when all are issued; ([], the
    reason) when the gate refuses the first, its refusal on the trail once the caller commits; a refusal after the
    first raises, so the error rolls back all of them. `places` (alert_places) names each alert's place in its
    payload and explanation."""
    from lawful.forecast.places import line
    from lawful.governance import gate

    ids = []
    for a in alerts:
        record = a.record()
        conditions = record.pop("conditions")
        place = (places or {}).get(a.event_id)
        sentence = a.sentence(tz) + (f" Place: {line(place)}." if place else "")
        r = gate.issue(session, actor=actor, entry=entry, purpose=purpose, kind="alert",
                       subject=f"{a.rule} v{a.version} on event {a.event_id}",
                       payload={**record, "held": [c["held"] for c in conditions], **({"place": place} if place else {})},
                       explanation=[{"sentence": sentence, **(place or {})}, *conditions])
        if not r.allowed:
            if not ids:
                return [], r.refused
            raise LawfulError(f"the gate refused: {r.refused}", "nothing was issued")
        ids.append(r.output.id)
    return ids, None


def read_verdicts(session: Session, *, actor, rule: str, purpose: str) -> list[dict]:
    """Officers' verdicts on a rule's alerts for the person reading them: the declared purpose must be one the
    policy lets them read outputs for, and only alerts whose own purpose they may read are counted. The reading is
    a `consultation` in their name."""
    from lawful.access.decide import Resource, decide, load_policy, require
    from lawful.governance.models import Entry, Output, Review
    from lawful.trail import audit

    policy = load_policy()
    require(actor, "outputs.read", Resource("output", f"alerts:{rule}"), purpose, policy)
    rows = session.execute(select(Output, Review, Entry).join(Review, Review.output_id == Output.id)
                           .join(Entry, Output.entry_id == Entry.id)
                           .where(Output.kind == "alert", Output.sandbox.is_(False)).order_by(Output.id))
    out = []
    for o, r, e in rows:
        p = o.payload
        if p.get("rule") != rule or not decide(actor, "outputs.read", Resource("model", e.name), o.purpose,
                                               policy).allowed:
            continue
        at = datetime.fromisoformat(p["time"]).replace(tzinfo=timezone.utc)
        out.append({"rule": rule, "version": int(p["version"]), "at": at.isoformat(), "verdict": r.decision,
                    "held": [bool(h) for h in p["held"]]})
    audit.append(session, actor=actor.name, action="consultation", obj=f"verdicts:{rule}"[:250], purpose=purpose,
                 details={"rule": rule, "verdicts": len(out)})
    return out


@dataclass(frozen=True)
class ValueWarning:
    """A rule compares a stored field with a value no stored incident has: most likely a misspelling, and the
    condition can then never hold (or, with !=, always holds)."""

    rule: str  # "id vN"
    condition: str
    field: str
    value: str
    closest: str | None  # the nearest value the store holds, if any is near

    def text(self) -> str:
        hint = f"; the closest stored value is {self.closest!r}" if self.closest else ""
        return (f"{self.rule}: `{self.condition}` compares {self.field} with {self.value!r}, which no stored "
                f"incident has{hint}")


def _stored_columns():
    from lawful.incidents.models import Incident

    return {"category": Incident.category, "area": Incident.area_code, "premises": Incident.premises_type}


def _compared_values(rs: RuleSet) -> list[tuple[str, str, str, str]]:
    """(rule, condition text, stored field, value) for every text value a rule compares a stored field with:
    ==, != and in on category, area and premises, and the category of windowed counts."""
    stored = _stored_columns()
    out = []
    for r in rs.rules:
        for c in r.clauses:
            cond = c.condition
            if isinstance(cond, Compare) and cond.field in stored and cond.op in ("==", "!=", "in"):
                values = cond.value if cond.op == "in" else (cond.value,)
                out += [(r.ref, c.text, cond.field, v) for v in values if isinstance(v, str)]
            elif isinstance(cond, (CountNear, AreaSpike)) and cond.category is not None:
                out.append((r.ref, c.text, "category", cond.category))
    return out


def closest(value: str, known: set[str]) -> str | None:
    """The known value nearest to `value`: one differing only in case first, else the most similar (difflib)."""
    by_fold = {k.casefold(): k for k in sorted(known)}
    if value.casefold() in by_fold:
        return by_fold[value.casefold()]
    near = difflib.get_close_matches(value.casefold(), list(by_fold), n=1, cutoff=0.6)
    return by_fold[near[0]] if near else None


def check_values(session: Session, *, rs: RuleSet) -> list[ValueWarning]:
    """Warnings for values the rules compare stored fields with that the store has never seen, each with the
    closest value it has. A field the store holds no value for at all is not judged (nothing loaded yet)."""
    wanted = _compared_values(rs)
    columns = _stored_columns()
    known = {f: set(session.scalars(select(columns[f]).where(columns[f].is_not(None)).distinct()))
             for f in {w[2] for w in wanted}}
    return [ValueWarning(rule, text, f, v, closest(v, known[f])) for rule, text, f, v in wanted
            if known[f] and v not in known[f]]


def value_warnings(session: Session, *, actor, rs: RuleSet, purpose: str, rules_sha256: str) -> list[ValueWarning]:
    """check_values for a person: reading which values the store holds needs `incidents.read` at the clearance
    of the data for the declared purpose, and is a `consultation` in their name."""
    from lawful.incidents.service import require_read
    from lawful.trail import audit

    require_read(session, actor=actor, purpose=purpose)
    warnings = check_values(session, rs=rs)
    audit.append(session, actor=actor.name, action="consultation", obj="incidents:values", purpose=purpose,
                 details={"analysis": f"rules check {rs.name}", "rules_sha256": rules_sha256,
                          "fields": sorted({w[2] for w in _compared_values(rs)}), "warnings": len(warnings)})
    return warnings
