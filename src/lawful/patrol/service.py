"""Patrol plans and dosage as people reach them through the server. One-transaction operations, `(session, *,
actor, ...)`, keyword-only; each decides access through `access.require` and writes its own trail entries.

A plan is made only over a forecast output that a supervisor ACCEPTED, by a registered planning configuration (a
registry entry whose card's [model] table holds the planner's settings and policy limits), and leaves through the
governance gate as an output of kind "plan": a recommendation until a supervisor decides it in review. The solver
itself is `plan.py` (pure); this module links it to the store, the gate and the trail.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.csvsafe import Writer
from lawful.access.service import Actor
from lawful.errors import Conflict, InputError, LawfulError
from lawful.governance import review
from lawful.governance.models import Entry, Output
from lawful.patrol import fairness
from lawful.patrol import plan as solver
from lawful.patrol.models import Visit, VisitImport
from lawful.trail import audit

PURPOSE = "patrol planning"
DISPATCHABLE = ("accepted", "amended")  # plan statuses a dispatch export or a dosage import may follow
MAX_VISIT_ROWS = 100_000
TIGHTER = ("max_visits_per_place", "max_visits_per_place_week", "max_area_share")  # a request may only lower these
MAX_PING_ROWS = 500_000
PING_DWELL_MIN = 3.0  # a stay in one cell shorter than this is driving through, not a visit
PING_GAP_MIN = 5.0  # pings further apart than this end a stay (the signal was lost)
AFTER_DAYS = 7  # the dosage report marks crime in patrolled places up to this many days after the shift
MARKS = ("during a visit", "during the shift", "after the patrol", "before the patrol")
MAX_LISTED = 1000
PLAN_DAYS_AFTER = 7  # a forecast's places may plan that day's shifts and the week's after it, not a day years away
KOPER_BANDS = (("under 10 min", 0, 10), ("10-16 min", 10, 16.0001), ("over 16 min", 16.0001, math.inf))


# ---- reading what a plan builds on ----------------------------------------------------------------------------------
def accepted_forecast(session: Session, *, actor: Actor, output_id: int) -> tuple[Output, Entry]:
    """A forecast output a supervisor accepted, read through review (outputs.read for its purpose)."""
    out, entry = review.read_output(session, actor=actor, output_id=output_id)
    if out.kind != "forecast":
        raise LawfulError(f"output {output_id} is a {out.kind}, not a forecast", "give the id of an accepted forecast")
    if out.sandbox:
        raise LawfulError(f"output {output_id} is a sandbox forecast and cannot be acted on", "sandbox is shadow mode")
    if out.status != "accepted":
        raise Conflict(f"forecast {output_id} is {out.status}: a plan is made only from a forecast a supervisor "
                       f"accepted", "decide it first: `lawful review decide ID accepted --reason ...`")
    if entry.state != "active":  # suspended (by the breaker, a DPO, a complaint) or retired since: nothing new from it
        raise Conflict(f"forecast {output_id} comes from {entry.ref}, which is {entry.state}"
                       + (f" ({entry.state_reason})" if entry.state_reason else "")
                       + ": no plan is made from its forecasts", "plan over a forecast of an active model")
    return out, entry


def planner_config(entry: Entry) -> dict:
    """The approved planning configuration of a registry entry: its card's [model] table, which the card's [rules]
    sha256 must fingerprint (the registry has no planner kind; a planning configuration registers as a rule set of
    policy limits, see docs/patrol.md)."""
    table = dict(entry.card.get("model") or {})
    if entry.kind != "rule-set" or table.get("planner") != "patrol":
        raise LawfulError(f"{entry.ref} is not a patrol-planning configuration",
                          "give the planner's registry entry (see examples/governance/patrol-planner.toml)")
    approved = (entry.card.get("rules") or {}).get("sha256", "")
    if solver.config_sha256(table) != approved:
        raise LawfulError(f"{entry.ref}: its card's [rules] sha256 is not the SHA-256 of its [model] planning "
                          f"configuration", "register the card with the sha256 that `lawful patrol config-sha` prints")
    try:
        solver.Config.from_table(table)
    except ValueError as exc:
        raise LawfulError(f"{entry.ref}: {exc}", "fix the card's [model] table and register a new version") from None
    return table


def check_plan(session: Session, *, actor: Actor, forecast_id: int, ref: str, purpose: str) -> dict:
    """Before computing: the actor may plan, the forecast is accepted, the planner entry is a planning
    configuration the gate would let out, and the actor may read the incidents the neighbourhoods come from.
    Returns what the computation needs; `refused` holds the gate's refusal (already on the trail)."""
    from lawful.governance import gate
    from lawful.governance.registry import get
    from lawful.incidents.service import require_read

    require(actor, "patrol.plan", Resource("output", str(forecast_id)), purpose)
    out, fentry = accepted_forecast(session, actor=actor, output_id=forecast_id)
    planner = get(session, ref=ref)
    table = planner_config(planner)
    audit.append(session, actor=actor.name, action="consultation", obj=f"output:{out.id}", purpose=purpose,
                 details={"model": fentry.ref, "for": "patrol plan", "planner": planner.ref})
    why = gate.precheck(session, actor=actor, entry=planner, purpose=purpose, kind="plan")
    if why is None:
        require_read(session, actor=actor, purpose=purpose)
    return {"ref": planner.ref, "config": table, "forecast": out.id, "forecast_model": fentry.ref,
            "payload": dict(out.payload), "explanation": list(out.explanation), "refused": why,
            "classification": out.classification}


