"""The console's pages: parse the form or query, call the same service or flow as the API through `ConsoleCall`,
render a template. A refusal is a page that says why and what to do (never a stack trace); not being signed in
sends the person to the sign-in page."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from lawful.access import credentials
from lawful.access import service as access
from lawful.access.decide import load_policy
from lawful.errors import LawfulError
from lawful.forecast import flows as fc_flows
from lawful.governance import flows as gov_flows
from lawful.governance import service as gov
from lawful.governance.policy import Thresholds
from lawful.limits import CONFIG_BYTES
from lawful.privacy import breaches, requests, retention
from lawful.trail import service as trail
from lawful.web.console import HERE, PREFIX, present
from lawful.web.console.auth import (SESSION_COOKIE, ConsoleCall, clear_session, console_call, new_signin_nonce,
                                     set_session, set_signin_nonce, signin_form_ok)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["when"] = present.when
templates.env.filters["when_us"] = present.when_us
templates.env.filters["details"] = present.details

SESSION_HOURS = 12.0
REVIEW_SHOWN = 25  # outputs shown with their explanation on one page of the queue
REVIEW_PLACES = 3  # places of each output explained in the queue (all of them on the output's page)
STATUS = {"invalid": 422, "not_found": 404, "conflict": 409, "denied": 403, "unauthenticated": 401,
          "unavailable": 503}
FORECAST_DECISIONS = (("accepted", "Accept"), ("amended", "Amend"), ("rejected", "Reject"))
ALERT_VERDICTS = (("confirmed", "Confirmed"), ("false-alarm", "False alarm"), ("unclear", "Unclear"))
# Navigation: a page appears for a person when one of their roles is granted one of its actions in the server's
# pinned policy (the pages themselves still ask the services, which decide).
NAV = (("review", "Review queue", ("outputs.read", "outputs.decide", "outputs.read-sandbox")),
       ("forecasts", "Forecasts", ("incidents.read",)),
       ("backtests", "Backtests", ("incidents.read",)),
       ("exposure", "Exposure audit", ("incidents.read",)),
       ("registry", "Registry", None),
       ("audit", "Audit trail", ("audit.read",)),
       ("privacy", "Data protection", ("privacy.requests",)),
       ("complaints", "Complaints", ("complaints.handle",)))


class ConsoleRoute(APIRoute):
    """Every console route answers in HTML: a LawfulError becomes a page with the reason and the fix (a 401 a
    redirect to sign-in), bad form input a 422 page, instead of the API's problem+json."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request):
            try:
                return await handler(request)
            except LawfulError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = " ".join(str(p) for p in first.get("loc", ())[1:]) or "the form"
                return error_page(request, LawfulError(f"{where}: {first.get('msg', 'invalid')}",
                                                       "go back, correct it and submit again"))

        return route


router = APIRouter(route_class=ConsoleRoute, include_in_schema=False, default_response_class=HTMLResponse)
CC = Depends(console_call)
Csrf = Annotated[str, Form(max_length=200)]
Reason = Annotated[str, Form(max_length=2000)]


def _safe_next(value: str | None) -> str:
    """Only a console path of this server (no scheme, no host, no //): never an open redirect."""
    if value and re.fullmatch(rf"{PREFIX}/[A-Za-z0-9/_.:?=&%-]*", value) and "//" not in value:
        return value
    return f"{PREFIX}/"


def error_page(request: Request, exc: LawfulError):
    if exc.kind == "unauthenticated":
        target = f"{PREFIX}/sign-in?next={quote(request.url.path)}" if request.method == "GET" else f"{PREFIX}/sign-in"
        response = RedirectResponse(target, status_code=303)
        clear_session(response)
        return response
    me = getattr(request.state, "me", None)
    return page(request, "error.html", {"me": me, "title": "Refused" if exc.kind == "denied" else "Problem",
                                        "message": present.sentence(exc.message), "fix": present.sentence(exc.fix or ""),
                                        "kind": exc.kind},
                status=STATUS.get(exc.kind, 422))


def page(request: Request, name: str, context: dict, *, status: int = 200):
    return templates.TemplateResponse(request, name, {"prefix": PREFIX, **context}, status_code=status)


def _me(c: ConsoleCall, actor) -> dict:
    granted = _granted(actor)
    nav = [{"key": k, "label": label, "href": f"{PREFIX}/{k}"} for k, label, needs in NAV
           if needs is None or granted & set(needs)]
    me = {"name": actor.name, "roles": sorted(actor.roles), "clearance": actor.clearance, "nav": nav,
          "csrf": c.csrf(), "granted": granted}
    c.request.state.me = me
    return me


def _view(c: ConsoleCall, fn, **kw) -> tuple[dict, object]:
    """(the signed-in person for the layout, fn's result), in one transaction with the request's trail entry."""
    return c.run(lambda session, *, actor: (_me(c, actor), fn(session, actor=actor, **kw)))


