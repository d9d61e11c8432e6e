"""The forecasting operations as people reach them through the server: each one is several short transactions.

    check (writing: access decision, the request's own validation, its trail entry) -> compute (read-only)
    [-> issue (writing, through the gate)]

so the seconds or minutes a forecast takes never hold the SQLite write lock, and a refusal or a bad request
changes nothing. Backtests, exposure audits and feedback simulations are development activity: the flow writes a
`development` entry with the authenticated actor and the declared purpose before it reads the incidents. An
operational forecast leaves only through `issue_through_gate`.

The long ones come in two halves, `start_*` (the check, quick: the server answers the request with it) and `run_*`
(the computation, which the server runs as a job), and one function that does both for callers in process.
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from lawful.db import Store
from lawful.errors import LawfulError
from lawful.forecast import service

Progress = Callable[[str, int, int], None] | None

SCHEDULER_ENV = "LAWFUL_DASK_SCHEDULER"
MAX_MAP_BYTES = 8 * 1024 * 1024  # a map larger than this is left out of the result (it never is, at 110 dpi)


def _models(text: str) -> list[str]:
    from lawful.forecast.models import parse_models

    try:
        return parse_models(text)
    except ValueError as exc:
        raise LawfulError(str(exc), "e.g. --models all or --models naive-all,features") from None


def model_names() -> dict[str, str]:
    """The named model configurations and what each is (for a form's choices)."""
    from lawful.forecast.models import MODELS

    return {name: what for name, (what, _build) in MODELS.items()}


def _one_model(text: str) -> str:
    names = _models(text)
    if len(names) != 1:
        raise LawfulError(f"--model {text!r} names {len(names)} models; this command takes one",
                          "e.g. --model features")
    return names[0]


def _share(value: float, option: str = "--coverage") -> float:
    c = value / 100 if value > 1 else value
    if not (math.isfinite(c) and 0 < c <= 1):
        raise LawfulError(f"{option} {value:g} is not a share of the area",
                          "give a fraction or a percentage, e.g. 0.05 or 5")
    return c


def _cell(cell: float) -> float:
    if not (math.isfinite(cell) and cell >= 10):
        raise LawfulError(f"--cell {cell:g} m is too small to mean anything with locations offset to intersections",
                          "use 100 m or more (the protocol uses 200)")
    return float(cell)


def allowed_scheduler(scheduler: str | None) -> str | None:
    """The Dask scheduler a backtest may use: none (in the server's process), or exactly the one the server's
    operator configured (LAWFUL_DASK_SCHEDULER). A client never makes the server connect anywhere else."""
    if not scheduler:
        return None
    configured = (os.environ.get(SCHEDULER_ENV) or "").strip()
    if scheduler.strip() != configured:
        raise LawfulError(f"this server does not run backtests on the Dask scheduler {scheduler!r}"
                          + (f"; it offers only {configured}" if configured else "; it offers none"),
                          "leave out --scheduler, or ask the operator to set LAWFUL_DASK_SCHEDULER on the server",
                          kind="invalid")
    return configured


def _tz(store: Store) -> ZoneInfo:
    return ZoneInfo(store.settings.timezone)


def _days_with_data(session, store: Store, category: str, start: date, end: date, every_days: int, what: str):
    """The forecast days of a backtest or audit, refused when they hold no incidents of the category or run on
    past the stored ones (a table of nothing would otherwise come back as if it meant something)."""
    days = service.local_days(start, end, every_days, _tz(store))
    service.require_data_for_days(session, category=category, days=days, tz=_tz(store), what=what,
                                  max_stale_days=store.settings.forecast_max_stale_days)
    return days


def _fresh(store: Store, category: str, day: date):
    """The check a one-day forecast's request runs first: its input data must reach close enough to its day."""
    return lambda session: service.require_fresh_data(session, category=category, day=day, tz=_tz(store),
                                                      max_stale_days=store.settings.forecast_max_stale_days)


def _check(store: Store, *, actor, purpose: str, category: str, analysis: str, details: dict,
           validate: Callable[[Any], None] | None = None) -> None:
    """The writing half before an analysis: may this person read the incidents for this purpose, is the request
    sound, and the `development` entry; all in one transaction, so a refusal or a bad request writes nothing here
    (a refusal is recorded by the server, in a transaction of its own)."""
    with store.transaction() as session:
        service.require_forecast_read(session, actor=actor, purpose=purpose, category=category)
        service.require_stored_category(session, category=category)
        if validate:
            validate(session)
        service.record_development(session, actor=actor, purpose=purpose, analysis=analysis, category=category,
                                   details=details)


# ---- backtest --------------------------------------------------------------------------------------------------
@dataclass
class BacktestPlan:
    """A checked backtest request, ready to compute."""

    category: str
    start: date
    end: date
    every_days: int
    window_days: int
    cell: float
    models: list[str]
    since: date
    executor: Any = field(default=None, repr=False)
    baseline: str | None = None


def start_backtest(store: Store, *, actor, category: str, start: date, end: date, every_days: int,
                   window_days: int, cell: float, models: str, since: date, purpose: str,
                   scheduler: str | None = None, baseline: str | None = None) -> BacktestPlan:
    """Check a backtest and put it on the trail; connect to the server's Dask scheduler if one was asked for.
    With `baseline` (a model name), every model is also compared with it day by day; it is run if not listed."""
    plan = BacktestPlan(category, start, end, every_days, window_days, _cell(cell), _models(models), since)
    if baseline:
        plan.baseline = _one_model(baseline)
        if plan.baseline not in plan.models:
            plan.models.append(plan.baseline)
    tz = _tz(store)
    address = allowed_scheduler(scheduler)
    if address:
        from lawful.forecast.executors import DaskExecutor

        try:
            plan.executor = DaskExecutor(address)
        except OSError as exc:
            raise LawfulError(f"cannot reach the Dask scheduler at {address}: {exc}",
                              "ask the operator to start it (`dask scheduler`, `dask worker ADDRESS`), or leave "
                              "out --scheduler") from None
    try:
        _check(store, actor=actor, purpose=purpose, category=category, analysis="backtest",
               details={"start": start.isoformat(), "end": end.isoformat(), "every_days": every_days,
                        "window_days": window_days, "cell": plan.cell, "models": plan.models,
                        "since": since.isoformat(), "executor": address or "in-process",
                        **({"baseline": plan.baseline} if plan.baseline else {})},
               validate=lambda s: _days_with_data(s, store, category, start, end, every_days, "backtest"))
    except BaseException:
        if plan.executor:
            plan.executor.close()
        raise
    return plan


def run_backtest(store: Store, plan: BacktestPlan, *, progress: Progress = None) -> service.BacktestReport:
    """Compute a checked backtest in a read-only transaction."""
    try:
        with store.transaction(readonly=True) as session:
            return service.backtest(session, category=plan.category, start=plan.start, end=plan.end,
                                    every_days=plan.every_days, window_days=plan.window_days, cell=plan.cell,
                                    models=plan.models, since=plan.since, tz=_tz(store), executor=plan.executor,
                                    progress=(lambda d, t: progress("forecasting", d, t)) if progress else None,
                                    baseline=plan.baseline)
    finally:
        if plan.executor:
            plan.executor.close()


def backtest_job(store: Store, *, actor, category: str, start: date, end: date, every_days: int, window_days: int,
                 cell: float, models: str, since: date, purpose: str, scheduler: str | None = None,
                 progress: Progress = None, baseline: str | None = None) -> service.BacktestReport:
    """Rolling backtest: check and log, then compute (the server runs the second half as a job)."""
    plan = start_backtest(store, actor=actor, category=category, start=start, end=end, every_days=every_days,
                          window_days=window_days, cell=cell, models=models, since=since, purpose=purpose,
                          scheduler=scheduler, baseline=baseline)
    return run_backtest(store, plan, progress=progress)


def backtest_result(report: service.BacktestReport, *, files: bool = False, progress: Progress = None) -> dict:
    """A backtest as JSON: what its table says and, with `files`, the report's files as text (the map as base64
    PNG), for the client to write where it likes. The server writes only into a private temporary directory."""
    from lawful.forecast import report as rep

    d = report.days
    result = {
        "category": report.category, "models": report.models, "days": len(d), "first_day": d[0][0],
        "last_day": d[-1][0], "window_days": report.window_days, "cell": report.data.grid.cell,
        "cells_valid": int(report.data.grid.n_valid), "events_scored": int(report.events_scored),
        "executor": report.executor, "coverages": [float(c) for c in report.data.coverages],
        "baseline": report.baseline, "summaries": [s.record() for s in report.summaries],
    }
    if files:
        if progress:
            progress("writing the report", 0, 1)
        with tempfile.TemporaryDirectory(prefix="lawful-backtest-") as tmp:
            out = Path(tmp)
            rep.write_days_csv(out / "days.csv", report.results, report.data.coverages)
            rep.write_summary_csv(out / "summary.csv", report.summaries)
            map_day = rep.plot_day(out / "map.png", report)
            png = (out / "map.png").read_bytes()
            result["files"] = {"days.csv": (out / "days.csv").read_text(),
                               "summary.csv": (out / "summary.csv").read_text(),
                               "report.md": rep.markdown(report)}
        result["map_day"] = map_day
        result["map_png_base64"] = base64.b64encode(png).decode() if len(png) <= MAX_MAP_BYTES else None
        if progress:
            progress("writing the report", 1, 1)
    return finite(result)


# ---- one forecast (development) ---------------------------------------------------------------------------------
def forecast_run(store: Store, *, actor, category: str, day: date, model: str, top: int, window_days: int,
                 cell: float, since: date, purpose: str) -> dict:
    """One day's top places with the terms of each score: development activity, not an operational output."""
    name = _one_model(model)
    cell = _cell(cell)
    _check(store, actor=actor, purpose=purpose, category=category, analysis="forecast run",
           details={"date": day.isoformat(), "model": name, "top": top, "window_days": window_days, "cell": cell,
                    "since": since.isoformat()}, validate=_fresh(store, category, day))
    with store.transaction(readonly=True) as session:
        fc = service.forecast(session, category=category, day=day, model=name, cell=cell, window_days=window_days,
                              since=since, tz=_tz(store))
    s = fc.surface
    top_cells = s.top(top)
    named = fc.places(top_cells, store.settings.crs)
    places = [{"rank": i + 1, "cell": int(c), "label": s.grid.label(c), **named[i], "score": float(s.values[c]),
               "sentence": s.sentence(c),
               "terms": [{"label": t.label, "value": t.value, "share": t.share, "events": t.events}
                         for t in s.explain(c)]}
              for i, c in enumerate(top_cells)]
    return finite({"category": fc.category, "day": fc.day, "model": fc.model, "cell": s.grid.cell,
                   "cells_valid": int(s.grid.n_valid), "crs": "EPSG:4326", "places": places})


# ---- a day's whole surface: the console's map and the GIS exports ------------------------------------------------
RECENT_DAYS = 7  # the incidents of this many days before the forecast day are overlaid on its map
COORD_DIGITS = 6  # lon/lat decimals in exports (about 0.1 m)


def forecast_surface(store: Store, *, actor, category: str, day: date, model: str, top: int, window_days: int,
                     cell: float, since: date, purpose: str, recent_days: int = RECENT_DAYS) -> dict:
    """One day's whole risk surface (every valid cell: its box in projected metres, its outline in lon/lat, rank,
    score and sentence), the top places with the terms of their scores, and the incidents of the `recent_days`
    before the day. Development activity like `forecast_run`: the access decision (incidents.read) and the
    `development` entry (naming the recent days read) come first, in one transaction."""
    name = _one_model(model)
    cell = _cell(cell)
    if not 0 <= recent_days <= 31:
        raise LawfulError(f"recent_days {recent_days} is out of range", "give 0 to 31 days")
    _check(store, actor=actor, purpose=purpose, category=category, analysis="forecast map",
           details={"date": day.isoformat(), "model": name, "top": top, "window_days": window_days, "cell": cell,
                    "since": since.isoformat(), "recent_days": recent_days}, validate=_fresh(store, category, day))
    tz = _tz(store)
    with store.transaction(readonly=True) as session:
        fc = service.forecast(session, category=category, day=day, model=name, cell=cell, window_days=window_days,
                              since=since, tz=tz)
        recent = service.recent_events(session, category=category, day=day, days=recent_days, tz=tz)
    import numpy as np

    from lawful.incidents.validate import transformer

    s, g = fc.surface, fc.surface.grid
    to_lonlat = transformer(store.settings.crs, "EPSG:4326").transform
    iy, ix = np.divmod(g.valid, g.nx)
    x0, y0 = g.x0 + ix * g.cell, g.y0 + iy * g.cell
    x1, y1 = x0 + g.cell, y0 + g.cell
    # the four corners, counter-clockwise from the south-west (RFC 7946's exterior ring), in lon/lat
    corners = [np.round(np.asarray(to_lonlat(cx, cy)), COORD_DIGITS) for cx, cy in
               ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    order_ = s.ranking()
    rank = np.empty(g.n_valid, dtype=np.int64)
    rank[order_] = np.arange(1, g.n_valid + 1)
    clon, clat = g.centres_lonlat(store.settings.crs)
    clon, clat = np.round(clon, COORD_DIGITS).tolist(), np.round(clat, COORD_DIGITS).tolist()
    gx, gy = g.global_index(np.arange(g.n_valid))
    ids = [f"{g.cell:g}m:{a}:{b}" for a, b in zip(gx.tolist(), gy.tolist())]  # = g.cell_id(c), for every cell at once
    areas = [str(a) for a in fc.areas] if fc.areas is not None else ["unknown"] * g.n_valid

    def place(c: int) -> dict:
        ring = [[float(k[0][c]), float(k[1][c])] for k in corners]
        return {"rank": int(rank[c]), "cell": g.label(c), "cell_id": ids[c], "lon": clon[c], "lat": clat[c],
                "neighbourhood": areas[c], "score": round(float(s.values[c]), 6),
                "x0": float(x0[c]), "y0": float(y0[c]), "x1": float(x1[c]), "y1": float(y1[c]),
                "ring": ring + [ring[0]], "sentence": s.sentence(c)}

    surface = [place(int(c)) for c in order_]
    places = [{**surface[i], "terms": [{"label": t.label, "value": t.value, "share": t.share, "events": t.events}
                                       for t in s.explain(int(c))]}
              for i, c in enumerate(order_[:top])]
    lon, lat = to_lonlat(recent.x, recent.y) if len(recent) else ([], [])
    events = [{"x": float(a), "y": float(b), "lon": round(float(o), COORD_DIGITS), "lat": round(float(t), COORD_DIGITS),
               "at": str(w)[:16]} for a, b, o, t, w in zip(recent.x, recent.y, lon, lat, recent.t)]
    return finite({"category": fc.category, "day": fc.day, "model": fc.model, "cell": g.cell,
                   "cells_valid": int(g.n_valid), "crs": store.settings.crs, "bounds": list(store.settings.bounds),
                   "recent_days": recent_days, "places": places, "surface": surface, "recent": events})


def surface_geojson(result: dict, layer: str) -> dict:
    """The surface or the top places of `forecast_surface` as a GeoJSON FeatureCollection (RFC 7946: EPSG:4326
    lon/lat polygons), each cell's properties its rank, cell id, centre, neighbourhood, score and sentence, for QGIS
    or ArcGIS (lawful.forecast.places, the same format `forecast run` and `forecast issue` write)."""
    from lawful.forecast import places

    cells = result["places"] if layer == "places" else result["surface"]
    meta = {"category": result["category"], "day": result["day"], "model": result["model"]}
    return places.geojson(cells, name=f"lawful-{layer}-{result['day']}", meta=meta)


def surface_csv(result: dict, layer: str) -> str:
    """The same cells as CSV (lawful.forecast.places.csv_text: the centre in lon/lat, and the outline as WKT,
    which QGIS's delimited-text layer reads as geometry, EPSG:4326)."""
    from lawful.forecast import places

    return places.csv_text(result["places"] if layer == "places" else result["surface"])


# ---- exposure audit ---------------------------------------------------------------------------------------------
@dataclass
class AuditPlan:
    category: str
    start: date
    end: date
    every_days: int
    model: str
    coverage: float
    cell: float
    window_days: int
    since: date
    top: int


def start_exposure_audit(store: Store, *, actor, category: str, start: date, end: date, every_days: int, model: str,
                         coverage: float, cell: float, window_days: int, since: date, top: int,
                         purpose: str) -> AuditPlan:
    plan = AuditPlan(category, start, end, every_days, _one_model(model), _share(coverage), _cell(cell), window_days,
                     since, top)
    tz = _tz(store)
    _check(store, actor=actor, purpose=purpose, category=category, analysis="exposure audit",
           details={"start": start.isoformat(), "end": end.isoformat(), "every_days": every_days,
                    "model": plan.model, "coverage": plan.coverage, "cell": plan.cell, "window_days": window_days,
                    "since": since.isoformat()},
           validate=lambda s: _days_with_data(s, store, category, start, end, every_days, "exposure audit"))
    return plan


def run_exposure_audit(store: Store, plan: AuditPlan, *, progress: Progress = None) -> dict:
    with store.transaction(readonly=True) as session:
        a = service.exposure_audit(session, category=plan.category, start=plan.start, end=plan.end,
                                   every_days=plan.every_days, model=plan.model, coverage=plan.coverage,
                                   cell=plan.cell, window_days=plan.window_days, since=plan.since, tz=_tz(store),
                                   progress=(lambda d, t: progress("forecasting", d, t)) if progress else None)

    def rows(frame) -> list[dict]:
        return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]

    return finite({"category": plan.category, "model": a.model, "coverage": a.coverage, "days": a.days,
                   "misplaced": a.misplaced, "areas": rows(a.table), "most_over": rows(a.most_over(plan.top)),
                   "most_under": rows(a.most_under(plan.top))})


def exposure_audit_job(store: Store, *, actor, progress: Progress = None, **request) -> dict:
    return run_exposure_audit(store, start_exposure_audit(store, actor=actor, **request), progress=progress)


# ---- feedback simulation ------------------------------------------------------------------------------------------
@dataclass
class FeedbackPlan:
    category: str
    start: date
    models: list[str]
    rounds: int
    round_days: int
    coverage: float
    exploration: float
    reported: float
    seed: int
    cell: float
    window_days: int
    since: date


def start_feedback(store: Store, *, actor, category: str, start: date, models: str, rounds: int, round_days: int,
                   coverage: float, exploration: float, reported: float, seed: int, cell: float, window_days: int,
                   since: date, purpose: str) -> FeedbackPlan:
    for name, value in (("--exploration", exploration), ("--reported", reported)):
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise LawfulError(f"{name} {value:g} is not a probability", f"give a value from 0 to 1, e.g. {name} 0.02")
    plan = FeedbackPlan(category, start, _models(models), rounds, round_days, _share(coverage), exploration,
                        reported, seed, _cell(cell), window_days, since)
    _check(store, actor=actor, purpose=purpose, category=category, analysis="feedback simulation",
           details={"start": start.isoformat(), "models": plan.models, "rounds": rounds, "round_days": round_days,
                    "coverage": plan.coverage, "exploration": exploration, "reported": reported, "seed": seed,
                    "cell": plan.cell, "window_days": window_days, "since": since.isoformat()})
    return plan


def run_feedback(store: Store, plan: FeedbackPlan, *, progress: Progress = None) -> list[dict]:
    with store.transaction(readonly=True) as session:
        results = service.feedback_loop(
            session, category=plan.category, start=plan.start, models=plan.models, rounds=plan.rounds,
            round_days=plan.round_days, coverage=plan.coverage, cell=plan.cell, window_days=plan.window_days,
            since=plan.since, tz=_tz(store), exploration=plan.exploration, reported=plan.reported, seed=plan.seed,
            progress=(lambda d, t: progress("simulating", d, t)) if progress else None)
    return finite([{"model": r.model, "corrected": r.corrected, "drift": [float(x) for x in r.drift],
                    "captured": [float(x) for x in r.captured], "change": float(r.change)} for r in results])


def feedback_job(store: Store, *, actor, progress: Progress = None, **request) -> list[dict]:
    return run_feedback(store, start_feedback(store, actor=actor, **request), progress=progress)


# ---- an operational forecast, through the gate ---------------------------------------------------------------------
def issue_through_gate(store: Store, *, actor, ref: str, day: date, purpose: str, area: str | None):
    """Check, compute, issue: three short transactions, so the seconds a forecast takes never hold the write lock.
    Returns (NAME:VERSION, the gate's result); the gate checks again when it issues (a suspension may have come
    in between), and a refusal at either point is on the trail. Reading the incidents needs the actor's clearance
    (AccessDenied otherwise)."""
    from lawful.governance import gate
    from lawful.governance.registry import get

    with store.transaction() as session:
        entry = get(session, ref=ref)
        ref = entry.ref  # this exact version from here on, even if a newer draft is registered meanwhile
        model = dict(entry.card.get("model") or {})
        why, classification = service.check_issue(session, actor=actor, entry=entry, purpose=purpose, area=area,
                                                  day=day, tz=_tz(store),
                                                  max_stale_days=store.settings.forecast_max_stale_days)
    if why:
        return ref, gate.GateResult(None, why)
    with store.transaction(readonly=True) as session:
        subject, payload, explanation = service.forecast_output(session, model=model, day=day, tz=_tz(store),
                                                                crs=store.settings.crs, area=area)
    with store.transaction() as session:
        return ref, gate.issue(session, actor=actor, entry=get(session, ref=ref), purpose=purpose, kind="forecast",
                               subject=subject, payload=payload, explanation=explanation, area=area,
                               classification=classification)


def issued(ref: str, result) -> dict:
    """The gate's result for a client: the stored output as JSON, or the refusal raised as `denied` (the gate wrote
    it to the trail already, so the caller raises it outside the flow that would record it a second time)."""
    if not result.allowed:
        if isinstance(result.refused, service.Refusal):  # the data's fault: say how to put it right
            raise LawfulError(f"the gate refused: {result.refused}. The refusal is on the trail.",
                              result.refused.fix, kind=result.refused.kind)
        raise LawfulError(f"the gate refused: {result.refused}. The refusal is on the trail.",
                          "see `lawful models list` and `lawful models approve`", kind="denied")
    o = result.output
    cells = o.payload.get("cells", [])
    sentences = {e.get("cell"): e.get("sentence") for e in o.explanation}
    return finite({"id": o.id, "model": ref, "kind": o.kind, "subject": o.subject, "purpose": o.purpose,
                   "area": o.area, "sandbox": bool(o.sandbox), "status": o.status, "day": o.payload.get("day"),
                   "category": o.payload.get("category"), "crs": "EPSG:4326", "places": len(cells),
                   "cells": [{k: c.get(k) for k in ("rank", "cell_id", "neighbourhood", "lon", "lat", "score", "ring")}
                             | {"label": c.get("cell"), "sentence": sentences.get(c.get("cell"))} for c in cells],
                   "explanation": o.explanation})


# ---- JSON --------------------------------------------------------------------------------------------------------
def _plain(v):
    """numpy scalars as Python numbers."""
    return v.item() if hasattr(v, "item") else v


def finite(value):
    """JSON has no NaN or infinity: they become null (a PAI over no incidents, a disparity with no incidents)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return finite(value.item())
    return value