# ---- building a plan (read-only) -----------------------------------------------------------------------------------
def _short(label: str) -> str:
    """'cell 103,46 (centre ...)' -> '103,46'."""
    return label.split(" (")[0].removeprefix("cell ").strip()


def parse_shift(text: str, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """'22:00-06:00' on a local day: the start and end instants (an end before the start is the next day)."""
    try:
        a, b = (time.fromisoformat(x.strip()) for x in text.split("-"))
    except ValueError:
        raise InputError(f"shift {text!r} is not HH:MM-HH:MM", "write e.g. 22:00-06:00") from None
    start = datetime.combine(day, a, tz)
    end = datetime.combine(day + timedelta(days=1) if b <= a else day, b, tz)
    return start, end


def _transformer(src: str, dst: str):
    from lawful.incidents.validate import transformer

    return transformer(src, dst)


def _in_bounds(lon: float, lat: float, bounds) -> bool:
    return bounds[0] <= lon <= bounds[2] and bounds[1] <= lat <= bounds[3]


def units_from(specs: list[dict], *, crs: str, bounds) -> list[solver.Unit]:
    names = [s["name"] for s in specs]
    if len(set(names)) != len(names):
        raise InputError("two units have the same name", "give each unit its own name")
    to_xy = _transformer("EPSG:4326", crs)
    units = []
    for s in specs:
        if not _in_bounds(s["lon"], s["lat"], bounds):
            raise InputError(f"unit {s['name']}: start point {s['lon']},{s['lat']} is outside the jurisdiction "
                             f"(lon {bounds[0]}..{bounds[2]}, lat {bounds[1]}..{bounds[3]})",
                             "give the start point as lon,lat in degrees (EPSG:4326); a swapped pair is common")
        x, y = to_xy.transform(s["lon"], s["lat"])
        units.append(solver.Unit(s["name"], float(x), float(y), s.get("max_visits")))
    return units


def cell_areas(session: Session, *, cells: list[dict], before: datetime, cell_m: float) -> list[str]:
    """Each forecast cell's neighbourhood: the most common area code among the incidents in it over the year
    before the forecast ('unknown' if none)."""
    return neighbourhoods(session, cells=cells, before=before, cell_m=cell_m)[0]


def neighbourhoods(session: Session, *, cells: list[dict], before: datetime, cell_m: float,
                   category: str | None = None) -> tuple[list[str], dict[str, int]]:
    """Each forecast cell's neighbourhood (the most common area code among the incidents of any category in it over
    the year before the forecast; 'unknown' if none), and the recorded incidents of `category` (all if None) per
    neighbourhood of the whole jurisdiction over that year: the crime shares plan fairness weighs minutes against."""
    from lawful.incidents.service import fetch_incident_frame

    frame = fetch_incident_frame(session, start=before - timedelta(days=365), end=before)
    of_kind = frame[frame["category"] == category] if category and len(frame) else frame
    crime = {str(a): int(n) for a, n in of_kind["area"].fillna("unknown").value_counts().items()} if len(of_kind) \
        else {}
    keys = {(round(c["x0"] / cell_m), round(c["y0"] / cell_m)): i for i, c in enumerate(cells)}
    counts: list[dict[str, int]] = [{} for _ in cells]
    if len(frame):
        kx = np.floor(frame["x"].to_numpy() / cell_m).astype(np.int64)
        ky = np.floor(frame["y"].to_numpy() / cell_m).astype(np.int64)
        for a, b, area in zip(kx, ky, frame["area"]):
            i = keys.get((int(a), int(b)))
            if i is not None and area is not None:
                counts[i][str(area)] = counts[i].get(str(area), 0) + 1
    return [min(c, key=lambda k: (-c[k], k)) if c else "unknown" for c in counts], crime


def week_of(day: date) -> tuple[date, date]:
    """The week a day is in: Monday to Sunday (local days)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def week_visits(session: Session, *, day: date) -> dict:
    """Visits per place in the week's plans that went to dispatch (accepted or amended, not sandbox) for a shift
    starting Monday to Sunday of `day`'s week, and the week's plans still open (not counted: a supervisor who
    accepts two plans made before either was accepted sees them named in each plan's payload)."""
    from lawful.governance.models import Output

    monday, _ = week_of(day)
    days = [(monday + timedelta(days=i)).isoformat() for i in range(7)]
    plans = session.scalars(select(Output).where(Output.kind == "plan", Output.sandbox.is_(False),
                                                 or_(*[Output.subject.like(f"patrol plan {d} %") for d in days]))
                            .order_by(Output.id)).all()
    used: dict[str, int] = {}
    counted, still_open = [], []
    for o in plans:
        if o.payload.get("day") not in days:
            continue
        if o.status in DISPATCHABLE:
            counted.append(o.id)
            for a in o.payload.get("assignments") or []:
                used[a["cell"]] = used.get(a["cell"], 0) + int(a["visits"])
        elif o.status == "open":
            still_open.append(o.id)
    return {"from": days[0], "to": days[-1], "plans": counted, "open_plans": still_open, "used": used}


def _places(cells: list[dict], areas: list[str]) -> solver.Places:
    return solver.Places(cell=[_short(c["cell"]) for c in cells],
                         x=np.array([(c["x0"] + c["x1"]) / 2 for c in cells], float),
                         y=np.array([(c["y0"] + c["y1"]) / 2 for c in cells], float),
                         risk=np.array([max(float(c["score"]), 0.0) for c in cells], float), area=list(areas))


def _summary(p: solver.Plan, areas: list[str]) -> dict:
    shares = p.area_shares(areas)
    return {"visits": int(p.visits.sum()), "covered_share": round(p.share, 6),
            "minutes_driven": round(p.minutes_driven, 1), "status": p.status, "seconds": round(p.seconds, 3),
            "largest_area_share": round(max(shares.values()) if shares else 0.0, 6)}


def build_plan(session: Session, *, context: dict, units: list[dict], shift: str, day: date | None, tz: ZoneInfo,
               crs: str, bounds, limits: dict | None = None) -> tuple[str, dict, list]:
    """Solve the allocation over an accepted forecast (read-only). The request may tighten the approved limits
    (fewer visits per place, a smaller neighbourhood share), never loosen them. Returns (subject, payload,
    explanation) for the gate."""
    table = dict(context["config"])
    for k, v in (limits or {}).items():
        if v is None:
            continue
        if k not in TIGHTER + ("visit_min", "speed_kmh", "patrol_share"):
            raise InputError(f"{k} is not a setting a plan request may change", "see docs/patrol.md")
        if k in TIGHTER and v > table.get(k, getattr(solver.Config, k)):
            raise LawfulError(f"{k} = {v} is above the approved limit of {table.get(k, getattr(solver.Config, k))}",
                              "a request may tighten a policy limit, never loosen it", kind="denied")
        table[k] = v
    try:
        cfg = solver.Config.from_table(table)
    except ValueError as exc:
        raise InputError(str(exc), "see docs/patrol.md") from None
    fc = context["payload"]
    cells = fc.get("cells") or []
    if not cells:
        raise LawfulError(f"forecast {context['forecast']} has no places", "plan over a forecast with places")
    cell_m = float(cells[0]["x1"] - cells[0]["x0"])
    forecast_day = date.fromisoformat(fc["day"])
    day = day or forecast_day
    if not forecast_day <= day <= forecast_day + timedelta(days=PLAN_DAYS_AFTER):
        raise InputError(f"the shift's day {day.isoformat()} is not within {PLAN_DAYS_AFTER} days after the forecast's "
                         f"day {forecast_day.isoformat()}", "plan over a forecast for the shift's day (or the week before)")
    start, end = parse_shift(shift, day, tz)
    shift_min = (end - start).total_seconds() / 60
    unit_list = units_from(units, crs=crs, bounds=bounds)
    areas, crime = neighbourhoods(session, cells=cells, before=datetime.fromisoformat(fc["start"]), cell_m=cell_m,
                                  category=fc.get("category"))
    week = week_visits(session, day=day)
    places = _places(cells, areas)
    left = [max(cfg.max_visits_per_place_week - week["used"].get(c, 0), 0) for c in places.cell]
    places = solver.Places(places.cell, places.x, places.y, places.risk, places.area, np.array(left, int))
    try:
        best = solver.solve(unit_list, places, shift_min, cfg)
        base = solver.greedy(unit_list, places, shift_min, cfg)
    except ValueError as exc:
        raise InputError(str(exc), "check the units, the shift and the forecast") from None
    to_lonlat = _transformer(crs, "EPSG:4326")
    total = float(places.risk.sum()) or 1.0
    sentences = {_short(e["cell"]): e.get("sentence", "") for e in context["explanation"]}
    assignments, explanation, unit_views = [], [], []
    for u, unit in enumerate(unit_list):
        stops = best.routes[unit.name]
        lon, lat = to_lonlat.transform(unit.x, unit.y)
        unit_views.append({"name": unit.name, "lon": round(lon, 6), "lat": round(lat, 6), "x": round(unit.x, 1),
                           "y": round(unit.y, 1),
                           "max_visits": unit.max_visits, "visits": len(stops),
                           "stops": [{"order": n + 1, "cell": places.cell[i],
                                      "arrive": (start + timedelta(minutes=a)).isoformat(timespec="minutes"),
                                      "depart": (start + timedelta(minutes=d)).isoformat(timespec="minutes")}
                                     for n, (i, a, d) in enumerate(stops)]})
        for i in np.flatnonzero(best.visits[u]):
            k = int(best.visits[u, i])
            c = cells[i]
            clon, clat = to_lonlat.transform(places.x[i], places.y[i])
            times = [(start + timedelta(minutes=a)).strftime("%H:%M") for j, a, _ in stops if j == i]
            share = places.risk[i] / total
            assignments.append({
                "cell": places.cell[i], "unit": unit.name, "visits": k, "minutes": k * cfg.visit_min,
                "area": areas[i], "risk_share": round(share, 6), "rank": c.get("rank"),
                "lon": round(clon, 6), "lat": round(clat, 6), "times": times,
                "x0": c["x0"], "y0": c["y0"], "x1": c["x1"], "y1": c["y1"]})
            why = sentences.get(places.cell[i], "")
            explanation.append({"cell": places.cell[i], "unit": unit.name, "sentence": (
                f"cell {places.cell[i]}: {share:.0%} of tonight's forecast risk; {k} visit{'s' * (k > 1)} of "
                f"{cfg.visit_min:g} min by {unit.name} ({', '.join(times)}) in {areas[i]}"
                + (f"; forecast: {why}" if why else ""))})
    per_area: dict[str, dict] = {}
    v = best.place_visits()
    for i, a in enumerate(areas):
        row = per_area.setdefault(a, {"area": a, "visits": 0, "risk_share": 0.0})
        row["visits"] += int(v[i])
        row["risk_share"] += float(places.risk[i] / total)
    nv = max(int(v.sum()), 1)
    area_rows = [{**r, "visit_share": round(r["visits"] / nv, 6), "risk_share": round(r["risk_share"], 6)}
                 for r in sorted(per_area.values(), key=lambda r: r["area"])]
    ms, gs = _summary(best, areas), _summary(base, areas)
    ms["bound_share"] = round(best.bound / best.risk_total, 6) if best.bound is not None and best.risk_total else None
    ms["gap"] = round(max(best.bound - best.covered, 0.0) / best.bound, 6) if best.bound else 0.0
    fair, fair_sentence = fairness.plan_fairness(assignments, crime, fc.get("category"))
    capped = sorted(c for c, n in zip(places.cell, left)  # places the week's other plans left fewer visits
                    if n < min(cfg.max_visits_per_place, cfg.max_visits_per_place_week))
    week_view = {"from": week["from"], "to": week["to"], "cap": cfg.max_visits_per_place_week,
                 "plans": week["plans"], "open_plans": week["open_plans"],
                 "used": {c: week["used"][c] for c in places.cell if c in week["used"]},
                 "capped": capped}
    payload = {
        "forecast": context["forecast"], "forecast_model": context["forecast_model"], "planner": context["ref"],
        "category": fc.get("category"), "day": day.isoformat(),
        "shift": {"text": shift, "start": start.isoformat(), "end": end.isoformat(), "minutes": shift_min},
        "config": cfg.table(), "grid": {"cell": cell_m}, "crs": crs,
        "curve": f"covered = risk x (1 - (1 - {cfg.first_visit_share:g})^visits) (Koper 1995: concave returns to "
                 f"presence; the share per visit is an assumption of the approved configuration)",
        "units": unit_views, "assignments": assignments, "areas": area_rows,
        "comparison": {"optimiser": ms, "greedy": gs,
                       "covered_gain": round(ms["covered_share"] - gs["covered_share"], 6),
                       "minutes_driven_change": round(ms["minutes_driven"] - gs["minutes_driven"], 1)},
        "covered_share": ms["covered_share"], "bound_share": ms["bound_share"], "gap": ms["gap"],
        "status": best.status, "week": week_view, "fairness": fair}
    if not explanation:
        explanation = [{"cell": None, "unit": None, "sentence": "no visit fits the units' time and the policy limits"}]
    if capped:
        explanation.append({"cell": None, "unit": None, "sentence": (
            f"Weekly cap: {len(capped)} place(s) had fewer visits left this week ({week['from']} to {week['to']}, at "
            f"most {cfg.max_visits_per_place_week} per place) after plans {', '.join(map(str, week['plans']))}: "
            f"{', '.join(capped[:10])}{' ...' if len(capped) > 10 else ''}")})
    explanation.append({"cell": None, "unit": None, "sentence": fair_sentence})
    return f"patrol plan {day.isoformat()} {shift}", payload, explanation


# ---- reading, exporting ----------------------------------------------------------------------------------------------
def read_plan(session: Session, *, actor: Actor, plan_id: int, purpose: str = PURPOSE, why: str = "read") -> Output:
    out, entry = review.read_output(session, actor=actor, output_id=plan_id)
    if out.kind != "plan":
        raise LawfulError(f"output {plan_id} is a {out.kind}, not a patrol plan", "give a plan's output id")
    audit.append(session, actor=actor.name, action="consultation", obj=f"output:{out.id}", purpose=out.purpose,
                 details={"model": entry.ref, "patrol": why})
    return out


def plan_view(out: Output) -> dict:
    return {"id": out.id, "kind": out.kind, "status": out.status, "purpose": out.purpose, "subject": out.subject,
            "issued_by": out.issued_by, "issued_at": out.issued_at.isoformat(), "payload": out.payload,
            "explanation": out.explanation}


def show_plan(session: Session, *, actor: Actor, plan_id: int) -> dict:
    require(actor, "patrol.plan", Resource("output", str(plan_id)), PURPOSE)
    return plan_view(read_plan(session, actor=actor, plan_id=plan_id))


def _dispatchable(out: Output, what: str) -> None:
    if out.status not in DISPATCHABLE:
        raise Conflict(f"plan {out.id} is {out.status}: {what} only a plan a supervisor accepted",
                       "decide it first: `lawful review decide ID accepted --reason ...`")


def export_plan(session: Session, *, actor: Actor, plan_id: int, fmt: str) -> dict:
    """An accepted plan for dispatch systems: CSV (one row per stop) or GeoJSON points (lon/lat, EPSG:4326). The
    export is a disclosure on the trail."""
    require(actor, "patrol.plan", Resource("output", str(plan_id)), PURPOSE)
    out = read_plan(session, actor=actor, plan_id=plan_id, why=f"export {fmt}")
    _dispatchable(out, "dispatch receives")
    p = out.payload
    where = {(a["cell"], a["unit"]): a for a in p["assignments"]}
    reasons = {(e["cell"], e["unit"]): e["sentence"] for e in out.explanation}
    stops = [(u["name"], s) for u in p["units"] for s in u["stops"]]
    audit.append(session, actor=actor.name, action="disclosure", obj=f"output:{out.id}", purpose=out.purpose,
                 details={"format": fmt, "stops": len(stops)})
    if fmt == "csv":
        buf = io.StringIO()
        w = Writer(buf)  # area names come from uploaded data: never a formula in dispatch's spreadsheet
        w.writerow(["plan", "unit", "order", "cell", "lon", "lat", "arrive", "depart", "area", "reason"])
        for unit, s in stops:
            a = where[(s["cell"], unit)]
            w.writerow([out.id, unit, s["order"], s["cell"], a["lon"], a["lat"], s["arrive"], s["depart"], a["area"],
                        reasons.get((s["cell"], unit), "")])
        return {"format": "csv", "filename": f"plan-{out.id}.csv", "text": buf.getvalue()}
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [where[(s["cell"], unit)]["lon"],
                                                                                   where[(s["cell"], unit)]["lat"]]},
                 "properties": {"plan": out.id, "unit": unit, "order": s["order"], "cell": s["cell"],
                                "arrive": s["arrive"], "depart": s["depart"], "area": where[(s["cell"], unit)]["area"],
                                "reason": reasons.get((s["cell"], unit), "")}} for unit, s in stops]
    return {"format": "geojson", "filename": f"plan-{out.id}.geojson",
            "geojson": {"type": "FeatureCollection", "crs_note": "coordinates are lon/lat, EPSG:4326",
                        "features": features}}