# ---- sign-in and sign-out -----------------------------------------------------------------------------------------
@router.get("/")
def home(request: Request, c: ConsoleCall = CC):
    if not request.cookies.get(SESSION_COOKIE):
        return RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    me, _ = _view(c, lambda session, *, actor: None)
    first = me["nav"][0]["href"] if me["nav"] else f"{PREFIX}/registry"
    return RedirectResponse(first, status_code=303)


def _sign_in_page(request: Request, *, next_: str, name: str = "", message: str | None = None, status: int = 200):
    nonce, token = new_signin_nonce()
    response = page(request, "sign_in.html", {"me": None, "title": "Sign in", "csrf": token, "next": next_,
                                              "name": name, "message": message}, status=status)
    set_signin_nonce(response, request, nonce)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = Query(None, max_length=300)):
    return _sign_in_page(request, next_=_safe_next(next))


@router.post("/sign-in")
def sign_in(request: Request, name: Annotated[str, Form(min_length=1, max_length=100)],
            password: Annotated[str, Form(min_length=1, max_length=1000)], csrf: Csrf = "",
            code: Annotated[str, Form(max_length=20)] = "", next: Annotated[str, Form(max_length=300)] = "",
            c: ConsoleCall = CC):
    if not signin_form_ok(request, csrf):
        return _sign_in_page(request, next_=_safe_next(next), name=name, status=403,
                             message="This sign-in form has expired. Please enter your details again.")
    result = c.open(credentials.sign_in, name=name, password=password, code=code.strip() or None,
                    hours=SESSION_HOURS)
    if isinstance(result, credentials.SignInFailed):  # counted toward the lock-out and on the trail already
        return _sign_in_page(request, next_=_safe_next(next), name=name, status=401,
                             message=present.sentence(result.message, result.fix))
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, request, result, SESSION_HOURS)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Csrf = "", c: ConsoleCall = CC):
    c.checked(csrf)
    token = c.token()
    c.run(lambda session, *, actor: credentials.revoke(session, actor=actor, token=token))
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    clear_session(response)
    return response


# ---- review -------------------------------------------------------------------------------------------------------
def _queue(session, *, actor) -> dict:
    # only what the page shows: the oldest outputs, each with its first places' explanations, no payloads
    total, shown = gov.queue_outputs(session, actor=actor, limit=REVIEW_SHOWN, places=REVIEW_PLACES)
    for o in shown:
        head = o.get("explanation") or []
        # an alert's explanation (whole): the engine's sentence, then one entry per condition
        o["alert"] = present.alert_conditions(head) if o["kind"] == "alert" else None
        o["items"] = [] if o["alert"] else present.explanation(head)  # the rest are on the output's own page
        o["more"] = 0 if o["alert"] else max(0, o["explanation_count"] - len(head))
        o["choices"] = ALERT_VERDICTS if o["kind"] == "alert" else FORECAST_DECISIONS
    # a reviewer whose pattern trips the automation-bias warning sees it beside the buttons (their own figures)
    decides = bool(shown) and "outputs.decide" in _granted(actor)
    mine = gov.own_review_figures(session, actor=actor, thresholds=Thresholds.from_env()) if decides else None
    return {"total": total, "outputs": shown, "mine": mine}


def _granted(actor) -> set[str]:
    """The actions the server's pinned policy grants one of the person's roles (what the page offers; the
    services still decide)."""
    policy = load_policy()
    return set().union(*(policy.granted(r) for r in actor.roles))


def _review_page(request: Request, c: ConsoleCall, *, notice: str | None = None, problem: dict | None = None,
                 status: int = 200):
    me, queue = _view(c, _queue)
    return page(request, "review.html", {"me": me, "title": "Review queue", "active": "review", **queue,
                                         "notice": notice, "problem": problem}, status=status)


@router.get("/review")
def review(request: Request, decided: int | None = Query(None, ge=1, le=2**62),
           decision: Literal["accepted", "rejected", "amended", "confirmed", "false-alarm", "unclear"] | None = None,
           c: ConsoleCall = CC):
    notice = (f"Output {decided}: {decision.replace('-', ' ')}. Your decision and reason are on the trail."
              if decided and decision else None)
    return _review_page(request, c, notice=notice)


@router.post("/review/{output_id}/decision")
def decide(request: Request, output_id: Annotated[int, Path(ge=1, le=2**62)],
           decision: Annotated[Literal["accepted", "rejected", "amended", "confirmed", "false-alarm", "unclear"],
                               Form()],
           reason: Reason = "", csrf: Csrf = "", amendment: Annotated[str, Form(max_length=5000)] = "",
           c: ConsoleCall = CC):
    c.checked(csrf)
    try:
        result = c.flow(gov_flows.decide, output_id=output_id, decision=decision, reason=reason,
                        amendment=amendment.strip() or None, thresholds=Thresholds.from_env())
    except LawfulError as exc:
        if exc.kind != "invalid":
            raise
        problem = {"output": output_id, "message": present.sentence(exc.message, exc.fix)}
        return _review_page(request, c, problem=problem, status=422)
    target = f"{PREFIX}/review?decided={output_id}&decision={result['decision']}"
    return RedirectResponse(target, status_code=303)


