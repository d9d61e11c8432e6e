"""The forecasting operations on the store: the one module of `lawful.forecast` that reads the database.

It turns local calendar dates into UTC instants (so a day is 23 or 25 hours at a DST change), fetches events as
arrays and hands them to the pure core.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.forecast.backtest import BacktestData, DayResult, Summary, jobs_for, order, run_job, summarise
from lawful.forecast.events import Events
from lawful.forecast.executors import LocalExecutor
from lawful.forecast.exposure import ExposureAudit, audit, cell_areas
from lawful.forecast.feedback import FeedbackResult, simulate
from lawful.forecast.grid import Grid
from lawful.forecast.models import build
from lawful.forecast.scoring import cells_for
from lawful.incidents.service import fetch_events, get_categories

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=ZoneInfo("UTC"))


def local_midnight(day: date, tz: ZoneInfo) -> np.datetime64:
    """The instant a local calendar day starts, as UTC datetime64[us]."""
    utc = datetime.combine(day, time(0), tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return np.datetime64(utc, "us")


def local_days(start: date, end: date, every_days: int, tz: ZoneInfo) -> list[tuple[str, np.datetime64, np.datetime64]]:
    """(ISO date, start instant, end instant) for start, start + every, ... before `end` (exclusive, like the
    protocol: 2019-01-01 to 2019-12-31 every 7 days is its 52 days, 2019-01-01 ... 2019-12-24)."""
    if every_days < 1:
        raise LawfulError(f"--every must be at least 1 day (got {every_days})", "use e.g. --every 7d")
    if end <= start:
        raise LawfulError(f"--end {end} is not after --start {start} (the end day is not forecast)",
                          "give an --end after --start")
    out, day = [], start
    while day < end:
        out.append((day.isoformat(), local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)))
        day += timedelta(days=every_days)
    return out


def load_data(session: Session, *, category: str, since: date, cell: float, tz: ZoneInfo) -> BacktestData:
    """The category's events since `since` and the grid masked to the cells holding any incident since then."""
    start = datetime.combine(since, time(0), tz)
    everything = fetch_events(session, category=None, start=start, end=FAR_FUTURE)
    if len(everything) == 0:
        raise LawfulError(f"the store holds no incidents since {since}",
                          "load some first (`lawful datasets load toronto-mci`) or give an earlier --since")
    events = fetch_events(session, category=category, start=start, end=FAR_FUTURE)
    if len(events) == 0:
        known = ", ".join(get_categories(session)) or "none"
        raise LawfulError(f"no incidents of category {category!r} since {since}",
                          f"use one of the stored categories: {known}")
    if cell < 10:
        raise LawfulError(f"--cell {cell:g} m is too small to mean anything with locations offset to intersections",
                          "use 100 m or more (the protocol uses 200)")
    grid = Grid.from_events(everything.x, everything.y, cell)
    return BacktestData(Events.of(events), grid, areas=cell_areas(grid, everything.x, everything.y, everything.area))


@dataclass(frozen=True)
class BacktestReport:
    category: str
    models: list[str]
    days: list[tuple[str, np.datetime64, np.datetime64]]
    window_days: float | None
    data: BacktestData
    results: list[DayResult]
    summaries: list[Summary]
    executor: str
    baseline: str | None = None  # the model the paired differences are against

    @property
    def events_scored(self) -> int:
        """Incidents on the forecast days (every model is scored on the same ones)."""
        return sum(r.events for r in self.results if r.model == self.models[0])


def backtest(session: Session, *, category: str, start: date, end: date, every_days: int, window_days: float,
             cell: float, models: list[str], since: date, tz: ZoneInfo, executor=None, progress=None,
             baseline: str | None = None) -> BacktestReport:
    """Rolling-origin backtest: every `every_days` from start to end, each model fitted on what came before; with
    `baseline` (one of `models`), each model's daily PAI is also compared with that model's, day by day."""
    days = local_days(start, end, every_days, tz)
    data = load_data(session, category=category, since=since, cell=cell, tz=tz)
    if data.events.t[0] > days[0][1] - np.timedelta64(int(window_days), "D"):
        first = str(data.events.t[0])[:10]
        raise LawfulError(f"the first {category} incident since {since} is on {first}, inside the first day's "
                          f"{window_days:g}-day training window", "start the backtest later or shorten --window")
    executor = executor or LocalExecutor()
    jobs = jobs_for(models, days, window_days)
    results = order(executor.run(run_job, jobs, data, progress), models)
    return BacktestReport(category, models, days, window_days, data, results,
                          summarise(results, baseline=baseline), executor.name, baseline)