def briefing(session: Session, *, actor: Actor, plan_id: int) -> dict:
    """The printable shift briefing of an accepted plan: one HTML page per unit (map, stops with times and
    reasons), with the Content-Security-Policy it is served under. A disclosure on the trail, like an export."""
    from lawful.governance.models import Review
    from lawful.patrol import briefing as page

    require(actor, "patrol.plan", Resource("output", str(plan_id)), PURPOSE)
    out = read_plan(session, actor=actor, plan_id=plan_id, why="briefing")
    _dispatchable(out, "a shift is briefed on")
    p = dict(out.payload)
    if any("x" not in u for u in p["units"]):  # plans made before the units' projected start points were kept
        to_xy = _transformer("EPSG:4326", p["crs"])
        p["units"] = [{**u, **dict(zip(("x", "y"), to_xy.transform(u["lon"], u["lat"])))} for u in p["units"]]
    decided = session.scalars(select(Review).where(Review.output_id == out.id)).first()
    who = f"{decided.decision} by {decided.reviewer} on {decided.decided_at:%Y-%m-%d %H:%M} UTC" if decided else None
    html = page.render(out.id, out.status, p, list(out.explanation), decided=who)
    audit.append(session, actor=actor.name, action="disclosure", obj=f"output:{out.id}", purpose=out.purpose,
                 details={"format": "briefing", "units": len(p["units"]),
                          "sha256": hashlib.sha256(html.encode()).hexdigest()})
    return {"filename": f"plan-{out.id}-briefing.html", "html": html, "csp": page.CSP}


