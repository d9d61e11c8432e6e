"""The public side: the register, complaints and appeals, public subject requests and published trail heads, with
no sign-in (under /public), and the inside routes (under /api/v1, behind the door): the complaints queue, the
identity checks of public requests, the annual audit pack. What the public routes may show is decided by the
transparency service, never by the route.

Every public POST is a plain HTML form (no JavaScript): rate-limited per client address, its body read only up to
PUBLIC_BODY bytes, and carrying a signed, single-use form token from the page that showed it (web/public)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from lawful.errors import LawfulError
from lawful.transparency import complaints, pack, public, register, subject
from lawful.web.deps import Call, CallDep
from lawful.web.problems import RESPONSES
from lawful.web import problems
from lawful.web.public import HERE, PREFIX, RateLimit, TooMany, check_form_token, form_token, templates

router = APIRouter(tags=["transparency"])  # inside routes (/api/v1/...), behind the door
pages = APIRouter(prefix=PREFIX, tags=["public"])  # the public register: no sign-in
PUBLIC_BODY = 32 * 1024  # the most a public form may send
STATUS = {"invalid": 422, "not_found": 404, "conflict": 409, "denied": 403, "unauthenticated": 401,
          "unavailable": 503}
Ref = Annotated[str, Path(min_length=4, max_length=30, pattern=r"^[A-Za-z0-9-]+$")]


def mount(app: FastAPI, *, prefix: str) -> None:
    app.include_router(router, prefix=prefix, responses=RESPONSES)
    app.include_router(pages)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="public-static")
    app.state.public_limiter = RateLimit()  # per application: each server counts its own clients


# ---- rendering ------------------------------------------------------------------------------------------------------
def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def page(request: Request, name: str, context: dict, *, status: int = 200) -> HTMLResponse:
    from lawful.transparency.register import agency

    return templates.TemplateResponse(request, name, {"prefix": PREFIX, "agency": agency(), **context},
                                      status_code=status)


def _from_a_form(request: Request) -> bool:
    return request.method == "GET" or request.headers.get("content-type", "").split(";")[0].strip().lower() \
        == "application/x-www-form-urlencoded"


def problem_page(request: Request, exc: LawfulError, *, back: str | None = None) -> Response:
    """A page that says what went wrong and what to do; to a client that did not send a form, problem+json."""
    status = 429 if isinstance(exc, TooMany) else 413 if getattr(exc, "status", None) == 413 \
        else STATUS.get(exc.kind, 422)
    if not _from_a_form(request):
        return problems.problem(status, exc.message, fix=exc.fix, kind=exc.kind)
    return page(request, "error.html", {"title": "We could not do that", "message": exc.message, "fix": exc.fix,
                                        "back": back}, status=status)


class TooLarge(LawfulError):
    status = 413


async def read_form(request: Request, purpose: str) -> dict[str, str]:
    """Rate limit, then the body (at most PUBLIC_BODY bytes, URL-encoded), then the form token; returns the fields."""
    request.app.state.public_limiter.hit(request.client.host if request.client else "unknown")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > PUBLIC_BODY:
        raise TooLarge(f"the form sent more than {PUBLIC_BODY // 1024} KB", "shorten what you wrote")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > PUBLIC_BODY:
            raise TooLarge(f"the form sent more than {PUBLIC_BODY // 1024} KB", "shorten what you wrote")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise LawfulError("this address takes a form sent from its page", "open the page and use its form")
    try:
        raw = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise LawfulError("the form could not be read", "open the page and send the form again") from None
    fields = {k[:50]: v[0] for k, v in raw.items() if v}
    check_form_token(purpose, fields.get("form_token"))
    return fields


def _when(text: str | None) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%d %B %Y, %H:%M UTC")


templates.env.filters["when"] = _when
templates.env.filters["pct"] = lambda v, digits=0: "not measured" if v is None else f"{v:.{digits}%}"
templates.env.filters["num"] = lambda v, digits=2: "not measured" if v is None else f"{v:.{digits}f}"


# ---- the register ---------------------------------------------------------------------------------------------------
def _store(request: Request):
    return request.app.state.door.store


@pages.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request):
    """The register: every system in use (or that was), with links to each record and the downloads."""
    reg = public.the_register(_store(request))
    return page(request, "index.html", {"title": "Algorithmic transparency register", "reg": reg})


@pages.get("/systems/{name}", response_class=HTMLResponse, include_in_schema=False)
def system(request: Request, name: Annotated[str, Path(min_length=1, max_length=100,
                                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]):
    records = public.one_record(_store(request), name)
    if not records:
        return problem_page(request, LawfulError(f"{name} is not in the register", "see the list of systems",
                                                 kind="not_found"), back=f"{PREFIX}/")
    return page(request, "system.html", {"title": name, "records": records, "r": records[0]})


@pages.get("/register.json", responses={200: {"description": "the whole register (see register.schema.json)"}})
def register_json(request: Request) -> Response:
    """The whole register as JSON (validates against /public/register.schema.json). Open to all."""
    body = json.dumps(public.the_register(_store(request)), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="register.json"'})


@pages.get("/register.csv", response_class=Response,
           responses={200: {"content": {"text/csv": {}}, "description": "one row per record"}})
def register_csv(request: Request) -> Response:
    """The register as CSV, one row per record (the JSON has every field). Open to all."""
    return Response(register.to_csv(public.the_register(_store(request))), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="register.csv"'})


@pages.get("/register.schema.json")
def register_schema() -> Response:
    """The JSON Schema (2020-12) the register's JSON follows. Open to all."""
    return Response(json.dumps(register.schema(), indent=1), media_type="application/schema+json")