@dataclass(frozen=True)
class Forecast:
    category: str
    day: str
    model: str
    surface: object  # RiskSurface
    estimator: object
    areas: np.ndarray | None = None  # each valid cell's neighbourhood (most common area of its incidents)

    def places(self, cells, crs: str) -> list[dict]:
        """What names each of `cells` (valid-cell positions) in every output: its id, centre and neighbourhood."""
        return place_fields(self.surface.grid, cells, crs, self.areas)


def place_fields(grid: Grid, cells, crs: str, areas=None, digits: int = 6) -> list[dict]:
    """For each valid-cell position: cell_id, lon, lat (its centre, EPSG:4326), neighbourhood and ring (its outline
    in lon/lat, closed). See lawful.forecast.places."""
    cells = np.asarray(cells, dtype=np.int64)
    lon, lat = grid.centres_lonlat(crs, cells)
    rings = grid.rings_lonlat(crs, cells, digits)
    return [{"cell_id": grid.cell_id(c), "lon": round(float(lon[i]), digits), "lat": round(float(lat[i]), digits),
             "neighbourhood": str(areas[c]) if areas is not None else "unknown", "ring": rings[i]}
            for i, c in enumerate(cells)]


def forecast(session: Session, *, category: str, day: date, model: str, cell: float, window_days: float,
             since: date, tz: ZoneInfo) -> Forecast:
    """One forecast for a local day, from everything stored before it."""
    data = load_data(session, category=category, since=since, cell=cell, tz=tz)
    at = local_midnight(day, tz)
    est = build(model, window_days).fit(data.events.before(at), grid=data.grid, at=at)
    return Forecast(category, day.isoformat(), model, est.predict(data.grid, at), est, data.areas)


# ---- is there data to forecast from? ------------------------------------------------------------------------------
def last_incident_before(session: Session, *, category: str, before: datetime) -> datetime | None:
    """When the latest stored incident of `category` before `before` occurred (UTC), or None."""
    from sqlalchemy import func, select

    from lawful.incidents.models import Incident

    return session.scalar(select(func.max(Incident.occurred_at)).where(Incident.category == category,
                                                                       Incident.occurred_at < before))


def stale_data(session: Session, *, category: str, day: date, tz: ZoneInfo, max_stale_days: int,
               what: str = "a forecast") -> LawfulError | None:
    """Why a forecast of `category` for local `day` would not be worth trusting (its input data ends more than
    `max_stale_days` before the day, or there is none), as the error to give; None when the data is fresh enough."""
    start = datetime.combine(day, time(0), tz)
    last = last_incident_before(session, category=category, before=start)
    setting = f"LAWFUL_FORECAST_MAX_STALE_DAYS={max_stale_days}"
    if last is None:
        return LawfulError(f"no {category} incidents are stored before {day}: {what} for {day} would have no data "
                           "to learn from", "forecast a day after the stored incidents begin (`lawful incidents "
                           "stats` shows their dates), or load the incidents before it", kind="conflict")
    ends = last.astimezone(tz).date()
    gap = (day - ends).days
    if gap > max_stale_days:
        latest = ends + timedelta(days=max_stale_days)
        return LawfulError(f"the last stored {category} incident before {day} is from {ends}, {gap} days earlier: "
                           f"{what} from data that old is refused (the server allows {max_stale_days} days, {setting})",
                           f"load the incidents up to {day - timedelta(days=1)} first (`lawful ingest FILE --mapping "
                           f"MAPPING.toml`), or forecast a day up to {latest}", kind="conflict")
    return None


def require_fresh_data(session: Session, *, category: str, day: date, tz: ZoneInfo, max_stale_days: int) -> None:
    """Refuse a forecast whose input data ends too long before its day (or does not exist): a conflict with a fix."""
    problem = stale_data(session, category=category, day=day, tz=tz, max_stale_days=max_stale_days)
    if problem:
        raise problem


def require_data_for_days(session: Session, *, category: str, days: list, tz: ZoneInfo, max_stale_days: int,
                          what: str = "backtest") -> None:
    """A backtest or audit scores its forecast days against what happened on them: refuse one whose days hold no
    incidents of the category at all, or run on past the stored incidents by more than `max_stale_days` (those days
    would be scored on nothing and their figures would mean nothing)."""
    from sqlalchemy import func, select

    from lawful.incidents.models import Incident

    first = datetime.fromisoformat(days[0][0]).replace(tzinfo=tz)
    end = datetime.fromisoformat(days[-1][0]).replace(tzinfo=tz) + timedelta(days=1)
    n = session.scalar(select(func.count()).select_from(Incident).where(
        Incident.category == category, Incident.occurred_at >= first, Incident.occurred_at < end))
    last = last_incident_before(session, category=category, before=FAR_FUTURE)
    ends = last.astimezone(tz).date() if last else None
    if not n:
        raise LawfulError(f"no {category} incidents are stored on or between the {what}'s days {days[0][0]} to "
                          f"{days[-1][0]}" + (f" (the stored ones end on {ends})" if ends else "")
                          + ": every day would be scored on nothing",
                          "choose --start and --end within the stored incidents (`lawful incidents stats` shows "
                          "their dates)", kind="conflict")
    last_day = date.fromisoformat(days[-1][0])
    if ends and (last_day - ends).days > max_stale_days:
        raise LawfulError(f"the {what}'s last day, {last_day}, is {(last_day - ends).days} days after the stored "
                          f"{category} incidents end ({ends}): its days after that would be scored on nothing "
                          f"(the server allows {max_stale_days} days, LAWFUL_FORECAST_MAX_STALE_DAYS)",
                          f"end it by {ends + timedelta(days=max_stale_days + 1)} (--end is exclusive), or load the "
                          "later incidents first", kind="conflict")


