"""Privacy: governed re-identification, retention (report, legal holds, purge), the minimisation report, data-subject
requests (open, list, answer: access export, deletion, correction) and the breach register. Parse, call a privacy
service, return JSON. Files stay with the client: it sends the mappings it reads and writes the access export
this answers with."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lawful.limits import CONFIG_BYTES
from lawful.privacy import breaches, requests, retention, service
from lawful.web.deps import Call, CallDep

router = APIRouter(prefix="/privacy", tags=["privacy"])

Id = Annotated[int, Path(ge=1, le=2**62)]
Purpose = Annotated[str, Field(min_length=1, max_length=200, description="why (the policy checks it)")]
FieldName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                                 description="a pseudonymised field, e.g. victim_name")]
Identity = Annotated[str, Field(min_length=1, max_length=500, description="the identity as the records hold it; "
                                                                           "never stored or logged, only its pseudonym")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reidentify(Strict):
    field: FieldName
    value: Identity
    purpose: Purpose


class Purge(Strict):
    purpose: Purpose = "retention"
    dry_run: bool = False


class Hold(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="the case, complaint or request it serves")
    occurred_from: AwareDatetime
    occurred_to: AwareDatetime
    category: str | None = Field(None, min_length=1, max_length=100)
    area: str | None = Field(None, min_length=1, max_length=200)


class MappingDocument(Strict):
    name: str = Field(min_length=1, max_length=1000, description="the file's name, for messages")
    text: str = Field(max_length=CONFIG_BYTES, description="the mapping, as TOML")


class Mappings(Strict):
    mappings: list[MappingDocument] = Field(default_factory=list, max_length=100)
    purpose: Purpose = "data protection"


class NewRequest(Strict):
    kind: Literal["access", "correction", "deletion"]
    field: FieldName
    value: Identity
    received_at: AwareDatetime | None = Field(None, description="when it was received; default now")
    note: str = Field("", max_length=5000)


class Correction(Strict):
    incident: int = Field(ge=1, le=2**62)
    field: Literal["category", "area", "premises"]
    value: str = Field(min_length=1, max_length=200)


class NewBreach(Strict):
    description: str = Field(min_length=1, max_length=10_000)
    start: AwareDatetime = Field(description="start of the window to examine")
    end: AwareDatetime = Field(description="end of the window")
    suspect: str | None = Field(None, min_length=1, max_length=100, description="whose activity is suspected")
    aware_at: AwareDatetime | None = Field(None, description="when you became aware; default now")


class Notified(Strict):
    to: str = Field(min_length=1, max_length=200, description="the authority notified")


# ---- re-identification, retention, minimisation -----------------------------------------------------------------
@router.post("/reidentify")
def reidentify(body: Reidentify, c: Call = CallDep) -> list[dict]:
    """The records of one known person (incidents.reidentify, for an investigation); each search is on the trail
    with its purpose and what it found, never the identity."""
    return c.run(service.reidentify_view, field=body.field, value=body.value, purpose=body.purpose,
                 settings=c.store.settings)


@router.get("/retention")
def retention_report(purpose: str = Query("retention", min_length=1, max_length=200), c: Call = CallDep) -> dict:
    """Per source, category and classification: records, expired, held and the next expiry; the active holds."""
    return c.run(retention.retention_report, purpose=purpose)


@router.post("/purge")
def purge(body: Purge, c: Call = CallDep) -> dict:
    """Remove every record past its retention date that no legal hold covers (dry_run: only count them). The trail
    keeps a tombstone: how many, which categories, a digest of the ids."""
    r = c.run(retention.purge, purpose=body.purpose, dry_run=body.dry_run)
    return {**asdict(r), "dry_run": body.dry_run}


@router.post("/holds", status_code=201)
def add_hold(body: Hold, c: Call = CallDep) -> dict:
    """Place a legal hold: the records it covers are never purged or deleted while it is active."""
    return c.run(lambda session, *, actor: retention.hold_view(retention.add_hold(
        session, actor=actor, reason=body.reason, occurred_from=body.occurred_from, occurred_to=body.occurred_to,
        category=body.category, area=body.area)))


@router.post("/holds/{hold_id}/release")
def release_hold(hold_id: Id, c: Call = CallDep) -> dict:
    """Release an active legal hold."""
    c.run(retention.release_hold, hold_id=hold_id)
    return {"id": hold_id, "released": True}


@router.post("/fields")
def fields(body: Mappings, c: Call = CallDep) -> list[dict]:
    """The minimisation report: per source, the fields kept, pseudonymised and dropped, the declared purposes and
    the retention, from the mappings sent (matched to the loads by source name)."""
    return c.run(lambda session, *, actor: retention.minimisation_view(retention.minimisation(
        session, actor=actor, mappings=[(m.name, m.text) for m in body.mappings], purpose=body.purpose)))


# ---- data-subject requests --------------------------------------------------------------------------------------
@router.post("/requests", status_code=201)
def open_request(body: NewRequest, c: Call = CallDep) -> dict:
    """Register a request; only the requester's pseudonym is stored. The deadline runs from its receipt."""
    return c.run(lambda session, *, actor: requests.request_view(requests.open_request(
        session, actor=actor, kind=body.kind, field=body.field, value=body.value, settings=c.store.settings,
        received_at=body.received_at, note=body.note)))


@router.get("/requests")
def list_requests(c: Call = CallDep) -> list[dict]:
    """Every request with its deadline; `overdue` for open ones past it."""
    return c.run(requests.list_requests)


@router.post("/requests/{request_id}/export")
def export(request_id: Id, c: Call = CallDep) -> dict:
    """Answer an access request: the content of records.json, trail.json (and withheld.json) for the client to
    write. Closes the request; the disclosure is on the trail."""
    return c.run(lambda session, *, actor: requests.answer_access(
        session, actor=actor, request_id=request_id).view(request_id))


@router.post("/requests/{request_id}/deletion")
def delete(request_id: Id, c: Call = CallDep) -> dict:
    """Answer a deletion request: remove the person's records except those under a legal hold (named)."""
    return {"request": request_id, **asdict(c.run(requests.answer_deletion, request_id=request_id))}


@router.post("/requests/{request_id}/correction")
def correct(request_id: Id, body: Correction, c: Call = CallDep) -> dict:
    """Answer a correction request: set one field of one of the person's records (an alteration on the trail)."""
    c.run(requests.answer_correction, request_id=request_id, incident_id=body.incident, field=body.field,
          value=body.value)
    return {"request": request_id, "incident": body.incident, "field": body.field, "status": "done"}


# ---- breaches ---------------------------------------------------------------------------------------------------
@router.post("/breaches", status_code=201)
def record_breach(body: NewBreach, c: Call = CallDep) -> dict:
    """Record a suspected breach: what data and whom it touched (from the trail) and the notification deadline."""
    return c.run(lambda session, *, actor: breaches.breach_view(breaches.record(
        session, actor=actor, description=body.description, start=body.start, end=body.end, suspect=body.suspect,
        aware_at=body.aware_at)))


@router.get("/breaches")
def list_breaches(c: Call = CallDep) -> list[dict]:
    """The breach register; `overdue` for unnotified breaches past their deadline."""
    return c.run(breaches.list_breaches)


@router.post("/breaches/{breach_id}/notified")
def notified(breach_id: Id, body: Notified, c: Call = CallDep) -> dict:
    """Mark a breach as notified to an authority (a disclosure on the trail)."""
    return c.run(lambda session, *, actor: breaches.breach_view(breaches.mark_notified(
        session, actor=actor, breach_id=breach_id, to=body.to)))
