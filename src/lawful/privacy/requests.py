"""Data-subject requests: access, correction and deletion, each with a statutory deadline, status and overdue
warnings. The requester's identity is checked by staff out of band; Lawful stores only its pseudonym.

- access: an export of every record linked to the person's pseudonym and every trail entry about those records
  or the pseudonym itself, except the entries of an ongoing investigation, which are withheld and counted (Law
  Enforcement Directive Art. 15): an entry whose purpose is an investigation ("investigation 2026-0412") while an
  active legal hold's reason begins with that same purpose (the DPO places the hold when the investigation opens
  and releases it when it ends, which also keeps its records from being purged or deleted);
- correction: named fields of the person's records set to new values (an 'alteration' on the trail);
- deletion: the person's records removed, except those under a legal hold, which the result names.

A request that matched no record is closed saying so (its result's outcome is "no records matched"), never as a
plain "done". The identity is matched through the very normalisation ingestion used (pseudonyms.normalise).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field as dc_field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, load_policy, purpose_matches, require
from lawful.access.service import Actor
from lawful.errors import Conflict, LawfulError, NotFound
from lawful.trail import audit
from lawful.incidents.models import Incident
from lawful.incidents.service import get_all_with_attribute
from lawful.privacy.models import SubjectRequest
from lawful.privacy.pseudonyms import pseudonym
from lawful.privacy.retention import active_holds, held_clause
from lawful.privacy.service import pseudonym_key
from lawful.settings import Settings

KINDS = ("access", "correction", "deletion")
CORRECTABLE = {"category": "category", "area": "area_code", "premises": "premises_type"}
NO_MATCH = "no records matched"
RESTRICTION_GROUND = ("Law Enforcement Directive (EU) 2016/680, Art. 15(1)(a) and (b): access restricted to avoid "
                      "obstructing an ongoing investigation and prejudicing the detection, investigation or "
                      "prosecution of criminal offences")


def deadline_days() -> int:
    text_ = os.environ.get("LAWFUL_REQUEST_DAYS", "30")
    if not text_.isdigit() or int(text_) < 1:
        raise LawfulError(f"LAWFUL_REQUEST_DAYS={text_!r} is not a number of days", "give the statutory deadline, e.g. 30")
    return int(text_)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _require(actor: Actor) -> None:
    require(actor, "privacy.requests", Resource("incidents", "subject", "public"), "data protection")


def open_request(session: Session, *, actor: Actor, kind: str, field: str, value: str, settings: Settings,
                 received_at: datetime | None = None, note: str = "") -> SubjectRequest:
    _require(actor)
    if kind not in KINDS:
        raise LawfulError(f"{kind!r} is not a request kind", f"use one of {', '.join(KINDS)}")
    if not value.strip():
        raise LawfulError("no identity given", "give the requester's name, number or plate as held in the records")
    received = received_at or _now()
    key = pseudonym_key(session, actor=actor, settings=settings)
    req = SubjectRequest(kind=kind, field=field, **identity(key, value), received_at=received,
                         deadline=received + timedelta(days=deadline_days()), status="open",
                         note=note, opened_by=actor.name)
    session.add(req)
    session.flush()
    audit.append(session, actor=actor.name, action="config.change", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"kind": kind, "field": field, "pseudonym": req.pseudonym,
                                                     "deadline": req.deadline.isoformat()})
    return req


def identity(key: bytes, value: str) -> dict:
    """What a request stores of whose records are asked for: the identity's pseudonym (as ingestion makes it) and
    its pseudonyms in case files (casefiles.identify.subject_pseudonyms), never the identity itself."""
    from lawful.casefiles.identify import subject_pseudonyms

    return {"pseudonym": pseudonym(key, value), "case_pseudonyms": subject_pseudonyms(key, value)}


def get_all(session: Session) -> list[SubjectRequest]:
    return list(session.scalars(select(SubjectRequest).order_by(SubjectRequest.id)))


def request_view(r: SubjectRequest, now: datetime | None = None) -> dict:
    """A request as the API shows it (its pseudonym is not shown): overdue when still open past its deadline."""
    now = now or _now()
    return {"id": r.id, "kind": r.kind, "field": r.field, "received_at": r.received_at.isoformat(),
            "deadline": r.deadline.isoformat(), "status": r.status, "overdue": r.status == "open" and r.deadline < now,
            "note": r.note, "opened_by": r.opened_by, "closed_at": r.closed_at.isoformat() if r.closed_at else None,
            "closed_by": r.closed_by, "result": r.result,
            "no_records_matched": bool(r.result and r.result.get("outcome") == NO_MATCH)}


def list_requests(session: Session, *, actor: Actor) -> list[dict]:
    """Every request with its deadline and whether it is overdue, for the data-protection officer; a
    consultation on the trail."""
    _require(actor)
    now = _now()
    rows = [request_view(r, now) for r in get_all(session)]
    audit.append(session, actor=actor.name, action="consultation", obj="subject-requests", purpose="data protection",
                 details={"requests": len(rows), "overdue": sum(r["overdue"] for r in rows)})
    return rows


def _get_open(session: Session, request_id: int, kind: str) -> SubjectRequest:
    req = session.get(SubjectRequest, request_id)
    if req is None:
        raise NotFound(f"there is no request {request_id}", "see `lawful requests list`")
    if req.kind != kind:
        raise LawfulError(f"request {request_id} is a {req.kind} request, not {kind}", f"use the {req.kind} command")
    if req.status != "open":
        raise Conflict(f"request {request_id} is already {req.status}", "open a new request")
    # A request filed on the public form names an identity nobody has checked yet: answering it before the agency
    # has verified who asked would disclose (or delete) another person's records to whoever typed their name.
    from lawful.transparency.models import PublicRequest  # here: transparency builds on privacy, not the reverse

    public = session.scalar(select(PublicRequest).where(PublicRequest.request_id == req.id))
    if public is not None and public.identity != "verified":
        raise Conflict(f"request {request_id} came from the public form ({public.reference}) and the requester's "
                       f"identity is {public.identity}, not verified",
                       f"check who asked, then record it: `lawful register identity {public.reference} --verified "
                       "--note ...` (or on the console's Complaints page); then answer the request")
    return req


def _records(session: Session, req: SubjectRequest) -> list[Incident]:
    return get_all_with_attribute(session, field=req.field, value=req.pseudonym)


def _close(session: Session, req: SubjectRequest, actor: Actor, result: dict) -> None:
    req.status, req.closed_at, req.closed_by = "done", _now(), actor.name
    req.result = result


def under_investigation(purpose: str, hold_reasons: list[str]) -> bool:
    """An entry's purpose is an investigation that an active legal hold names: the hold's reason is the purpose
    itself, or begins with it followed by something other than a letter or digit ("investigation 2026-0412:
    burglary ring" names "investigation 2026-0412", not "investigation 2026-04")."""
    p = " ".join(purpose.split()).casefold()
    if not purpose_matches("investigation", p, load_policy()):  # the policy says what an investigation's purpose is
        return False
    for reason in hold_reasons:
        r = " ".join(reason.split()).casefold()
        if r == p or (r.startswith(p) and not r[len(p)].isalnum()):
            return True
    return False


def _held_cases(reasons: list[str], ref: str) -> bool:
    """A legal hold names the case (its reference as a whole word in the hold's reason): an ongoing investigation."""
    import re

    pattern = re.compile(rf"(?<![\w-]){re.escape(ref.casefold())}(?![\w-])")
    return any(pattern.search(r.casefold()) for r in reasons)


def _held_objects(session: Session, reasons: list[str]) -> set[str]:
    """The trail objects of the cases an active hold names: the case and its suggestions."""
    from lawful.casefiles.models import Case
    from lawful.governance.models import Output

    refs = [r for r in session.scalars(select(Case.ref)) if reasons and _held_cases(reasons, r)]
    outs = session.scalars(select(Output.id).where(Output.kind == "casefile",
                                                   Output.subject.in_([f"case {r}" for r in refs]))) if refs else []
    return {f"casefile:{r}" for r in refs} | {f"output:{i}" for i in outs}


def _export_label(kind: str, n: int) -> str:
    """Someone else's identifier in a person's own export: "[NAME 1]", "[PLATE 2]", "[PERSON 1]" (kind unknown)."""
    return f"[{'PERSON' if kind == 'identifier' else kind.upper()} {n + 1}]"


def _case_mentions(session: Session, req: SubjectRequest, hold_reasons: list[str],
                   relabel) -> tuple[list[dict], int]:
    """The case-file statements that name the person (under any of the identity's case-file pseudonyms), each with
    the sentences that name them, their own marker shown as [YOU] and everyone else's as a label of this export
    ([NAME 1]); and how many statements were withheld because a legal hold names their case."""
    import re

    from lawful.casefiles.identify import markers
    from lawful.casefiles.models import Case, Identifier, Statement

    mine = set(req.case_pseudonyms or [])
    if not mine:
        return [], 0
    case_ids = set(session.scalars(select(Identifier.case_id).where(Identifier.pseudonym.in_(sorted(mine)))))
    out, withheld = [], 0
    for case in session.scalars(select(Case).where(Case.id.in_(sorted(case_ids))).order_by(Case.id)):
        for st in session.scalars(select(Statement).where(Statement.case_id == case.id).order_by(Statement.id)):
            own = [(a, b) for _, p, a, b in markers(st.text) if p in mine]
            if not own:
                continue
            if _held_cases(hold_reasons, case.ref):
                withheld += 1
                continue
            text = st.text
            for a, b in reversed(own):
                text = text[:a] + "[YOU]" + text[b:]
            text = relabel(text)
            sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+", text) if "[YOU]" in x]
            out.append({"case": case.ref, "statement": st.ref, "given_by": st.role,
                        "stated_on": st.stated_on.isoformat(), "mentions": len(own), "passages": sentences})
    return out, withheld


@dataclass(frozen=True)
class AccessExport:
    records: int
    trail_entries: int
    withheld: int = 0  # trail entries of an ongoing investigation, counted, not disclosed
    outcome: str = ""
    # the export's files: records.json, trail.json and (when something was withheld) withheld.json -> their content
    files: dict = dc_field(default_factory=dict)

    def view(self, request_id: int) -> dict:
        return {"request": request_id, "records": self.records, "trail_entries": self.trail_entries,
                "withheld": self.withheld, "outcome": self.outcome, "files": self.files}


def answer_access(session: Session, *, actor: Actor, request_id: int) -> AccessExport:
    """The person's export (records.json, trail.json, and withheld.json when entries of an ongoing investigation
    are withheld) as content for the client to write; closes the request and logs the disclosure."""
    _require(actor)
    req = _get_open(session, request_id, "access")
    records = _records(session, req)
    ids = {r.id for r in records}
    wanted_objects = {f"incident:{i}" for i in ids}
    about, withheld = [], 0
    investigations = [h.reason for h in active_holds(session)]
    case_psns = req.case_pseudonyms or []
    # the person's own pseudonyms stay; everyone else's become labels of this export (analysis.Labeller)
    from lawful.casefiles.analysis import Labeller

    relabel = Labeller(label=_export_label, keep={req.pseudonym, *case_psns})
    held = _held_objects(session, investigations)
    for seq, at_us, who, action, obj, purpose, details, _, _ in audit.iter_entries(session):
        # cheap text tests first: only entries that name records are parsed to look at which ones
        about_them = obj in wanted_objects or req.pseudonym in details or any(p in details for p in case_psns)
        if not about_them and '"records"' in details:
            about_them = bool(ids & set(json.loads(details).get("records") or []))
        if about_them and investigations and (obj in held or under_investigation(purpose, investigations)):
            withheld += 1
        elif about_them:
            d = json.loads(relabel(details))
            about.append({"seq": seq, "at": datetime.fromtimestamp(at_us / 1e6, timezone.utc).isoformat(),
                          "actor": who, "action": action, "object": obj, "purpose": purpose, "details": d})
    mentions, statements_withheld = _case_mentions(session, req, investigations, relabel)
    files = {"records.json": [{
        "incident": r.id, "source": r.source, "category": r.category, "occurred_at": r.occurred_at.isoformat(),
        "area": r.area_code, "premises": r.premises_type, "lat": r.lat, "lon": r.lon,
        "attributes": json.loads(relabel(json.dumps(r.attributes or {}))),
        "classification": r.classification, "kept_until": r.retention_until.isoformat() if r.retention_until else None,
    } for r in records], "trail.json": about, "casefiles.json": mentions}
    restriction = {}
    if withheld:
        restriction["trail_entries_withheld"] = withheld
    if statements_withheld:
        restriction["case_statements_withheld"] = statements_withheld
    if restriction:  # the person is told that something was withheld, and why; never what
        restriction["legal_ground"] = RESTRICTION_GROUND
        files["withheld.json"] = restriction
    found = [f"{len(records)} record(s)"] if records else []
    found += [f"{len(mentions)} case-file statement(s)"] if mentions else []
    outcome = " and ".join(found) + " disclosed" if found else NO_MATCH
    _close(session, req, actor, {"outcome": outcome, "records": len(records), "trail_entries": len(about),
                                 "case_statements": len(mentions), **restriction})
    audit.append(session, actor=actor.name, action="disclosure", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"recipient": "the data subject", "records": sorted(ids),
                                                     "trail_entries": len(about), "withheld": withheld,
                                                     "case_statements": [[m["case"], m["statement"]]
                                                                         for m in mentions],
                                                     "case_statements_withheld": statements_withheld})
    return AccessExport(len(records), len(about), withheld, outcome, files)