# ---- dosage -------------------------------------------------------------------------------------------------------
def _instant(text: str, tz: ZoneInfo) -> datetime:
    t = datetime.fromisoformat(text.strip())
    return (t if t.tzinfo else t.replace(tzinfo=tz)).astimezone(timezone.utc)


def _origin(plan: dict) -> tuple[int, int, float, float, float] | None:
    """The plan's grid: a cell's (col, row, x0, y0) and the cell size, from which any point's cell follows (the
    grid's columns count from its origin, which the cells carry)."""
    if not plan.get("assignments"):
        return None
    a = plan["assignments"][0]
    ax, ay = (int(v) for v in a["cell"].split(","))
    return ax, ay, float(a["x0"]), float(a["y0"]), float(plan["grid"]["cell"])


def cell_label(x, y, origin) -> np.ndarray:
    """'col,row' on the plan's grid of projected points (arrays)."""
    ax, ay, x0, y0, m = origin
    cx = ax + np.floor((np.asarray(x, float) - x0) / m).astype(np.int64)
    cy = ay + np.floor((np.asarray(y, float) - y0) / m).astype(np.int64)
    return np.array([f"{a},{b}" for a, b in zip(cx.tolist(), cy.tolist())], dtype=object)


def _row_cell(row: dict, bad, plan: dict, origin, to_xy) -> str:
    """A row's cell: its `cell` ("col,row"), or the plan grid's cell of its lon and lat."""
    cell = (row.get("cell") or "").strip()
    if cell:
        parts = cell.split(",")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            bad("cell", cell, "write the cell as col,row (e.g. 103,46), as the plan names it")
        return f"{int(parts[0])},{int(parts[1])}"
    try:
        lon, lat = float(row.get("lon") or "nan"), float(row.get("lat") or "nan")
    except ValueError:
        lon = lat = math.nan
    if not (math.isfinite(lon) and math.isfinite(lat)):
        bad("lon/lat", f"{row.get('lon')},{row.get('lat')}", "give a cell or lon and lat in degrees")
    if origin is None:
        bad("lon/lat", f"{lon},{lat}", "the plan has no places to measure against")
    x, y = to_xy.transform(lon, lat)
    return str(cell_label([x], [y], origin)[0])


