"""One router per domain, mounted under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI

from lawful.web.problems import RESPONSES


def register(app: FastAPI, *, prefix: str) -> None:
    from lawful.web.routers import access, audit, forecast, governance, incidents, session, users

    for module in (session, incidents, audit, governance, forecast, users, access):
        app.include_router(module.router, prefix=prefix, responses=RESPONSES)
    from lawful.web.routers import privacy
    app.include_router(privacy.router, prefix=prefix, responses=RESPONSES)
    from lawful.web.routers import rules
    app.include_router(rules.router, prefix=prefix, responses=RESPONSES)
    from lawful.web.routers import patrol; app.include_router(patrol.router, prefix=prefix, responses=RESPONSES)
    from lawful.web.routers import casefiles, transparency
    app.include_router(casefiles.router, prefix=prefix, responses=RESPONSES)
    transparency.mount(app, prefix=prefix)  # the public register's routes: no sign-in (docs/transparency.md)
    from lawful.web import console
    console.mount(app)  # the browser console's pages, under /console