@dataclass(frozen=True)
class Deletion:
    matched: int  # the person's records found
    removed: int
    kept_for_holds: list[int]
    outcome: str  # "no records matched" when nothing carried the pseudonym


def answer_deletion(session: Session, *, actor: Actor, request_id: int) -> Deletion:
    """Remove the person's records except those under a legal hold; says what it matched, removed and kept."""
    _require(actor)
    req = _get_open(session, request_id, "deletion")
    records = _records(session, req)
    held = held_clause(active_holds(session))
    kept = set(session.scalars(select(Incident.id).where(Incident.id.in_([r.id for r in records]), held))) \
        if held is not None and records else set()
    gone = [r.id for r in records if r.id not in kept]
    if gone:
        session.execute(delete(Incident).where(Incident.id.in_(gone)))
    outcome = NO_MATCH if not records else f"removed {len(gone)} of {len(records)} record(s)"
    _close(session, req, actor, {"outcome": outcome, "matched": len(records), "removed": len(gone),
                                 "kept_for_holds": sorted(kept)})
    audit.append(session, actor=actor.name, action="erasure", obj=f"subject-request:{req.id}",
                 purpose="data protection", details={"outcome": outcome, "removed": gone,
                                                     "kept_for_holds": sorted(kept)})
    return Deletion(len(records), len(gone), sorted(kept), outcome)


def answer_correction(session: Session, *, actor: Actor, request_id: int, incident_id: int, field: str,
                      value: str) -> None:
    """Set one field of one of the person's records."""
    _require(actor)
    req = _get_open(session, request_id, "correction")
    if field not in CORRECTABLE:
        raise LawfulError(f"{field!r} cannot be corrected here", f"correctable fields: {', '.join(CORRECTABLE)}")
    record = next((r for r in _records(session, req) if r.id == incident_id), None)
    if record is None:
        raise NotFound(f"incident {incident_id} is not one of this person's records", "see the access export")
    column = CORRECTABLE[field]
    old = getattr(record, column)
    setattr(record, column, value)
    _close(session, req, actor, {"incident": incident_id, "field": field})
    audit.append(session, actor=actor.name, action="alteration", obj=f"incident:{incident_id}",
                 purpose="data protection", details={"request": req.id, "field": field, "from": old, "to": value})
