"""RFC 9457 problem details: every refusal the API gives is `application/problem+json` with a status from the
error's kind, a title, the reason (`detail`) and, where there is one, the fix."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lawful.errors import LawfulError

STATUS = {"invalid": 422, "not_found": 404, "conflict": 409, "denied": 403, "unauthenticated": 401,
          "unavailable": 503}
TITLES = {422: "Invalid request", 404: "Not found", 409: "Conflict", 403: "Forbidden", 401: "Not signed in",
          503: "Unavailable", 405: "Method not allowed", 413: "Too large", 429: "Too many requests",
          400: "Bad request"}

# Declared on every route, so the OpenAPI description says what a client can get back (schemathesis checks it).
PROBLEM_SCHEMA = {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                                   "status": {"type": "integer"}, "detail": {"type": "string"},
                                                   "fix": {"type": "string"}, "kind": {"type": "string"}},
                  "required": ["title", "status", "detail"]}
RESPONSES = {code: {"description": TITLES[code],
                    "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
             for code in (401, 403, 404, 409, 422, 503)}


def problem(status: int, detail: str, *, fix: str | None = None, kind: str | None = None,
            headers: dict | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    if fix:
        body["fix"] = fix
    if kind:
        body["kind"] = kind
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def from_error(exc: LawfulError) -> JSONResponse:
    status = STATUS.get(exc.kind, 422)
    headers = {"WWW-Authenticate": 'Bearer realm="lawful"'} if status == 401 else None
    return problem(status, exc.message, fix=exc.fix, kind=exc.kind, headers=headers)


def install(app) -> None:
    @app.exception_handler(LawfulError)
    async def _lawful(_request: Request, exc: LawfulError):
        return from_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem(422, f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request",
                       fix="see the schema at /api/v1/openapi.json", kind="invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))