def parse_visits(text: str, *, source: str, plan: dict, tz: ZoneInfo) -> list[dict]:
    """A visit log: CSV with unit, cell ("col,row") or lon and lat, arrive, depart (ISO 8601; without an offset,
    local time); or GPS pings (unit, lon and lat or cell, time), turned into visits by dwell time (`from_pings`).
    Every problem names the file, row and field."""
    reader = csv.DictReader(io.StringIO(text))
    cols = set(reader.fieldnames or [])
    where = "cell" in cols or {"lon", "lat"} <= cols
    if {"unit", "time"} <= cols and "arrive" not in cols and where:
        return from_pings(reader, source=source, plan=plan, tz=tz)
    need = {"unit", "arrive", "depart"}
    if not need <= cols or not where:
        raise InputError(f"{source}: the header must name unit, cell (or lon and lat), arrive and depart (a visit "
                         f"log), or unit, lon and lat (or cell) and time (GPS pings); it has "
                         f"{', '.join(sorted(cols)) or 'nothing'}", "see docs/patrol.md, 'Visit logs'")
    origin = _origin(plan)
    to_xy = _transformer("EPSG:4326", plan["crs"]) if "lon" in cols else None
    out = []
    for row, bad, unit in _unit_rows(reader, source=source, limit=MAX_VISIT_ROWS, rows="visits", file="log"):
        cell = _row_cell(row, bad, plan, origin, to_xy)
        try:
            arrive, depart = _instant(row.get("arrive") or "", tz), _instant(row.get("depart") or "", tz)
        except ValueError:
            bad("arrive/depart", f"{row.get('arrive')} / {row.get('depart')}", "write ISO 8601, e.g. 2019-12-10T22:40")
        if depart < arrive:
            bad("depart", row.get("depart"), "a visit departs after it arrives")
        out.append({"unit": unit, "cell": cell, "arrive": arrive, "depart": depart,
                    "minutes": (depart - arrive).total_seconds() / 60})
    if not out:
        raise InputError(f"{source}: no visits", "send a log with at least one visit")
    return out


