"""The console in a real browser: Lawful served by uvicorn on a free loopback port in a thread, Debian's Chromium
driven by Playwright, people who enrolled and set their own passwords (and one-time codes where their role needs
them), and a high-tier forecaster that issued an output through the governance gate."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("playwright")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from lawful.access import credentials  # noqa: E402
from lawful.access.models import User  # noqa: E402
from lawful.governance import gate, registry  # noqa: E402
from tests.conftest import make_private, unused_code  # noqa: E402
from tests.governance.conftest import Gov  # noqa: E402

PASSWORD = "a long console password 42"
SHOTS = Path(os.environ["LAWFUL_SCREENSHOTS"]) if os.environ.get("LAWFUL_SCREENSHOTS") else None  # artifacts
# axe-core, vendored for the tests only (never served to users): see vendor/VERSION and vendor/LICENSE.
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# A forecast's top places as forecast.service.forecast_output writes them: boxes in projected metres, a score, and
# per place the sentence and the terms with their shares.
TERMS = [("long-term rate in the cell", 0.46, 31), ("incidents within 200 m in the last 7 days", 0.34, 4),
         ("same weekday and hour pattern", 0.20, -1)]


def forecast_output() -> tuple[dict, list]:
    cells, explanation = [], []
    spots = [(0, 0), (1, 0), (0, 1), (3, 2), (4, 2), (4, 3), (7, 5), (8, 5), (2, 6), (6, 1), (5, 4), (9, 7)]
    for rank, (ix, iy) in enumerate(spots, start=1):
        x0, y0 = 628_000 + ix * 250, 4_833_000 + iy * 250
        label = f"cell {ix},{iy} (centre {x0 + 125} E, {y0 + 125} N)"
        cells.append({"rank": rank, "cell": label, "score": round(3.2 / rank, 4), "x0": x0, "y0": y0,
                      "x1": x0 + 250, "y1": y0 + 250})
        terms = [{"label": t, "value": s * 3.2 / rank, "share": s, "events": e} for t, s, e in TERMS]
        explanation.append({"cell": label, "terms": terms,
                            "sentence": ", ".join(f"{'' if e < 0 else f'{e} '}{t} {s:.0%}" for t, s, e in TERMS)})
    payload = {"category": "Break and Enter", "day": "2021-06-01", "estimator": "features",
               "start": "2021-06-01T04:00:00+00:00", "end": "2021-06-02T04:00:00+00:00", "area_share": 0.05,
               "cells": cells}
    return payload, explanation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """The running console: its address, the store's people and the issued output."""

    def __init__(self, settings, gov: Gov, base: str):
        self.settings, self.gov, self.base = settings, gov, base
        self.seeds: dict[str, str] = {}

    def enrol(self, name: str) -> None:
        """The person sets their own password with a fresh enrolment code (and gets a one-time-code seed when
        their role needs one)."""
        with self.gov.tx() as s:
            code = credentials.new_enrolment(s.scalar(select(User).where(User.name == name)))
        with self.gov.tx() as s:
            done = credentials.enrol(s, name=name, code=code, password=PASSWORD)
        assert not isinstance(done, credentials.SignInFailed), done
        if done.uri:
            self.seeds[name] = parse_qs(urlparse(done.uri).query)["secret"][0]

    def code(self, name: str) -> str:
        return unused_code(self.settings, name, self.seeds[name])

    def issue(self, ref: str, who: str = "analyst") -> int:
        payload, explanation = forecast_output()
        with self.gov.tx() as s:
            r = gate.issue(s, actor=self.gov.actor(s, who), entry=registry.get(s, ref=ref), purpose="patrol planning",
                           kind="forecast", subject="Break and Enter 2021-06-01", payload=payload,
                           explanation=explanation)
            assert r.allowed, r.refused
            return r.output.id

    def trail(self, action: str) -> list[dict]:
        from lawful.access.service import get_actor
        from lawful.trail.service import read_log

        with self.gov.tx() as s:
            rows = read_log(s, actor=get_actor(s, name="dpo"), action=action, limit=100)
        return [{**r, "details": json.loads(r["details"] or "{}")} for r in rows]


@pytest.fixture
def console(store):
    import uvicorn

    from lawful.web.app import create_app

    gov = Gov(store)
    make_private(store)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, port=port), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):  # returns as soon as the server answers; up to 30 s on a loaded machine
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started, "the console's server did not start"
    try:
        yield Console(store, gov, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(30)
        gov.engine.dispose()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page as it stands. The script is evaluated
    through the DevTools protocol (the page's Content-Security-Policy forbids injected script tags, rightly)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "where": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def check_accessibility(page) -> None:
    bad = axe_violations(page)
    assert not bad, f"{page.url}: axe found serious or critical violations: {bad}"


@pytest.fixture
def shot(tmp_path, request):
    """shot(page, name): the page passes axe-core's check (no serious or critical violation), then a full-page
    screenshot under the test's tmp dir, and copied to $LAWFUL_SCREENSHOTS when that is set (the artifacts)."""
    out = tmp_path / "shots"
    out.mkdir()

    def take(page, name: str) -> Path:
        check_accessibility(page)
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SHOTS / path.name)
        return path

    return take