# ---- one output (a forecast's map and table) ------------------------------------------------------------------------
@router.get("/outputs/{output_id}")
def output(request: Request, output_id: Annotated[int, Path(ge=1, le=2**62)], c: ConsoleCall = CC):
    me, o = _view(c, gov.show_output, output_id=output_id)
    items = present.explanation(o.get("explanation"))
    by_cell = {i["title"]: i for i in items if i["title"]}
    payload = o.get("payload") or {}
    rows = [{**cell, "item": by_cell.get(cell.get("cell"))} for cell in payload.get("cells") or []]
    return page(request, "output.html", {"me": me, "title": f"Output {output_id}", "active": "review", "o": o,
                                         "items": items, "map": present.forecast_map(payload), "rows": rows,
                                         "payload": payload})


# ---- forecasts (an analyst's one-day forecast: the whole surface, its top places, recent incidents, exports) -------
FORECAST_DEFAULTS = {"category": "Break and Enter", "day": date(2019, 12, 24), "model": "features", "top": 10,
                     "purpose": "crime analysis"}
MODELS = fc_flows.model_names()
Model = Literal[tuple(MODELS)]


def _purposes(me: dict, action: str, first: str) -> list[str]:
    """The purposes served by the person's roles that are granted `action` (`first` first when there)."""
    policy = load_policy()
    found: list[str] = []
    for role in me["roles"]:
        actions, purposes = policy.roles.get(role, (frozenset(), ()))
        if action in actions:
            found += [p for p in purposes if p not in found]
    return sorted(found, key=lambda p: (p != first, p))


def _forecast_query(category: str, day: date, model: str, top: int, purpose: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"category": category, "day": day.isoformat(), "model": model, "top": top, "purpose": purpose})


@router.get("/forecasts")
def forecasts(request: Request, category: str = Query(FORECAST_DEFAULTS["category"], min_length=1, max_length=200),
              day: date = Query(FORECAST_DEFAULTS["day"]), model: Model = Query(FORECAST_DEFAULTS["model"]),
              top: int = Query(FORECAST_DEFAULTS["top"], ge=1, le=50),
              purpose: str = Query(FORECAST_DEFAULTS["purpose"], min_length=1, max_length=200),
              run: Literal["1"] | None = None, c: ConsoleCall = CC):
    """The form; with `run`, the day's forecast through `forecast.flows.forecast_surface`, as POST
    /api/v1/forecast/map (access decided and a `development` entry written before anything is read)."""
    if run:
        me, result = c.flow(lambda store, *, actor: (_me(c, actor), fc_flows.forecast_surface(
            store, actor=actor, category=category, day=day, model=model, top=top, window_days=365, cell=200.0,
            since=date(2014, 1, 1), purpose=purpose)))
    else:
        me, result = _view(c, lambda session, *, actor: None)
    places = []
    if result:
        for p, item in zip(result["places"], present.explanation(result["places"])):
            places.append({**p, "item": item})
    return page(request, "forecasts.html", {
        "me": me, "title": "Forecasts", "active": "forecasts", "models": MODELS, "result": result,
        "map": present.surface_map(result) if result else None, "places": places,
        "purposes": _purposes(me, "incidents.read", "crime analysis") or [purpose],
        "q": {"category": category, "day": day.isoformat(), "model": model, "top": top, "purpose": purpose},
        "query": _forecast_query(category, day, model, top, purpose)})