def _unit_rows(reader: csv.DictReader, *, source: str, limit: int, rows: str, file: str):
    """Each row of a visit log or a pings file with `bad(field, value, why)`, which refuses the whole file naming
    that row, and the row's checked unit; more than `limit` rows is refused."""
    for n, row in enumerate(reader, start=2):
        if n - 1 > limit:
            raise InputError(f"{source}: more than {limit:,} {rows}", f"split the {file} by shift")

        def bad(field, value, why, n=n):
            raise InputError(f"{source} row {n}, field {field} ({str(value)[:80]!r}): {why}. Nothing was written.",
                             f"correct that row and import the {file} again")

        unit = (row.get("unit") or "").strip()
        if not unit or len(unit) > 100:
            bad("unit", unit, "give the unit's name (at most 100 characters)")
        yield row, bad, unit


def from_pings(reader: csv.DictReader, *, source: str, plan: dict, tz: ZoneInfo) -> list[dict]:
    """GPS pings to visits by dwell time: each unit's pings in time order; a run of consecutive pings in one cell,
    none more than PING_GAP_MIN minutes after the one before, is a stay from its first ping to its last; a stay of
    at least PING_DWELL_MIN minutes is a visit (shorter: driving through). A ping out of the cell, or a gap, ends a
    stay. Between two pings a unit is taken to be where the earlier one put it, so a stay can be up to one ping
    interval longer than measured."""
    cols = set(reader.fieldnames or [])
    origin = _origin(plan)
    to_xy = _transformer("EPSG:4326", plan["crs"]) if "lon" in cols else None
    pings: list[tuple[str, datetime, str]] = []
    for row, bad, unit in _unit_rows(reader, source=source, limit=MAX_PING_ROWS, rows="pings", file="pings"):
        cell = _row_cell(row, bad, plan, origin, to_xy)
        try:
            t = _instant(row.get("time") or "", tz)
        except ValueError:
            bad("time", row.get("time"), "write ISO 8601, e.g. 2019-12-10T22:40:30")
        pings.append((unit, t, cell))
    if not pings:
        raise InputError(f"{source}: no pings", "send at least one ping")
    pings.sort(key=lambda p: (p[0], p[1]))
    gap, dwell = timedelta(minutes=PING_GAP_MIN), PING_DWELL_MIN
    out: list[dict] = []

    def close(run):
        if run and (run[2] - run[1]).total_seconds() / 60 >= dwell:
            out.append({"unit": run[0], "cell": run[3], "arrive": run[1], "depart": run[2],
                        "minutes": (run[2] - run[1]).total_seconds() / 60})

    run = None  # (unit, first, last, cell)
    for unit, t, cell in pings:
        if run and run[0] == unit and run[3] == cell and t - run[2] <= gap:
            run = (unit, run[1], t, cell)
        else:
            close(run)
            run = (unit, t, t, cell)
    close(run)
    if not out:
        raise InputError(f"{source}: {len(pings):,} pings, but no stay of {dwell:g} minutes or more in one cell",
                         "check the pings' times and places (a unit driving through makes no visit)")
    return out


