"""The console's complaints pages: the data-protection officer's (or review board's) queue of complaints and
appeals with their statutory deadlines, and one complaint's page to assign it, link it to what it is about, write to
the person or an internal note, and record the outcome with reasons (upheld: suspend the model). Every step calls
lawful.transparency.complaints through `ConsoleCall`, like the API's /api/v1/complaints routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lawful.errors import LawfulError
from lawful.governance import service as gov
from lawful.transparency import complaints, pack, subject
from lawful.web.console import PREFIX
from lawful.web.console.auth import ConsoleCall
from lawful.web.console.pages import CC, ConsoleRoute, Csrf, _view, page

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False, default_response_class=HTMLResponse)
RefPath = Annotated[str, Path(min_length=4, max_length=30, pattern=r"^[A-Za-z0-9-]+$")]
Text = Annotated[str, Form(max_length=complaints.MAX_TEXT)]
DONE = {"assigned": "assigned", "linked": "linked", "noted": "note saved", "resolved": "outcome recorded"}


@router.get("/complaints")
def queue(request: Request, status: Literal["open", "resolved", "all"] = Query("open"),
          checked: Annotated[str | None, Query(max_length=30, pattern=r"^[A-Za-z0-9-]+$")] = None,
          c: ConsoleCall = CC):
    notice = f"Identity check of {checked} recorded. The step is on the trail." if checked else None
    def both(session, *, actor):
        rows = complaints.list_complaints(session, actor=actor, status=None if status == "all" else status)
        from lawful.access.decide import Resource, decide, load_policy

        may = decide(actor, "privacy.requests", Resource("incidents", "subject", "public"), "data protection",
                     load_policy()).allowed
        return rows, (subject.list_public(session, actor=actor) if may else None)

    me, (rows, public_requests) = _view(c, both)
    from datetime import datetime, timezone

    return page(request, "complaints.html", {"me": me, "title": "Complaints and appeals", "active": "complaints",
                                             "rows": rows, "status": status, "year": datetime.now(timezone.utc).year,
                                             "overdue": sum(r["overdue"] for r in rows),
                                             "may_pack": pack.ACTION in me["granted"],
                                             "public_requests": public_requests, "notice": notice})


@router.post("/audit-pack")
def audit_pack(year: Annotated[int, Form(ge=2000, le=2100)], csrf: Csrf = "", c: ConsoleCall = CC):
    """The signed annual audit pack, as POST /api/v1/audit-pack (DPO, auditor)."""
    c.checked(csrf)
    data = c.flow(pack.build_pack, year=year)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="lawful-audit-pack-{year}.zip"'})


def _complaint_page(request: Request, c: ConsoleCall, reference: str, *, notice: str | None = None,
                    problem: str | None = None, status: int = 200):
    def both(session, *, actor):
        view = complaints.show(session, actor=actor, reference=reference)
        linked = {ln["ref"] for ln in view["links"] if ln["kind"] == "model"}
        models = [e["ref"] for e in gov.list_entries(session, actor=actor)
                  if e["state"] in ("active", "sandbox", "approved") and (e["name"] == view["system"]
                                                                          or e["ref"] in linked)]
        return view, models

    me, (view, models) = _view(c, both)
    return page(request, "complaint.html", {"me": me, "title": f"Complaint {view['reference']}",
                                            "active": "complaints", "c": view, "models": models, "notice": notice,
                                            "problem": problem, "outcomes": complaints.OUTCOMES,
                                            "link_kinds": complaints.LINK_KINDS}, status=status)


@router.get("/complaints/{reference}")
def one(request: Request, reference: RefPath, done: Literal[tuple(DONE)] | None = None, c: ConsoleCall = CC):
    notice = f"{DONE[done].capitalize()}. The step is on the trail." if done else None
    return _complaint_page(request, c, reference, notice=notice)


def _step(request: Request, c: ConsoleCall, reference: str, csrf: str, done: str, fn, **kw):
    c.checked(csrf)
    try:
        view = c.run(fn, reference=reference, **kw)
    except LawfulError as exc:
        if exc.kind not in ("invalid", "not_found", "conflict"):
            raise
        return _complaint_page(request, c, reference, problem=f"{exc.message}. {exc.fix or ''}", status=422)
    return RedirectResponse(f"{PREFIX}/complaints/{view['reference']}?done={done}", status_code=303)


@router.post("/complaints/{reference}/assign")
def assign(request: Request, reference: RefPath, to: Annotated[str, Form(min_length=1, max_length=100)],
           csrf: Csrf = "", c: ConsoleCall = CC):
    return _step(request, c, reference, csrf, "assigned", complaints.assign, to=to)


@router.post("/complaints/{reference}/links")
def link(request: Request, reference: RefPath, kind: Annotated[Literal[complaints.LINK_KINDS], Form()],
         ref: Annotated[str, Form(min_length=1, max_length=120)], csrf: Csrf = "", c: ConsoleCall = CC):
    return _step(request, c, reference, csrf, "linked", complaints.link, kind=kind, ref=ref)


@router.post("/complaints/{reference}/notes")
def note(request: Request, reference: RefPath, text: Text, to_person: Annotated[str, Form(max_length=5)] = "",
         csrf: Csrf = "", c: ConsoleCall = CC):
    return _step(request, c, reference, csrf, "noted", complaints.note, text=text, to_person=to_person == "1")


@router.post("/complaints/{reference}/outcome")
def outcome(request: Request, reference: RefPath, outcome: Annotated[Literal[complaints.OUTCOMES], Form()],
            reasons: Text, suspend: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
            correct: Annotated[str, Form(max_length=2000)] = "", notify: Annotated[str, Form(max_length=500)] = "",
            csrf: Csrf = "", c: ConsoleCall = CC):
    return _step(request, c, reference, csrf, "resolved", complaints.resolve, outcome=outcome, reasons=reasons,
                 suspend=suspend, correct=correct, notify=notify)


@router.post("/public-requests/{reference}/identity")
def identity(request: Request, reference: RefPath, state: Annotated[Literal["verified", "refused"], Form()],
             note: Annotated[str, Form(min_length=1, max_length=1000)], csrf: Csrf = "", c: ConsoleCall = CC):
    """Record the agency's identity check of a subject request opened on the public form (as POST
    /api/v1/public-requests/REF/identity); then answer it on the Data protection page."""
    c.checked(csrf)
    view = c.run(subject.record_identity, reference=reference, state=state, note=note)
    return RedirectResponse(f"{PREFIX}/complaints?checked={view['reference']}", status_code=303)
