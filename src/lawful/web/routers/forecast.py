"""Forecasting: backtests, exposure audits and feedback simulations (jobs), one day's forecast, and an operational
forecast through the governance gate. Each parses, calls a flow of `lawful.forecast.flows`, returns JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lawful.forecast import flows
from lawful.web.deps import CallDep, Call

router = APIRouter(prefix="/forecast", tags=["forecast"])



class Analysis(BaseModel):
    """What every analysis of stored incidents shares."""

    category: str = Field("Break and Enter", min_length=1, max_length=200,
                          description="incident category, as stored")
    cell: float = Field(200.0, gt=0, le=100_000, allow_inf_nan=False, description="cell side in metres")
    window_days: int = Field(365, ge=1, le=36_500, description="training window of the windowed models")
    since: date = Field(date(2014, 1, 1), description="ignore incidents before this local date")
    purpose: str = Field("crime analysis", min_length=1, max_length=200,
                         description="why you are reading (the policy checks it)")


class BacktestIn(Analysis):
    start: date = date(2019, 1, 1)
    end: date = Field(date(2019, 12, 31), description="exclusive")
    every_days: int = Field(7, ge=1, le=3_660)
    models: str = Field("all", min_length=1, max_length=200, description="'all' or a comma-separated list")
    baseline: str | None = Field(None, min_length=1, max_length=50,
                                 description="compare every model with this one day by day (paired PAI difference "
                                             "with its 95% interval); run too if not among `models`")
    scheduler: str | None = Field(None, max_length=300,
                                  description="only the Dask scheduler the server's operator configured")
    report: bool = Field(False, description="also return days.csv, summary.csv, report.md and map.png (base64)")


class RunIn(Analysis):
    day: date = date(2019, 12, 24)
    model: str = Field("features", min_length=1, max_length=50)
    top: int = Field(10, ge=1, le=1_000)


class AuditIn(Analysis):
    start: date = date(2019, 1, 1)
    end: date = date(2019, 12, 31)
    every_days: int = Field(7, ge=1, le=3_660)
    model: str = Field("naive-all", min_length=1, max_length=50)
    coverage: float = Field(0.05, gt=0, le=100, allow_inf_nan=False, description="a fraction or a percentage")
    top: int = Field(5, ge=1, le=1_000, description="how many over- and under-exposed areas to list")


class FeedbackIn(Analysis):
    start: date = date(2019, 1, 1)
    models: str = Field("naive,prospective,kde", min_length=1, max_length=200)
    rounds: int = Field(20, ge=1, le=500)
    round_days: int = Field(7, ge=1, le=365)
    coverage: float = Field(0.05, gt=0, le=100, allow_inf_nan=False)
    exploration: float = Field(0.02, ge=0, le=1, allow_inf_nan=False)
    reported: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class IssueIn(BaseModel):
    ref: str = Field(min_length=1, max_length=200, description="registry entry, NAME or NAME:VERSION")
    purpose: str = Field(min_length=1, max_length=200, description="must be covered by an approval")
    day: date = Field(description="the local day to forecast (required: an operational forecast never guesses its "
                                  "day), e.g. 2024-05-01")
    area: str | None = Field(None, min_length=1, max_length=200)


def _job(c: Call, kind: str, check, compute, /, **request) -> dict:
    """Check now (a refusal or a bad request is answered at once and changes nothing), compute as a job."""
    actor, plan = c.flow(lambda store, *, actor: (actor, check(store, actor=actor, **request)))
    store = c.store
    return c.door.jobs.submit(kind=kind, owner=actor.name, work=lambda job: compute(store, plan, job)).view()


@router.post("/backtests", status_code=202)
def backtest(body: BacktestIn, c: Call = CallDep) -> dict:
    """Start a rolling backtest (a job: poll GET /api/v1/jobs/ID). Its result: the summary per model and coverage
    and, with `report`, the report's files for the client to write."""
    def run(store, plan, job):
        report = flows.run_backtest(store, plan, progress=job.progress)
        return flows.backtest_result(report, files=body.report, progress=job.progress)

    return _job(c, "forecast.backtest", flows.start_backtest, run, **body.model_dump(exclude={"report"}))


@router.post("/run")
def run(body: RunIn, c: Call = CallDep) -> dict:
    """One day's top places, each with the terms of its score (development activity, not an operational output)."""
    return c.flow(flows.forecast_run, **body.model_dump())


class MapIn(RunIn):
    recent_days: int = Field(flows.RECENT_DAYS, ge=0, le=31, description="days of incidents before the day to overlay")


@router.post("/map")
def surface_map(body: MapIn, c: Call = CallDep) -> dict:
    """One day's whole risk surface (each cell's box in projected metres and outline in lon/lat, rank, score,
    sentence), the top places with their terms, and the incidents of the days before (development activity)."""
    return c.flow(flows.forecast_surface, **body.model_dump())


EXPORT_TYPES = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8"}


@router.get("/export/{layer}.{fmt}")
def export(layer: Literal["surface", "places"], fmt: Literal["geojson", "csv"], q: Annotated[RunIn, Query()],
           c: Call = CallDep) -> Response:
    """The day's surface or its top places for QGIS or ArcGIS: GeoJSON (EPSG:4326 polygons with rank, score and
    sentence) or CSV (the same, with the outline as WKT). Query parameters as POST /forecast/run."""
    result = c.flow(flows.forecast_surface, **q.model_dump(), recent_days=0)
    body = (json.dumps(flows.surface_geojson(result, layer)) if fmt == "geojson"
            else flows.surface_csv(result, layer))
    name = f"lawful-{layer}-{result['day']}.{fmt}"
    return Response(body, media_type=EXPORT_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/audit", status_code=202)
def audit(body: AuditIn, c: Call = CallDep) -> dict:
    """Start an exposure audit (a job): per area, flagged share against incident share."""
    return _job(c, "forecast.audit", flows.start_exposure_audit,
                lambda store, plan, job: flows.run_exposure_audit(store, plan, progress=job.progress),
                **body.model_dump())


@router.post("/feedback", status_code=202)
def feedback(body: FeedbackIn, c: Call = CallDep) -> dict:
    """Start a feedback-loop simulation (a job): the drift of attention per round, without and with correction."""
    return _job(c, "forecast.feedback", flows.start_feedback,
                lambda store, plan, job: flows.run_feedback(store, plan, progress=job.progress),
                **body.model_dump())


@router.post("/issue", status_code=201)
def issue(body: IssueIn, c: Call = CallDep) -> dict:
    """An operational forecast through the governance gate: stored with its explanation, waiting for a person's
    decision. A gate refusal is 403 (and on the trail as gate.refuse)."""
    ref, result = c.flow(flows.issue_through_gate, **body.model_dump())
    return flows.issued(ref, result)