def import_visits(session: Session, *, actor: Actor, plan_id: int, text: str, source: str, tz: ZoneInfo,
                  purpose: str = PURPOSE) -> dict:
    """Record what was done against an accepted plan (a visit log, or GPS pings turned into visits); returns the
    dosage report."""
    from lawful.incidents.service import require_read

    require(actor, "patrol.dosage", Resource("output", str(plan_id)), purpose)
    out = read_plan(session, actor=actor, plan_id=plan_id, purpose=purpose, why="dosage import")
    _dispatchable(out, "dosage is measured against")
    require_read(session, actor=actor, purpose=purpose)  # the report marks the crime recorded in patrolled places
    header = next(csv.reader(io.StringIO(text)), [])
    pinged = "time" in header and "arrive" not in header
    visits = parse_visits(text, source=source, plan=out.payload, tz=tz)
    planned = {(a["cell"], a["unit"]) for a in out.payload["assignments"]}
    now = datetime.now(timezone.utc)
    imp = VisitImport(plan_output_id=out.id, source=source[:300], sha256=hashlib.sha256(text.encode()).hexdigest(),
                      rows=len(visits), imported_by=actor.name, imported_at=now)
    session.add(imp)
    session.flush()
    session.add_all([Visit(import_id=imp.id, plan_output_id=out.id, in_plan=(v["cell"], v["unit"]) in planned, **v)
                     for v in visits])
    session.flush()
    audit.append(session, actor=actor.name, action="collection", obj=f"output:{out.id}", purpose=purpose,
                 details={"patrol": "GPS pings" if pinged else "visit log", "file": source[:300],
                          "sha256": imp.sha256, "visits": len(visits)})
    return {"import": imp.id, "visits": len(visits), "from": "GPS pings" if pinged else "visit log",
            **_dosage(session, out)}


def dosage(session: Session, *, actor: Actor, plan_id: int, purpose: str = PURPOSE) -> dict:
    from lawful.incidents.service import require_read

    require(actor, "patrol.dosage", Resource("output", str(plan_id)), purpose)
    out = read_plan(session, actor=actor, plan_id=plan_id, purpose=purpose, why="dosage report")
    require_read(session, actor=actor, purpose=purpose)
    return _dosage(session, out)


def _band(minutes: float) -> str:
    return next(name for name, lo, hi in KOPER_BANDS if lo <= minutes < hi)


