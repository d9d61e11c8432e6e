"""Incidents: what is stored (stats), loads of uploaded files and bundled datasets (as jobs), and the rows a load
refused (quarantine)."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Query, UploadFile

from lawful.errors import InputError
from lawful.incidents import flows, service
from lawful.incidents.datasets import DATASETS
from lawful.web.deps import CallDep, Call

router = APIRouter(tags=["incidents"])

Purpose = Query("crime analysis", min_length=1, max_length=200, description="why you are reading (the policy checks it)")


def stats_json(stats) -> dict:
    return {
        "total": stats.total,
        "by_year_category": {str(y): c for y, c in sorted(stats.by_year_category.items())},
        "categories": stats.categories,
        "first_occurred_at": stats.first.isoformat() if stats.first else None,
        "last_occurred_at": stats.last.isoformat() if stats.last else None,
        "bounds_lonlat": stats.bounds_lonlat,
        "bounds_xy": stats.bounds_xy,
        "sources": stats.sources,
        "year_time_zone": stats.timezone,
    }


@router.get("/incidents/stats")
def stats(purpose: str = Purpose, c: Call = CallDep) -> dict:
    """Counts by local year and category, the date range and the bounds of what is stored."""
    return c.run(lambda session, *, actor: stats_json(
        service.stats_for(session, actor=actor, settings=c.store.settings, purpose=purpose)))


@router.get("/incidents/quarantine")
def quarantine(load: int | None = Query(None, ge=1, le=2**62), limit: int = Query(50, ge=1, le=10_000),
               purpose: str = Purpose, c: Call = CallDep) -> list[dict]:
    """Rows that loads refused, with file, row number, field, value and reason."""
    return c.run(flows.quarantined, load_id=load, limit=limit, purpose=purpose)


@router.post("/incidents/loads", status_code=202)
def load(file: UploadFile = File(..., description="CSV, Parquet or GeoJSON"),
         mapping: UploadFile = File(..., description="the TOML mapping"),
         strict: bool = Form(False), purpose: str = Form("crime analysis", min_length=1, max_length=200),
         c: Call = CallDep) -> dict:
    """Load an uploaded file through an uploaded mapping, as a job: `GET /jobs/ID` for progress and the summary.
    Refused before the upload is stored unless the policy grants `incidents.load` for the purpose."""
    actor = c.flow(flows.check_load, source=file.filename or "upload", purpose=purpose)
    staged = flows.stage_upload(c.store, data=file.file, file_name=file.filename or "upload", mapping=mapping.file)
    store = c.store
    return c.door.jobs.submit(kind="load", owner=actor.name, work=lambda job: flows.load_staged(
        store, actor=actor, staged=staged, strict=strict, purpose=purpose, progress=job.progress)).view()


@router.get("/datasets")
def datasets() -> dict:
    """The bundled datasets (open to anyone signed in or not: it is the product's own description)."""
    return dict(DATASETS)


@router.post("/datasets/{name}/load", status_code=202)
def load_dataset(name: str, purpose: str = Query("administration", min_length=1, max_length=200),
                 c: Call = CallDep) -> dict:
    """Load a bundled dataset as a job (idempotent: a second load adds nothing)."""
    if name not in DATASETS:
        raise InputError(f"No bundled dataset called {name!r}.", f"use one of: {', '.join(DATASETS)}.")
    actor = c.flow(flows.check_load, source=name, purpose=purpose)
    return c.door.jobs.submit(kind="load", owner=actor.name, work=lambda job: flows.load_bundled(
        c.store, actor=actor, name=name, purpose=purpose, progress=job.progress)).view()