@router.get("/forecasts/export/{layer}.{fmt}")
def forecasts_export(request: Request, layer: Literal["surface", "places"], fmt: Literal["geojson", "csv"],
                     category: str = Query(..., min_length=1, max_length=200), day: date = Query(...),
                     model: Model = Query(...), top: int = Query(10, ge=1, le=50),
                     purpose: str = Query("crime analysis", min_length=1, max_length=200), c: ConsoleCall = CC):
    """The surface or the top places as GeoJSON or CSV: the same files as GET /api/v1/forecast/export/..."""
    result = c.flow(fc_flows.forecast_surface, category=category, day=day, model=model, top=top, window_days=365,
                    cell=200.0, since=date(2014, 1, 1), purpose=purpose, recent_days=0)
    if fmt == "geojson":
        body, kind = json.dumps(fc_flows.surface_geojson(result, layer)), "application/geo+json"
    else:
        body, kind = fc_flows.surface_csv(result, layer), "text/csv; charset=utf-8"
    name = f"lawful-{layer}-{result['day']}.{fmt}"
    return Response(body, media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---- backtests (a job started from the page; the page shows its progress, then PAI by coverage as a chart) ---------
BACKTEST_MODELS = ("naive-all", "kde", "prospective")  # checked by default: quick on the full Toronto data


@router.get("/backtests")
def backtests(request: Request, job: str | None = Query(None, max_length=40, pattern=r"^[0-9a-f]+$"),
              c: ConsoleCall = CC):
    """The form, and with `job` the person's backtest job: its progress while it runs (the person reloads; the
    Content-Security-Policy allows no script and a timed refresh would fail WCAG 2.2.1), its chart and table once
    done. Reading a job is read-only, like GET /api/v1/jobs/ID: its `development` entry was written when it started."""
    actor = c.actor()
    me = _me(c, actor)
    found = c.door.jobs.get(job, owner=actor.name).view() if job else None
    if found and found["kind"] != "forecast.backtest":
        raise LawfulError(f"job {job} is not a backtest", "open it on the page that started it")
    result = found["result"] if found and found["state"] == "done" else None
    return page(request, "backtests.html", {
        "me": me, "title": "Backtests", "active": "backtests", "models": MODELS, "job": found,
        "result": result, "chart": present.pai_chart(result["summaries"]) if result else None,
        "defaults": BACKTEST_MODELS, "purposes": _purposes(me, "incidents.read", "crime analysis")})


@router.post("/backtests")
def backtest_start(request: Request, csrf: Csrf = "",
                   category: Annotated[str, Form(min_length=1, max_length=200)] = "Break and Enter",
                   start: Annotated[date, Form()] = date(2019, 1, 1), end: Annotated[date, Form()] = date(2019, 12, 31),
                   every_days: Annotated[int, Form(ge=1, le=3_660)] = 7,
                   models: Annotated[list[Model], Form(max_length=len(MODELS))] = [],  # noqa: B006
                   purpose: Annotated[str, Form(min_length=1, max_length=200)] = "crime analysis",
                   c: ConsoleCall = CC):
    """Start a rolling backtest as POST /api/v1/forecast/backtests does (checked and on the trail now, computed as
    a job), then show its page."""
    c.checked(csrf)
    if not models:
        raise LawfulError("choose at least one model to compare", "tick one or more models and start again")
    actor, plan = c.flow(lambda store, *, actor: (actor, fc_flows.start_backtest(
        store, actor=actor, category=category, start=start, end=end, every_days=every_days, window_days=365,
        cell=200.0, models=",".join(models), since=date(2014, 1, 1), purpose=purpose)))
    store = c.store
    job = c.door.jobs.submit(kind="forecast.backtest", owner=actor.name, work=lambda job: fc_flows.backtest_result(
        fc_flows.run_backtest(store, plan, progress=job.progress)))
    return RedirectResponse(f"{PREFIX}/backtests?job={job.id}", status_code=303)


# ---- exposure audit (a job started from the page; per area, flagged share against incident share) --------------
@router.get("/exposure")
def exposure(request: Request, job: str | None = Query(None, max_length=40, pattern=r"^[0-9a-f]+$"),
             c: ConsoleCall = CC):
    """The form, and with `job` the person's exposure-audit job: its progress while it runs (a Check again link, as
    on the Backtests page), then per area the flagged share against the incident share as a chart and tables.
    Reading a job is read-only, like GET /api/v1/jobs/ID: its `development` entry was written when it started."""
    actor = c.actor()
    me = _me(c, actor)
    found = c.door.jobs.get(job, owner=actor.name).view() if job else None
    if found and found["kind"] != "forecast.audit":
        raise LawfulError(f"job {job} is not an exposure audit", "open it on the page that started it")
    result = found["result"] if found and found["state"] == "done" else None
    if result:  # listed as over-exposed only when flagged above its incident share, under-exposed only below it
        result = {**result, "most_over": [r for r in result["most_over"] if r["disparity"] is None or r["disparity"] > 1],
                  "most_under": [r for r in result["most_under"] if r["disparity"] is not None and r["disparity"] < 1]}
    return page(request, "exposure.html", {
        "me": me, "title": "Exposure audit", "active": "exposure", "models": MODELS, "job": found,
        "result": result, "chart": present.exposure_chart(result["most_over"], result["most_under"]) if result
        else None, "purposes": _purposes(me, "incidents.read", "crime analysis")})


@router.post("/exposure")
def exposure_start(request: Request, csrf: Csrf = "",
                   category: Annotated[str, Form(min_length=1, max_length=200)] = "Break and Enter",
                   start: Annotated[date, Form()] = date(2019, 1, 1), end: Annotated[date, Form()] = date(2019, 12, 31),
                   every_days: Annotated[int, Form(ge=1, le=3_660)] = 7,
                   model: Annotated[Model, Form()] = "naive-all",
                   coverage: Annotated[float, Form(gt=0, le=100, allow_inf_nan=False)] = 5.0,
                   top: Annotated[int, Form(ge=1, le=50)] = 5,
                   purpose: Annotated[str, Form(min_length=1, max_length=200)] = "crime analysis",
                   c: ConsoleCall = CC):
    """Start an exposure audit as POST /api/v1/forecast/audit does (checked and on the trail now, computed as a
    job), then show its page. Coverage is a percentage of the area flagged each day."""
    c.checked(csrf)
    actor, plan = c.flow(lambda store, *, actor: (actor, fc_flows.start_exposure_audit(
        store, actor=actor, category=category, start=start, end=end, every_days=every_days, model=model,
        coverage=coverage / 100, cell=200.0, window_days=365, since=date(2014, 1, 1), top=top, purpose=purpose)))
    store = c.store
    job = c.door.jobs.submit(kind="forecast.audit", owner=actor.name,
                             work=lambda job: fc_flows.run_exposure_audit(store, plan, progress=job.progress))
    return RedirectResponse(f"{PREFIX}/exposure?job={job.id}", status_code=303)


# ---- audit --------------------------------------------------------------------------------------------------------
@router.get("/audit")
def audit(request: Request, action: str | None = Query(None, max_length=60), by: str | None = Query(None, max_length=100),
          object: str | None = Query(None, max_length=300), limit: int = Query(50, ge=1, le=500),
          from_: str | None = Query(None, alias="from", max_length=10),
          to: str | None = Query(None, max_length=10), c: ConsoleCall = CC):
    """Search the trail; `from` and `to` are whole UTC days (a blank date field is no bound), as since (inclusive)
    and until (exclusive: the day after `to`) of GET /api/v1/audit/log."""
    action, by, object = (v.strip() or None if v else None for v in (action, by, object))
    first, last = _day(from_, "from"), _day(to, "to")
    since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc) if first else None
    until = (datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=1)) if last else None
    me, rows = _view(c, trail.read_log, action=action, by=by, obj=object, limit=limit, since=since, until=until)
    return page(request, "audit.html", {"me": me, "title": "Audit trail", "active": "audit", "rows": rows,
                                        "q": {"action": action or "", "by": by or "", "object": object or "",
                                              "limit": limit, "from": first.isoformat() if first else "",
                                              "to": last.isoformat() if last else ""}, "verified": None,
                                        "export_purposes": _export_purposes(me)})