@pages.get("/feed.atom", response_class=Response,
           responses={200: {"content": {"application/atom+xml": {}}, "description": "an Atom feed"}})
def feed(request: Request) -> Response:
    """The register's changes (every lifecycle move of a system in it) as an Atom feed. Open to all."""
    return Response(register.atom(public.changes(_store(request)), base=_base(request)),
                    media_type="application/atom+xml")


# ---- complaints and appeals -----------------------------------------------------------------------------------------
def _complaint_form(request: Request, *, values: dict | None = None, message: str | None = None, status: int = 200):
    return page(request, "complaint_form.html", {
        "title": "Complain or appeal", "systems": public.systems(_store(request)), "v": values or {},
        "message": message, "form_token": form_token("complaint")}, status=status)


@pages.get("/complaints", response_class=HTMLResponse, include_in_schema=False)
def complaint_form(request: Request, system: str | None = Query(None, max_length=100)):
    return _complaint_form(request, values={"system": system or "", "kind": "complaint"})


@pages.post("/complaints", response_class=HTMLResponse, include_in_schema=False)
async def complaint_file(request: Request):
    try:
        f = await read_form(request, "complaint")
    except LawfulError as exc:
        return problem_page(request, exc, back=f"{PREFIX}/complaints")
    values = {k: f.get(k, "") for k in ("kind", "system", "what", "decision", "occurred_on", "contact")}
    try:
        done = await run_in_threadpool(public.file_complaint, _store(request), kind=values["kind"],
                                       system=values["system"] or None, what=values["what"],
                                       decision=values["decision"], occurred_on=values["occurred_on"] or None,
                                       contact=values["contact"])
    except LawfulError as exc:
        if exc.kind != "invalid":
            return problem_page(request, exc, back=f"{PREFIX}/complaints")
        return _complaint_form(request, values=values, message=f"{exc.message}. {exc.fix or ''}", status=422)
    return page(request, "filed.html", {"title": "Received", "done": done, "what": "complaint" if done["kind"] ==
                                        "complaint" else "appeal", "track": f"{PREFIX}/track"}, status=201)


def _track_form(request: Request, *, reference: str = "", message: str | None = None, status: int = 200):
    return page(request, "track_form.html", {"title": "Follow your complaint or request", "reference": reference,
                                             "message": message, "form_token": form_token("track")}, status=status)


@pages.get("/track", response_class=HTMLResponse, include_in_schema=False)
def track_form(request: Request, reference: str = Query("", max_length=30)):
    return _track_form(request, reference=reference)


