"""The application factory: `create_app(settings)` opens the store, checks the server's private files, reads the
access policy once, writes `server.start` to the trail, and mounts the API. Nothing here decides anything: routers
call services through `deps.Call`."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from lawful.access.decide import DEFAULT_POLICY, load_policy, pin_policy
from lawful.access.door import policy_fingerprint, record_start
from lawful.db import Store
from lawful.jobs import Jobs
from lawful.server_files import refuse_shared
from lawful.settings import Settings
from lawful.web import problems
from lawful.web.deps import Door

API = "/api/v1"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def open_door(settings: Settings, *, host: str = "127.0.0.1", port: int = 0, jobs: int = 1) -> Door:
    """Everything the server does once, before it answers anyone."""
    refuse_shared(settings)
    policy_path = Path(os.environ.get("LAWFUL_POLICY") or DEFAULT_POLICY)
    policy = load_policy(policy_path)
    store = Store(settings)
    sha = policy_fingerprint(policy_path)
    pin_policy(policy)  # editing the file changes nothing until a restart, which the trail records
    # The first append: it reads the signing key (creating it only for a trail not yet begun), so a missing or
    # swapped key stops the server here, not at someone's first request.
    record_start(store, policy_path=policy_path, policy_sha256=sha, host=host, port=port)
    return Door(store=store, policy=policy, policy_sha256=sha, jobs=Jobs(workers=jobs))


def create_app(settings: Settings | None = None, *, door: Door | None = None, host: str = "127.0.0.1",
               port: int = 0) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.door = door or open_door(settings, host=host, port=port)
        try:
            yield
        finally:
            app.state.door.jobs.shutdown()
            app.state.door.store.dispose()
            pin_policy(None)

    app = FastAPI(title="Lawful", version="1", lifespan=lifespan, openapi_url=f"{API}/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="The one door to Lawful: every request is authenticated, decided by the access "
                              "policy and written to the decision trail. Errors are RFC 9457 problem+json.")
    problems.install(app)

    @app.exception_handler(SQLAlchemyError)
    async def _store_failed(_request: Request, exc: SQLAlchemyError):
        return problems.problem(503, "the store could not complete the request; nothing was committed",
                                fix="try again; if it persists, tell the operator", kind="unavailable")

    @app.exception_handler(OSError)
    async def _os_failed(_request: Request, exc: OSError):
        return problems.problem(503, f"the server could not complete the request ({exc.strerror or exc}); "
                                     "nothing was committed", fix="tell the operator", kind="unavailable")

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.get("/health", include_in_schema=True, tags=["server"])
    def health() -> dict:
        """Open to all: the server is up. Says nothing else."""
        return {"status": "ok"}

    from lawful.web.routers import register

    register(app, prefix=API)
    return app