def _day(value: str | None, field: str) -> date | None:
    """A date field's value: blank is no bound, anything but YYYY-MM-DD is said so."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise LawfulError(f"{field}: {value.strip()!r} is not a day", "give the day as YYYY-MM-DD") from None


def _export_purposes(me: dict) -> list[str]:
    """The purposes the person's roles that may export the trail serve ("external audit" first when there)."""
    policy = load_policy()
    found = []
    for role in me["roles"]:
        actions, purposes = policy.roles.get(role, (frozenset(), ()))
        if "audit.export" in actions:
            found += [p for p in purposes if p not in found]
    return sorted(found, key=lambda p: (p != "external audit", p))


@router.post("/audit/export")
def export(request: Request, csrf: Csrf = "", purpose: Annotated[str, Form(min_length=1, max_length=200)] = "",
           c: ConsoleCall = CC):
    c.checked(csrf)
    data = c.flow(trail.export_trail, purpose=purpose.strip() or "external audit")
    return Response(data, media_type="application/gzip",
                    headers={"Content-Disposition": 'attachment; filename="lawful-trail.tar.gz"'})


@router.post("/audit/verify")
def verify(request: Request, csrf: Csrf = "", c: ConsoleCall = CC):
    c.checked(csrf)
    result = c.flow(trail.verify_trail)
    me, rows = _view(c, trail.read_log, limit=20)
    return page(request, "audit.html", {"me": me, "title": "Audit trail", "active": "audit", "rows": rows,
                                        "q": {"action": "", "by": "", "object": "", "limit": 20, "from": "",
                                              "to": ""},
                                        "verified": result, "export_purposes": _export_purposes(me)})


# ---- registry -----------------------------------------------------------------------------------------------------
@router.get("/registry")
def registry(request: Request, c: ConsoleCall = CC):
    me, entries = _view(c, gov.list_entries)
    return page(request, "registry.html", {"me": me, "title": "Registry", "active": "registry",
                                           "entries": entries})


RefPath = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+(:[0-9]{1,9})?$")]
# What can follow each lifecycle state (registry.MOVES, as steps a person takes), and the policy action each step
# needs; the page offers a step when one of the person's roles is granted it (submitting: the owner or an admin).
STATE_STEPS = {"draft": ("submit", "retire"), "submitted": ("approve", "refuse", "retire"),
               "sandbox": ("approve", "suspend", "retire"), "approved": ("activate", "suspend", "retire"),
               "active": ("suspend", "retire"), "suspended": ("reinstate", "retire"), "retired": ()}
STEP_ACTION = {"approve": "models.approve", "refuse": "models.approve", "activate": "models.activate",
               "suspend": "models.suspend", "reinstate": "models.reinstate", "retire": "models.retire"}
STEP_DONE = {"attach": "documents attached", "submit": "submitted for approval", "approve": "approval recorded", "sandbox": "sandbox approval recorded",
             "refuse": "sent back to its owner", "activate": "put into use", "suspend": "suspended",
             "reinstate": "back to submitted for a new approval round", "retire": "retired"}


