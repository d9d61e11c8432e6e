"""Patrol plans over accepted forecasts (issued through the gate, decided in review), their exports for dispatch,
and dosage from imported visit logs. Parse, call a patrol service or flow, return JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from lawful.errors import InputError
from lawful.patrol import flows, service
from lawful.web.deps import Call, CallDep

router = APIRouter(tags=["patrol"])

PlanId = Annotated[int, Path(ge=1, le=2**62)]
MAX_LOG = 16 * 2**20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitIn(Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="start point, degrees (EPSG:4326)")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    max_visits: int | None = Field(None, ge=0, le=1000, description="this unit's limit of visits in the shift")


class PlanRequest(Strict):
    forecast: int = Field(ge=1, le=2**62, description="an accepted forecast output")
    planner: str = Field("toronto-patrol-planner", min_length=1, max_length=120,
                         pattern=r"^[A-Za-z0-9._-]+(:[0-9]{1,9})?$", description="the planner's registry entry")
    units: list[UnitIn] = Field(min_length=1, max_length=500)
    shift: str = Field("22:00-06:00", pattern=r"^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$")
    day: date | None = Field(None, description="the shift's local start day; default the forecast's day")
    purpose: str = Field(service.PURPOSE, min_length=1, max_length=200)
    visit_min: float | None = Field(None, ge=1, le=120, allow_inf_nan=False)
    speed_kmh: float | None = Field(None, ge=1, le=150, allow_inf_nan=False)
    patrol_share: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    max_visits_per_place: int | None = Field(None, ge=1, le=20, description="tighter than the approved cap")
    max_visits_per_place_week: int | None = Field(None, ge=1, le=140,
                                                  description="tighter than the approved weekly cap per place")
    max_area_share: float | None = Field(None, gt=0, le=1, allow_inf_nan=False,
                                         description="tighter than the approved neighbourhood share")


@router.post("/patrol/plans", status_code=201)
def make_plan(body: PlanRequest, c: Call = CallDep) -> dict:
    """Plan patrols over an accepted forecast; the plan is an output of kind "plan" waiting for a supervisor."""
    limits = {k: getattr(body, k) for k in ("visit_min", "speed_kmh", "patrol_share", "max_visits_per_place",
                                           "max_visits_per_place_week", "max_area_share")}
    return c.flow(flows.make_plan, forecast_id=body.forecast, ref=body.planner,
                  units=[u.model_dump() for u in body.units], shift=body.shift, day=body.day, purpose=body.purpose,
                  limits=limits)


@router.get("/patrol/plans/{plan_id}")
def show_plan(plan_id: PlanId, c: Call = CallDep) -> dict:
    """A plan with its assignments, routes, the greedy comparison and an explanation per assignment."""
    return c.run(service.show_plan, plan_id=plan_id)


@router.get("/patrol/plans/{plan_id}/export")
def export_plan(plan_id: PlanId, format: Literal["csv", "geojson"] = Query("csv"), c: Call = CallDep) -> dict:
    """An accepted plan for dispatch: CSV text or a GeoJSON FeatureCollection (lon/lat, EPSG:4326)."""
    return c.run(service.export_plan, plan_id=plan_id, fmt=format)


@router.get("/patrol/plans/{plan_id}/briefing", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}, "description": "one printable page per unit"}})
def briefing(plan_id: PlanId, c: Call = CallDep) -> HTMLResponse:
    """An accepted plan's printable shift briefing: one HTML page per unit (a map of its places as inline SVG, its
    stops with times and the reason for each). No script and no external asset; its one <style> block is allowed by
    hash in the response's own, stricter Content-Security-Policy."""
    b = c.run(service.briefing, plan_id=plan_id)
    return HTMLResponse(b["html"], headers={"Content-Security-Policy": b["csp"],
                                            "Content-Disposition": f'inline; filename="{b["filename"]}"'})


@router.post("/patrol/plans/{plan_id}/visits", status_code=201)
def import_visits(plan_id: PlanId, file: UploadFile = File(..., description="the visit log (CSV)"),
                  purpose: str = Form(service.PURPOSE, min_length=1, max_length=200), c: Call = CallDep) -> dict:
    """Import what was done against an accepted plan; returns the dosage report."""
    data = file.file.read(MAX_LOG + 1)
    if len(data) > MAX_LOG:
        raise InputError(f"the visit log is larger than {MAX_LOG >> 20} MB", "split it by shift")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{file.filename or 'the visit log'} is not UTF-8 text", "save it as UTF-8 CSV") from None
    return c.run(service.import_visits, plan_id=plan_id, text=text, source=(file.filename or "visits.csv")[:300],
                 tz=ZoneInfo(c.store.settings.timezone), purpose=purpose)


@router.get("/patrol/plans/{plan_id}/dosage")
def dosage(plan_id: PlanId, c: Call = CallDep) -> dict:
    """Planned against delivered minutes per place and unit, places never visited, visits outside the plan."""
    return c.run(service.dosage, plan_id=plan_id)
