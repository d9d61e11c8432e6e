"""The public side: the register, complaints and appeals, public subject requests and published trail heads.
No sign-in; what these routes may show is decided by the transparency service, never by the route."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from lawful.web.problems import RESPONSES

router = APIRouter(tags=["transparency"])  # inside routes (/api/v1/...), behind the door


def mount(app: FastAPI, *, prefix: str) -> None:
    app.include_router(router, prefix=prefix, responses=RESPONSES)