def recent_events(session: Session, *, category: str, day: date, days: int, tz: ZoneInfo):
    """The incidents of `category` in the `days` local days before `day` (what a forecast map overlays). Reading
    them is the caller's access decision: `require_forecast_read`, in the flow's checked, logged transaction."""
    start = datetime.combine(day - timedelta(days=days), time(0), tz)
    return fetch_events(session, category=category, start=start, end=datetime.combine(day, time(0), tz))


def exposure_audit(session: Session, *, category: str, start: date, end: date, every_days: int, model: str,
                   coverage: float, cell: float, window_days: float, since: date, tz: ZoneInfo,
                   progress=None) -> ExposureAudit:
    """Which areas a top-k% policy would attend over the period, against where the period's incidents were."""
    days = local_days(start, end, every_days, tz)
    data = load_data(session, category=category, since=since, cell=cell, tz=tz)
    k = max(1, cells_for(data.grid.n_valid, coverage))
    flagged = []
    for i, (_, at, _) in enumerate(days, 1):
        est = build(model, window_days).fit(data.events.before(at), grid=data.grid, at=at)
        flagged.append(est.predict(data.grid, at).top(k))
        if progress:
            progress(i, len(days))
    period = data.events.between(days[0][1], days[-1][2])
    return audit(model, coverage, flagged, data.grid.cell_of(period.x, period.y), data.areas)


def feedback_loop(session: Session, *, category: str, start: date, models: list[str], rounds: int, round_days: int,
                  coverage: float, cell: float, window_days: float, since: date, tz: ZoneInfo, exploration: float,
                  reported: float, seed: int = 0, progress=None) -> list[FeedbackResult]:
    """Ensign-style simulation per model, without and with the correction; true rates = the next year's incidents."""
    data = load_data(session, category=category, since=since, cell=cell, tz=tz)
    at = local_midnight(start, tz)
    year = data.events.between(at, at + np.timedelta64(365, "D"))
    if len(year) == 0:
        raise LawfulError(f"no {category} incidents in the year from {start} to take as the true rates",
                          "choose a --start at least a year before the last stored incident")
    true_rate = data.grid.counts(year.x, year.y) / 365.0
    out, total, done = [], 2 * len(models), 0
    for model in models:
        for corrected in (False, True):
            out.append(simulate(model, data.events, data.grid, at, true_rate, rounds=rounds, round_days=round_days,
                                coverage=coverage, exploration=exploration, reported=reported, corrected=corrected,
                                window_days=window_days, seed=seed))
            done += 1
            if progress:
                progress(done, total)
    return out


def require_forecast_read(session: Session, *, actor, purpose: str, category: str | None) -> str:
    """May the actor read what a forecast of `category` is made from? Its incidents (checked first, so the refusal
    names them), and every stored incident, since all of their locations shape the grid's mask and areas. The
    actor's clearance must reach the highest classification of both; AccessDenied otherwise. Returns the highest
    classification of all stored incidents: that of what the forecast is made from."""
    from lawful.incidents.service import require_read

    level = require_read(session, actor=actor, purpose=purpose, category=category)
    if category is not None:
        level = require_read(session, actor=actor, purpose=purpose, category=None)
    return level


def require_stored_category(session: Session, *, category: str) -> None:
    """One clear error before any work when nothing of `category` is stored at all."""
    known = get_categories(session)
    if category not in known:
        raise LawfulError(f"no incidents of category {category!r} are stored",
                          f"use one of the stored categories: {', '.join(known) or 'none'}")


def record_development(session: Session, *, actor, purpose: str, analysis: str, category: str,
                       details: dict) -> int:
    """Backtests and analyses are development activity: on the trail (stored incidents were consulted, by this
    person, for this purpose), never operational. Written in the writing transaction of the access check, before
    the read-only computation starts."""
    from lawful.trail import audit

    return audit.append(session, actor=actor.name, action="development", obj=f"incidents:{category}",
                        purpose=purpose, details={"analysis": analysis, "category": category, **details})


