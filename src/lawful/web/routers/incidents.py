"""Incidents: what is stored (stats), loads of uploaded files and bundled datasets (as jobs), the rows a load
refused (quarantine), and the incidents themselves: one by id, or a query by area and dates (the incidents behind
a forecast's place)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

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


@router.get("/incidents")
def incidents(cell: str | None = Query(None, min_length=1, max_length=40,
                                       description="a cell id as forecasts print it, e.g. 200m:3047:24135"),
              lon: float | None = Query(None, ge=-180, le=180, allow_inf_nan=False,
                                        description="with lat: the centre of a circle (EPSG:4326 degrees)"),
              lat: float | None = Query(None, ge=-90, le=90, allow_inf_nan=False),
              radius: float | None = Query(None, gt=0, le=service.MAX_RADIUS_M, allow_inf_nan=False,
                                           description="the circle's radius in metres (default 200)"),
              neighbourhood: str | None = Query(None, min_length=1, max_length=200,
                                                description="the neighbourhood (area code) as stored"),
              start: date | None = Query(None, alias="from", description="first local day included"),
              end: date | None = Query(None, alias="to", description="last local day included"),
              category: str | None = Query(None, min_length=1, max_length=100),
              limit: int = Query(100, ge=1, le=service.MAX_LIST), purpose: str = Purpose,
              c: Call = CallDep) -> dict:
    """Incidents by area (a cell, a circle or a neighbourhood) and dates, newest first: how many match, and up to
    `limit` of them with their time, category, lon/lat, cell and neighbourhood. Needs incidents.read at the highest
    classification among the matches; on the trail as a consultation."""
    settings = c.store.settings
    return c.run(lambda session, *, actor: service.get_all(
        session, actor=actor, settings=settings, limit=limit, purpose=purpose,
        query=service.make_query(settings=settings, cell=cell, lon=lon, lat=lat, radius=radius,
                                 neighbourhood=neighbourhood, start=start, end=end, category=category)))


@router.get("/incidents/{incident_id}")
def incident(incident_id: int = Path(ge=1, le=2**62), purpose: str = Purpose, c: Call = CallDep) -> dict:
    """One stored incident: when, what, where (lon/lat, cell, neighbourhood), its source and its kept fields
    (personal ones only as pseudonyms). Needs incidents.read at its classification; an unknown id is a 404."""
    return c.run(service.get_one, incident_id=incident_id, settings=c.store.settings, purpose=purpose)