def _dosage(session: Session, out: Output) -> dict:
    """Planned against delivered minutes per place and unit (delivered: inside the shift), places never visited,
    visits outside the plan, each visit's Koper band, and the crime recorded in the patrolled places."""
    p = out.payload
    start, end = datetime.fromisoformat(p["shift"]["start"]), datetime.fromisoformat(p["shift"]["end"])
    visits = session.scalars(select(Visit).where(Visit.plan_output_id == out.id).order_by(Visit.arrive, Visit.id)).all()
    rows = {(a["cell"], a["unit"]): {"cell": a["cell"], "unit": a["unit"], "area": a["area"],
                                      "planned_visits": a["visits"], "planned_min": a["minutes"],
                                      "delivered_visits": 0, "delivered_min": 0.0} for a in p["assignments"]}
    outside, bands = [], {name: 0 for name, _, _ in KOPER_BANDS}
    for v in visits:
        lo, hi = max(v.arrive, start), min(v.depart, end)
        inside = max((hi - lo).total_seconds() / 60, 0.0)
        bands[_band(v.minutes)] += 1
        key = (v.cell, v.unit)
        if key in rows and inside > 0:
            rows[key]["delivered_visits"] += 1
            rows[key]["delivered_min"] += inside
        else:
            outside.append({"unit": v.unit, "cell": v.cell, "arrive": v.arrive.isoformat(),
                            "depart": v.depart.isoformat(), "minutes": round(v.minutes, 1),
                            "why": "outside the shift" if key in rows else
                            "cell not in the plan" if v.cell not in {c for c, _ in rows} else
                            "cell planned for another unit"})
    by_place: dict[str, float] = {}
    for r in rows.values():
        r["delivered_min"] = round(r["delivered_min"], 1)
        r["ratio"] = round(r["delivered_min"] / r["planned_min"], 3) if r["planned_min"] else None
        by_place[r["cell"]] = by_place.get(r["cell"], 0.0) + r["delivered_min"]
    planned_min = sum(r["planned_min"] for r in rows.values())
    delivered_min = sum(r["delivered_min"] for r in rows.values())
    return {"plan": out.id, "status": out.status, "planned_min": planned_min, "delivered_min": round(delivered_min, 1),
            "compliance": round(delivered_min / planned_min, 3) if planned_min else None,
            "rows": sorted(rows.values(), key=lambda r: (r["unit"], r["cell"])),
            "never_visited": sorted(c for c, m in by_place.items() if m == 0),
            "outside_plan": outside, "koper_bands": bands, "visits": len(visits),
            "crime": patrolled_crime(session, plan=p, visits=visits)}


def patrolled_crime(session: Session, *, plan: dict, visits, after_days: int = AFTER_DAYS) -> dict:
    """The crime recorded in the patrolled places (cells with a delivered visit during the shift), so discovery
    can be told from occurrence. Each incident that occurred, or was reported, from the shift's start to
    `after_days` days after its end is listed with a mark:
      - "during a visit": it occurred while a unit was in the cell;
      - "during the shift": it occurred in the shift, while no unit was there;
      - "after the patrol": it occurred within `after_days` days after the shift;
      - "before the patrol": it occurred earlier but was reported in the window;
    and `discovered` when it was reported during a visit to its cell but occurred before that visit began (found
    by the patrol, not deterred or caused by it). `before` counts the incidents that occurred in the same cells in
    a window as long just before the shift, for comparison. All categories; the plan's own is named."""
    from lawful.incidents.models import Incident

    start, end = datetime.fromisoformat(plan["shift"]["start"]), datetime.fromisoformat(plan["shift"]["end"])
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    origin = _origin(plan)
    stays: dict[str, list[tuple[datetime, datetime]]] = {}
    for v in visits:
        if v.depart > start and v.arrive < end:
            stays.setdefault(v.cell, []).append((v.arrive, v.depart))
    after = end + timedelta(days=after_days)
    before = start - (after - start)
    result = {"after_days": after_days, "category": plan.get("category"), "patrolled_cells": len(stays),
              "window": {"from": start.isoformat(), "to": after.isoformat()},
              "counts": {m: 0 for m in MARKS}, "discovered": 0, "before": 0, "incidents": [], "listed": 0}
    if not stays or origin is None:
        return result
    ax, ay, x0, y0, m = origin
    cols = [int(c.split(",")[0]) for c in stays]
    rows = [int(c.split(",")[1]) for c in stays]
    bx0, bx1 = x0 + (min(cols) - ax) * m, x0 + (max(cols) - ax + 1) * m
    by0, by1 = y0 + (min(rows) - ay) * m, y0 + (max(rows) - ay + 1) * m
    found = session.execute(
        select(Incident.id, Incident.category, Incident.occurred_at, Incident.reported_at, Incident.x, Incident.y)
        .where(Incident.x >= bx0, Incident.x < bx1, Incident.y >= by0, Incident.y < by1,
               or_(Incident.occurred_at.between(before, after),
                   Incident.reported_at.between(start, after)))
        .order_by(Incident.occurred_at, Incident.id)).all()
    if not found:
        return result
    labels = cell_label([r.x for r in found], [r.y for r in found], origin)
    listed = []
    for r, cell in zip(found, labels):
        if cell not in stays:
            continue
        t, rep = r.occurred_at, r.reported_at
        if t < start:
            if t >= before and not (rep is not None and start <= rep < after):
                result["before"] += 1
                continue
            if rep is None or not start <= rep < after:
                continue
            mark = "before the patrol"
        elif t < end:
            mark = "during a visit" if any(a <= t <= d for a, d in stays[cell]) else "during the shift"
        elif t < after:
            mark = "after the patrol"
        else:
            continue
        found_by = rep is not None and any(a <= rep <= d and t < a for a, d in stays[cell])
        result["counts"][mark] += 1
        result["discovered"] += found_by
        listed.append({"incident": r.id, "category": r.category, "cell": cell, "occurred_at": t.isoformat(),
                       "reported_at": rep.isoformat() if rep else None, "mark": mark, "discovered": found_by})
    result["listed"] = len(listed)
    result["incidents"] = listed[:MAX_LISTED]
    return result