def _entry_page(request: Request, c: ConsoleCall, ref: str, *, notice: str | None = None,
                problem: dict | None = None, status: int = 200):
    def both(session, *, actor):
        return gov.entry_detail(session, actor=actor, ref=ref), gov.card_text(session, actor=actor, ref=ref)

    me, (entry, card_md) = _view(c, both)
    title, sections = present.card_sections(card_md["text"])
    granted = me["granted"]
    steps = [s for s in STATE_STEPS.get(entry["state"], ())
             if (s == "submit" and (me["name"] == entry["owner"] or "admin" in me["roles"]))
             or STEP_ACTION.get(s) in granted]
    mine = next((a for a in entry["approvals"] if a["current"] and a["approver"] == me["name"]), None)
    may_attach = entry["state"] == "draft" and (me["name"] == entry["owner"] or "admin" in me["roles"])
    return page(request, "entry.html", {"may_attach": may_attach, "me": me, "title": title or entry["ref"], "active": "registry",
                                        "e": entry, "sections": sections, "steps": steps, "my_approval": mine,
                                        "notice": notice, "problem": problem,
                                        "self_approval": me["name"] in (entry["owner"], entry["submitted_by"])},
                status=status)


@router.get("/registry/{ref}")
def card(request: Request, ref: RefPath, done: Literal[tuple(STEP_DONE)] | None = None, c: ConsoleCall = CC):
    notice = f"{ref}: {STEP_DONE[done]}. The step and your reason are on the trail." if done else None
    return _entry_page(request, c, ref, notice=notice)


ATTACH_LIMIT = CONFIG_BYTES * 4  # an evaluation report with every day's figures can pass a megabyte


async def _document(upload: UploadFile | None, what: str) -> tuple[str, str] | None:
    """(file name, text) of an uploaded document, or None when the person chose no file for it."""
    if upload is None or not upload.filename:
        return None
    raw = await upload.read(ATTACH_LIMIT + 1)
    if len(raw) > ATTACH_LIMIT:
        raise LawfulError(f"the {what} {upload.filename!r} is over {ATTACH_LIMIT // 2**20} MB",
                          "attach the file `lawful forecast backtest|audit --json` or the assessment template wrote")
    try:
        return upload.filename[:200], raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LawfulError(f"the {what} {upload.filename!r} is not UTF-8 text",
                          "attach the JSON or TOML file itself, not a PDF or an archive") from None


@router.post("/registry/{ref}/attachments")
async def registry_attach(request: Request, ref: RefPath, csrf: Csrf = "",
                          evaluation: UploadFile | None = File(None), exposure: UploadFile | None = File(None),
                          fria: UploadFile | None = File(None), c: ConsoleCall = CC):
    """The owner attaches evaluation results, an exposure audit and/or an impact assessment to a draft (as POST
    /api/v1/models/REF/attachments): each checked before anything changes; a bad file is named beside the form."""
    c.checked(csrf)
    try:
        docs = {"evaluation": await _document(evaluation, "evaluation"),
                "exposure": await _document(exposure, "exposure audit"),
                "fria": await _document(fria, "impact assessment")}
        await run_in_threadpool(c.run, gov.attach, ref=ref, **docs)
    except LawfulError as exc:
        if exc.kind not in ("invalid", "conflict"):
            raise
        return await run_in_threadpool(_entry_page, request, c, ref, status=STATUS[exc.kind], problem={
            "step": "attach", "message": present.sentence(exc.message, exc.fix)})
    return RedirectResponse(f"{PREFIX}/registry/{quote(ref)}?done=attach", status_code=303)


