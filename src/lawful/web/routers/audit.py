"""The decision trail: read, verify, export (for the roles the policy allows: DPO, auditor)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import Response

from lawful.trail import service
from lawful.web.deps import CallDep, Call

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/log")
def log(limit: int = Query(20, ge=1, le=1000), action: str | None = Query(None, max_length=60),
        by: str | None = Query(None, max_length=100), object: str | None = Query(None, max_length=300),
        since: datetime | None = Query(None, description="entries recorded at or after this time (ISO 8601; "
                                                         "without a zone: UTC)"),
        until: datetime | None = Query(None, description="entries recorded before this time (ISO 8601; without a "
                                                         "zone: UTC)"),
        c: Call = CallDep) -> list[dict]:
    """The newest trail entries, optionally filtered by action, actor, object and time."""
    return c.run(service.read_log, action=action, by=by, obj=object, limit=limit, since=since, until=until)


@router.get("/verify")
def verify(c: Call = CallDep) -> dict:
    """Recompute every hash and check every signed checkpoint with the server's key."""
    return c.flow(service.verify_trail)


@router.post("/export", response_class=Response,
             responses={200: {"content": {"application/gzip": {}}, "description": "the export bundle (tar.gz)"}})
def export(c: Call = CallDep) -> Response:
    """The whole trail with its checkpoints, public key and a stand-alone verifier, as a tar.gz."""
    data = c.flow(service.export_trail)
    return Response(data, media_type="application/gzip",
                    headers={"Content-Disposition": 'attachment; filename="lawful-trail.tar.gz"'})