async def _tracked(request: Request, f: dict, *, add: str | None = None, appeal: str | None = None):
    reference, code = f.get("reference", "")[:40], f.get("code", "")[:40]
    store = _store(request)
    if reference.strip().upper().startswith("LR"):
        view = await run_in_threadpool(public.track_request, store, reference=reference, code=code)
        return page(request, "request_status.html", {"title": f"Request {view['reference']}", "r": view})
    if appeal is not None:
        done = await run_in_threadpool(public.appeal_outcome, store, reference=reference, code=code, text=appeal)
        return page(request, "filed.html", {"title": "Received", "done": done, "what": "appeal",
                                            "track": f"{PREFIX}/track"}, status=201)
    if add is not None:
        view = await run_in_threadpool(public.add_information, store, reference=reference, code=code, text=add)
    else:
        view = await run_in_threadpool(public.track_complaint, store, reference=reference, code=code)
    return page(request, "complaint_status.html", {
        "title": f"{view['kind'].capitalize()} {view['reference']}", "c": view, "code": code,
        "form_token": form_token("track"), "added": add is not None})


@pages.post("/track", response_class=HTMLResponse, include_in_schema=False)
async def track(request: Request):
    """Reference and code are sent in the form body (never in the address, so they stay out of logs and history)."""
    try:
        f = await read_form(request, "track")
        add = f.get("information") if f.get("add") == "1" else None
        appeal = f.get("disagree") if f.get("appeal") == "1" else None
        return await _tracked(request, f, add=add, appeal=appeal)
    except (TooMany, TooLarge) as exc:
        return problem_page(request, exc, back=f"{PREFIX}/track")
    except LawfulError as exc:
        if exc.kind in ("not_found", "invalid", "conflict") and _from_a_form(request):
            return _track_form(request, reference=(locals().get("f") or {}).get("reference", "")[:30],
                               message=f"{exc.message}. {exc.fix or ''}", status=STATUS.get(exc.kind, 422))
        return problem_page(request, exc, back=f"{PREFIX}/track")


# ---- subject requests -----------------------------------------------------------------------------------------------
def _request_form(request: Request, *, values: dict | None = None, message: str | None = None, status: int = 200):
    return page(request, "request_form.html", {
        "title": "Ask for your data", "fields": public.request_fields(), "v": values or {"kind": "access"},
        "message": message, "form_token": form_token("request")}, status=status)


@pages.get("/requests", response_class=HTMLResponse, include_in_schema=False)
def request_form(request: Request):
    return _request_form(request)


@pages.post("/requests", response_class=HTMLResponse, include_in_schema=False)
async def request_file(request: Request):
    try:
        f = await read_form(request, "request")
    except LawfulError as exc:
        return problem_page(request, exc, back=f"{PREFIX}/requests")
    values = {k: f.get(k, "") for k in ("kind", "field", "value", "evidence")}
    try:
        done = await run_in_threadpool(public.file_request, _store(request), **values)
    except LawfulError as exc:
        if exc.kind != "invalid":
            return problem_page(request, exc, back=f"{PREFIX}/requests")
        return _request_form(request, values=values, message=f"{exc.message}. {exc.fix or ''}", status=422)
    return page(request, "filed.html", {"title": "Received", "done": done, "what": f"{done['kind']} request",
                                        "track": f"{PREFIX}/track"}, status=201)


# ---- published trail heads ------------------------------------------------------------------------------------------
@pages.get("/trail", response_class=HTMLResponse, include_in_schema=False)
def trail(request: Request):
    """The newest signed head, the daily history, the public key, and how to check a later export against them."""
    return page(request, "trail.html", {"title": "The decision trail's published heads",
                                        "h": public.published_heads(_store(request))})


@pages.get("/trail/heads.jsonl", response_class=Response,
           responses={200: {"content": {"application/jsonl": {}}, "description": "one signed head per line"}})
def trail_heads(request: Request) -> Response:
    """The daily signed heads (and the newest) in the witness format: `verify.py --witness heads.jsonl`."""
    return Response(public.published_heads(_store(request))["jsonl"], media_type="application/jsonl",
                    headers={"Content-Disposition": 'attachment; filename="heads.jsonl"'})