@router.post("/registry/{ref}/{step}")
def registry_step(request: Request, ref: RefPath,
                  step: Annotated[Literal["submit", "approve", "refuse", "activate", "suspend", "reinstate",
                                          "retire"], Path()],
                  csrf: Csrf = "", reason: Reason = "",
                  purposes: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 - checked against the card's
                  areas: Annotated[str, Form(max_length=5000)] = "",
                  expires: Annotated[str, Form(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
                  mode: Annotated[Literal["approved", "sandbox"], Form()] = "approved",
                  c: ConsoleCall = CC):
    c.checked(csrf)
    try:
        if step == "submit":
            c.run(gov.submit, ref=ref, thresholds=Thresholds.from_env())
        elif step == "approve":
            try:
                until = date.fromisoformat(expires) if expires else None
            except ValueError:
                raise LawfulError(f"the expiry {expires!r} is not a date", "give a date like 2027-06-30") from None
            c.run(gov.approve, ref=ref, reason=reason, purposes=purposes,
                  areas=[a.strip() for a in areas.split(",") if a.strip()], expires=until,
                  sandbox=mode == "sandbox", thresholds=Thresholds.from_env())
        elif step == "refuse":
            c.run(gov.refuse, ref=ref, reason=reason)
        else:
            c.run(gov.move, ref=ref, step=step, reason=reason)
    except LawfulError as exc:
        if exc.kind not in ("invalid", "conflict"):
            raise
        return _entry_page(request, c, ref, problem={"step": step, "message": present.sentence(exc.message, exc.fix)},
                           status=STATUS[exc.kind])
    done = "sandbox" if step == "approve" and mode == "sandbox" else step
    return RedirectResponse(f"{PREFIX}/registry/{quote(ref)}?done={done}", status_code=303)


# ---- data protection ----------------------------------------------------------------------------------------------
def _protection(session, *, actor) -> dict:
    """Each section through its own privacy, access or governance service, each a consultation on the trail (the
    oversight sections, breaker events and every reviewer's figures, are the DPO's as an oversight role). The weekly
    report is a page of its own: it reads every output of the week and of the 28 days of realised accuracy, about
    0.3 s on demo data, which would put this page over its 200 ms."""
    reqs = requests.list_requests(session, actor=actor)
    found = breaches.list_breaches(session, actor=actor)
    kept = retention.retention_report(session, actor=actor, purpose="data protection")
    denied = access.denials_view(session, actor=actor, limit=15, purpose="data protection")
    thresholds = Thresholds.from_env()
    events = gov.breaker_events(session, actor=actor)
    reviewers = gov.review_stats(session, actor=actor, by="reviewer", thresholds=thresholds)
    return {"requests": reqs, "breaches": found, "holds": kept["holds"], "retention": kept["rows"],
            "denials": denied, "breaker": events, "reviewers": reviewers,
            "bias_rule": {"decisions": thresholds.bias_min_decisions, "acceptance": thresholds.bias_acceptance,
                          "seconds": thresholds.bias_seconds}}


PRIVACY_DONE = {"request": "The request is registered; its deadline runs from now.",
                "deletion": "The deletion request is answered.", "correction": "The record is corrected.",
                "breach": "The breach is recorded; its notification clock is running.",
                "notified": "The breach is marked as notified.", "hold": "The legal hold is placed.",
                "released": "The legal hold is released."}


def _privacy_page(request: Request, c: ConsoleCall, *, notice: str | None = None, problem: dict | None = None,
                  status: int = 200):
    me, data = _view(c, _protection)
    now = present.utcnow()
    for r in data["requests"]:
        r["clock"] = present.clock(r["deadline"], now) if r["status"] == "open" else None
    for b in data["breaches"]:
        b["clock"] = present.clock(b["deadline"], now) if not b["notified_to"] else None
    open_ = [r for r in data["requests"] if r["status"] == "open"]
    return page(request, "privacy.html", {"me": me, "title": "Data protection", "active": "privacy", **data,
                                          "open_requests": len(open_), "notice": notice, "problem": problem,
                                          "overdue_requests": sum(r["overdue"] for r in open_),
                                          "overdue_breaches": sum(b["overdue"] for b in data["breaches"]),
                                          "today": date.today().isoformat()}, status=status)


@router.get("/privacy")
def privacy(request: Request, done: Literal[tuple(PRIVACY_DONE)] | None = None, c: ConsoleCall = CC):
    return _privacy_page(request, c, notice=PRIVACY_DONE[done] if done else None)


def _privacy_action(request: Request, c: ConsoleCall, csrf: str, where: str, done: str, fn, **kw):
    """A data-protection step: the CSRF token checked, the same privacy service as the API called (it decides and
    writes the trail), then back to the page; a mistake the person can fix is shown beside the form it came from."""
    c.checked(csrf)
    try:
        c.run(fn, **kw)
    except LawfulError as exc:
        if exc.kind not in ("invalid", "conflict", "not_found"):
            raise
        return _privacy_page(request, c, problem={"where": where, "message": present.sentence(exc.message, exc.fix)},
                             status=STATUS[exc.kind])
    return RedirectResponse(f"{PREFIX}/privacy?done={done}#{where}", status_code=303)


def _local(value: str, field: str, tz: ZoneInfo) -> datetime:
    """A date (YYYY-MM-DD, local midnight) or a datetime-local (YYYY-MM-DDTHH:MM) from a form, in the
    jurisdiction's zone."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise LawfulError(f"the {field} {value!r} is not a date", "give a date like 2026-11-30 (and a time "
                                                                    "like 14:30 where asked)") from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


Identity = Annotated[str, Form(max_length=500)]
FieldName = Annotated[str, Form(max_length=100, pattern=r"^[A-Za-z0-9_.-]*$")]
When = Annotated[str, Form(max_length=20)]
PathId = Annotated[int, Path(ge=1, le=2**62)]


@router.post("/privacy/requests")
def privacy_request_open(request: Request, csrf: Csrf = "",
                         kind: Annotated[Literal["access", "correction", "deletion"], Form()] = "access",
                         field: FieldName = "", value: Identity = "",
                         note: Annotated[str, Form(max_length=5000)] = "", c: ConsoleCall = CC):
    """Register a data-subject request (as POST /api/v1/privacy/requests): only the requester's pseudonym is kept."""
    if not field:
        return _privacy_page(request, c, problem={"where": "req-new", "message": "Name the field that identifies the "
                                                  "person in the records, e.g. victim_name."}, status=422)
    return _privacy_action(request, c, csrf, "req-new", "request",
                           lambda session, *, actor: requests.open_request(
                               session, actor=actor, kind=kind, field=field, value=value,
                               settings=c.store.settings, note=note))


@router.post("/privacy/requests/{request_id}/export")
def privacy_request_export(request: Request, request_id: PathId, csrf: Csrf = "", c: ConsoleCall = CC):
    """Answer an access request: the person's export as a JSON file (records, their trail entries, and what is
    withheld and why). Closes the request; the disclosure is on the trail (as POST .../requests/ID/export)."""
    c.checked(csrf)
    try:
        view = c.run(lambda session, *, actor: requests.answer_access(
            session, actor=actor, request_id=request_id).view(request_id))
    except LawfulError as exc:
        if exc.kind not in ("invalid", "conflict", "not_found"):
            raise
        return _privacy_page(request, c, problem={"where": f"req-{request_id}",
                                                  "message": present.sentence(exc.message, exc.fix)},
                             status=STATUS[exc.kind])
    return Response(json.dumps(view, indent=2, default=str), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="subject-request-{request_id}.json"'})


@router.post("/privacy/requests/{request_id}/deletion")
def privacy_request_delete(request: Request, request_id: PathId, csrf: Csrf = "", c: ConsoleCall = CC):
    return _privacy_action(request, c, csrf, f"req-{request_id}", "deletion", requests.answer_deletion,
                           request_id=request_id)


@router.post("/privacy/requests/{request_id}/correction")
def privacy_request_correct(request: Request, request_id: PathId, csrf: Csrf = "",
                            incident: Annotated[int, Form(ge=1, le=2**62)] = 1,
                            field: Annotated[Literal["category", "area", "premises"], Form()] = "category",
                            value: Annotated[str, Form(min_length=1, max_length=200)] = "-", c: ConsoleCall = CC):
    return _privacy_action(request, c, csrf, f"req-{request_id}", "correction", requests.answer_correction,
                           request_id=request_id, incident_id=incident, field=field, value=value)


@router.post("/privacy/breaches")
def privacy_breach(request: Request, csrf: Csrf = "", description: Annotated[str, Form(max_length=10_000)] = "",
                   start: When = "", end: When = "", suspect: Annotated[str, Form(max_length=100)] = "",
                   c: ConsoleCall = CC):
    """Record a suspected breach (as POST /api/v1/privacy/breaches): the trail says whom and what it touched."""
    tz = ZoneInfo(c.store.settings.timezone)
    try:
        window = (_local(start, "window's start", tz), _local(end, "window's end", tz))
    except LawfulError as exc:
        return _privacy_page(request, c, problem={"where": "br-new", "message": present.sentence(exc.message, exc.fix)},
                             status=422)
    return _privacy_action(request, c, csrf, "br-new", "breach", breaches.record, description=description,
                           start=window[0], end=window[1], suspect=suspect.strip() or None)


@router.post("/privacy/breaches/{breach_id}/notified")
def privacy_breach_notified(request: Request, breach_id: PathId, csrf: Csrf = "",
                            to: Annotated[str, Form(max_length=200)] = "", c: ConsoleCall = CC):
    return _privacy_action(request, c, csrf, f"br-{breach_id}", "notified", breaches.mark_notified,
                           breach_id=breach_id, to=to)


@router.post("/privacy/holds")
def privacy_hold(request: Request, csrf: Csrf = "", reason: Reason = "", start: When = "", end: When = "",
                 category: Annotated[str, Form(max_length=100)] = "", area: Annotated[str, Form(max_length=200)] = "",
                 c: ConsoleCall = CC):
    """Place a legal hold (as POST /api/v1/privacy/holds): the records it covers are never purged or deleted."""
    tz = ZoneInfo(c.store.settings.timezone)
    try:
        window = (_local(start, "hold's first day", tz), _local(end, "hold's last day", tz) + timedelta(days=1))
    except LawfulError as exc:
        return _privacy_page(request, c, problem={"where": "hold-new",
                                                  "message": present.sentence(exc.message, exc.fix)}, status=422)
    return _privacy_action(request, c, csrf, "hold-new", "hold", retention.add_hold, reason=reason,
                           occurred_from=window[0], occurred_to=window[1], category=category.strip() or None,
                           area=area.strip() or None)


@router.post("/privacy/holds/{hold_id}/release")
def privacy_hold_release(request: Request, hold_id: PathId, csrf: Csrf = "", c: ConsoleCall = CC):
    return _privacy_action(request, c, csrf, f"hold-{hold_id}", "released", retention.release_hold, hold_id=hold_id)


@router.get("/privacy/report")
def weekly_report(request: Request, week_ending: date | None = Query(None), c: ConsoleCall = CC):
    """A week's monitoring report, for oversight (as GET /api/v1/reports/weekly): its Markdown as escaped text. The
    seven days ending `week_ending` (default today); links step a week back or forward."""
    tz = ZoneInfo(c.store.settings.timezone)
    today = datetime.now(tz).date()
    if week_ending is not None and week_ending > today:
        week_ending = today  # a week not yet lived: the current one
    me, report = _view(c, gov.weekly_report, tz=tz, thresholds=Thresholds.from_env(), week_ending=week_ending)
    ending = date.fromisoformat(str(report["week_ending"]))
    later = ending + timedelta(days=7)
    return page(request, "report.html", {"me": me, "title": "Weekly report", "active": "privacy", "report": report,
                                         "earlier": (ending - timedelta(days=7)).isoformat(),
                                         "later": later.isoformat() if later <= today else None,
                                         "today": today.isoformat()})
