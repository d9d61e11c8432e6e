"""The application factory: `create_app(settings)` opens the store, checks the server's private files, reads the
access policy once, writes `server.start` to the trail, and mounts the API. Nothing here decides anything: routers
call services through `deps.Call`."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lawful.access.decide import DEFAULT_POLICY, load_policy, pin_policy
from lawful.access.door import policy_fingerprint, record_start
from lawful.db import Store
from lawful.jobs import Jobs
from lawful.limits import CONFIG_BYTES, EVENT_BYTES, ZONE_BYTES
from lawful.server_files import refuse_shared
from lawful.settings import Settings
from lawful.web import problems
from lawful.web.deps import Door
from lawful.incidents.flows import upload_limit

API = "/api/v1"
log = logging.getLogger("lawful.server")  # the operator's log: what a client is told only as "503"
# The most a request body may hold (413 beyond, refused on its Content-Length before a byte is read, and counted
# while streamed; authentication comes after the body is read, so this bounds what anyone can make the server
# read): the largest JSON documents (two 16 MB attachments and a card, escaped) fit. The routes that take more:
# uploads of incident files and rule runs with event and zone files.
BODY_LIMIT = 64 * 2**20


SIGN_IN_BODY = 16 * 2**10  # the routes anyone may call before signing in take a name, a password and a code


def large_bodies() -> dict[str, int]:
    """Routes whose limit is not BODY_LIMIT: larger for uploads, and far smaller for the open sign-in routes (an
    unauthenticated 64 MB JSON array was parsed, at several times its size in memory, before the 401)."""
    return {f"{API}/session": SIGN_IN_BODY, f"{API}/enrolment": SIGN_IN_BODY, "/console/sign-in": SIGN_IN_BODY,
            f"{API}/incidents/loads": 2 * upload_limit() + 2**20,
            f"{API}/rules/runs": 2 * (EVENT_BYTES + 8 * ZONE_BYTES + CONFIG_BYTES),
            f"{API}/rules/check": 2 * (8 * ZONE_BYTES + CONFIG_BYTES)}


class BodyLimit:
    """Refuse a request body over its route's limit with a 413 problem: on its declared length at once, or when
    the bytes streamed in pass it (raised into the request's reading of its body, answered by problems.py)."""

    def __init__(self, app, *, default: int, limits: dict[str, int]):
        self.app, self.default, self.limits = app, default, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.get(scope["path"], self.default)
        size = f"{limit >> 20} MB" if limit >= 2**20 else f"{limit >> 10} KB"
        detail = f"the request body is larger than the {size} this route takes"
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await problems.problem(413, detail, fix="send less", kind="invalid")(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if seen > limit:
                raise StarletteHTTPException(413, detail)
            return message

        await self.app(scope, counted, send)

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
        log.error("store error on %s %s: %s", _request.method, _request.url.path, " ".join(str(exc).split())[:500])
        return problems.problem(503, "the store could not complete the request; nothing was committed",
                                fix="try again; if it persists, tell the operator", kind="unavailable")

    @app.exception_handler(OSError)
    async def _os_failed(_request: Request, exc: OSError):
        return problems.problem(503, f"the server could not complete the request ({exc.strerror or exc}); "
                                     "nothing was committed", fix="tell the operator", kind="unavailable")

    app.add_middleware(BodyLimit, default=BODY_LIMIT, limits=large_bodies())  # inside _headers: its 413s get them

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