@pages.get("/trail/public-key.pem", response_class=Response,
           responses={200: {"content": {"application/x-pem-file": {}}, "description": "Ed25519 public key"}})
def trail_key(request: Request) -> Response:
    """The trail's Ed25519 public key (the key it was started with): what verify.py and check_pack.py check."""
    return Response(public.public_key(_store(request)), media_type="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="trail-public-key.pem"'})


# ---- inside: the complaints queue (behind the door) -----------------------------------------------------------------
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignIn(Strict):
    to: str = Field(min_length=1, max_length=100)


class LinkIn(Strict):
    kind: Literal[complaints.LINK_KINDS]
    ref: str = Field(min_length=1, max_length=120)


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=complaints.MAX_TEXT)
    to_person: bool = False


class ResolveIn(Strict):
    outcome: Literal["upheld", "partly-upheld", "not-upheld"]
    reasons: str = Field(min_length=1, max_length=complaints.MAX_TEXT)
    suspend: list[str] = Field(default_factory=list, max_length=20)
    correct: str = Field("", max_length=2000)
    notify: str = Field("", max_length=500)


class IdentityIn(Strict):
    state: Literal["verified", "refused"]
    note: str = Field(min_length=1, max_length=1000)


@router.get("/complaints")
def list_complaints(status: Literal["open", "received", "assigned", "resolved"] | None = None,
                    c: Call = CallDep) -> list[dict]:
    """The complaints and appeals queue: overdue first, then by deadline (DPO and review board)."""
    return c.run(complaints.list_complaints, status=status)


@router.get("/complaints/{reference}")
def show_complaint(reference: Ref, c: Call = CallDep) -> dict:
    """One complaint with its notes, links, outcome and actions."""
    return c.run(complaints.show, reference=reference)


@router.post("/complaints/{reference}/assign")
def assign_complaint(reference: Ref, body: AssignIn, c: Call = CallDep) -> dict:
    """Assign to the DPO or a member of the review board."""
    return c.run(complaints.assign, reference=reference, to=body.to)


@router.post("/complaints/{reference}/links")
def link_complaint(reference: Ref, body: LinkIn, c: Call = CallDep) -> dict:
    """Link to an output, an alert, a decision (an output's review), a model or a subject request."""
    return c.run(complaints.link, reference=reference, kind=body.kind, ref=body.ref)


@router.post("/complaints/{reference}/notes")
def note_complaint(reference: Ref, body: NoteIn, c: Call = CallDep) -> dict:
    """A message to the person (shown on their tracking page) or an internal note."""
    return c.run(complaints.note, reference=reference, text=body.text, to_person=body.to_person)


@router.post("/complaints/{reference}/outcome")
def resolve_complaint(reference: Ref, body: ResolveIn, c: Call = CallDep) -> dict:
    """The outcome with reasons; upheld: suspend models, record a correction and who was notified."""
    return c.run(complaints.resolve, reference=reference, outcome=body.outcome, reasons=body.reasons,
                 suspend=body.suspend, correct=body.correct, notify=body.notify)


@router.get("/public-requests")
def list_public_requests(c: Call = CallDep) -> list[dict]:
    """Subject requests opened from the public form, with their identity checks (DPO)."""
    return c.run(subject.list_public)


@router.post("/public-requests/{reference}/identity")
def record_identity(reference: Ref, body: IdentityIn, c: Call = CallDep) -> dict:
    """Record the agency's identity check of a public request: verified (then answer it as usual) or refused."""
    return c.run(subject.record_identity, reference=reference, state=body.state, note=body.note)


@router.post("/audit-pack", response_class=Response,
             responses={200: {"content": {"application/zip": {}}, "description": "the signed audit pack (zip)"}})
def audit_pack(year: int = Query(..., ge=2000, le=2100), c: Call = CallDep) -> Response:
    """The annual audit pack for a calendar year (UTC), signed with the trail's key (DPO, auditor)."""
    data = c.flow(pack.build_pack, year=year)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="lawful-audit-pack-{year}.zip"'})