class Refusal(str):
    """A gate refusal that is the data's fault, not the registry's: the reason (a str, as the gate's are) with the
    error kind and fix the client gets (a conflict: load the data or change the day)."""

    kind: str = "conflict"
    fix: str | None = None

    @classmethod
    def of(cls, error: LawfulError) -> "Refusal":
        r = cls(error.message)
        r.kind, r.fix = error.kind, error.fix
        return r


def check_issue(session: Session, *, actor, entry, purpose: str, area: str | None = None, day: date | None = None,
                tz: ZoneInfo | None = None, max_stale_days: int | None = None) -> tuple[str | None, str]:
    """Before computing an operational forecast: (the gate's refusal, written to the trail, or None once the gate
    would let it out and the actor may read the incidents it is made from (AccessDenied otherwise); the
    classification of those incidents, which the output will carry). With `day`, a
    forecast whose category's stored incidents end more than `max_stale_days` before the day (or do not exist) is
    refused here too, as the gate's refusal on the trail (`gate.refuse`), whoever asks and however: a `Refusal`."""
    from lawful.governance import gate

    why = gate.precheck(session, actor=actor, entry=entry, purpose=purpose, kind="forecast", area=area)
    level = "internal"
    if why is None:
        category = (entry.card.get("model") or {}).get("category")
        level = require_forecast_read(session, actor=actor, purpose=purpose, category=category)
        if day is not None and category:
            problem = stale_data(session, category=category, day=day, tz=tz, what="an operational forecast",
                                 max_stale_days=max_stale_days or session_settings(session).forecast_max_stale_days)
            if problem:
                why = Refusal.of(problem)
                gate.refuse(session, actor=actor, entry=entry, purpose=purpose, kind="forecast",
                             subject=f"{category} {day.isoformat()}", area=area, why=str(why))
    return why, level


def session_settings(session: Session):
    from lawful.settings import Settings

    return session.info.get("settings") or Settings.from_env()


def forecast_output(session: Session, *, model: dict, day: date, tz: ZoneInfo,
                    since: date = date(2014, 1, 1), crs: str | None = None,
                    area: str | None = None) -> tuple[str, dict, list]:
    """Run a registry entry's configuration (its card's [model] table) for a local day: (subject, payload,
    explanation) ready for the governance gate. The payload keeps each flagged cell's box, so realised accuracy can
    be computed later from the incidents alone, and (with `crs`, the store's) what names the place: its cell id,
    centre in lon/lat, neighbourhood and outline (lawful.forecast.places)."""
    fc = forecast(session, category=model["category"], day=day, model=model["estimator"], cell=float(model["cell_m"]),
                  window_days=float(model["window_days"]), since=since, tz=tz)
    s, g = fc.surface, fc.surface.grid
    top = s.top(max(1, cells_for(g.n_valid, float(model.get("top_share", 0.05)))))
    named = fc.places(top, crs) if crs else [{} for _ in top]
    if area is not None:  # an output for one area holds that area's places only (an approval may be limited to it)
        keep = [i for i, n in enumerate(named) if n.get("neighbourhood") == area]
        top, named = top[keep], [named[i] for i in keep]
    flat = g.valid[top]
    ix, iy = flat % g.nx, flat // g.nx
    cells = [{"rank": i + 1, "cell": g.label(c), "score": round(float(s.values[c]), 6),
              "x0": g.x0 + float(ix[i]) * g.cell, "y0": g.y0 + float(iy[i]) * g.cell,
              "x1": g.x0 + float(ix[i] + 1) * g.cell, "y1": g.y0 + float(iy[i] + 1) * g.cell, **named[i]}
             for i, c in enumerate(top)]
    payload = {"category": model["category"], "day": day.isoformat(), "estimator": model["estimator"],
               "start": _iso(local_midnight(day, tz)), "end": _iso(local_midnight(day + timedelta(days=1), tz)),
               "area_share": len(top) / g.n_valid, "cells": cells}
    explanation = [{"cell": g.label(c), **{k: named[i][k] for k in ("cell_id", "neighbourhood") if k in named[i]},
                    "sentence": s.sentence(c),
                    "terms": [{"label": t.label, "value": t.value, "share": t.share, "events": t.events}
                              for t in s.explain(c)]} for i, c in enumerate(top)]
    return f"{model['category']} {day.isoformat()}", payload, explanation


def _iso(t: np.datetime64) -> str:
    return datetime.fromisoformat(str(t.astype("datetime64[us]"))).replace(tzinfo=timezone.utc).isoformat()
