"""The console: server-rendered pages for people in a browser, served by the same application as the API and
calling the same services through `deps.Call` (here `ConsoleCall`, which authenticates from the session cookie).
No logic of its own, no table models, no trail writes: every decision is the services'."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

PREFIX = "/console"
HERE = Path(__file__).resolve().parent


def mount(app: FastAPI) -> None:
    """Add the console's pages and its vendored static files to the application."""
    from lawful.web.console.pages import router

    app.include_router(router, prefix=PREFIX)
    from lawful.web.console.pages_complaints import router as complaints; app.include_router(complaints, prefix=PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
