"""After the demo's governance steps, the public register shows the demo forecaster's record with its measured
accuracy and its exposure results by area (the issue's done-when), without signing in."""

from __future__ import annotations

import io

import httpx
from rich.console import Console

from lawful.governance.card import load_card
from lawful.server_files import tighten
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture: a store with incidents)


def test_after_the_demo_the_register_shows_the_forecaster_with_accuracy_and_exposure(loaded):  # noqa: F811
    from lawful import client, demo

    _, tokens = demo.people(loaded)
    tighten(loaded)
    estimator = load_card(demo.DEMO_CARD)["model"]["estimator"]
    records = [{"model": estimator, "coverage": 0.05, "hit_rate": 0.3, "pai": 6.0, "days": 4}]
    with demo.serving(loaded) as url:
        as_ = {name: client.Client(server=url, token=t) for name, t in tokens.items()}
        demo._governance(as_, records, Console(file=io.StringIO(), width=200), None)
        reg = httpx.get(f"{url}/public/register.json", trust_env=False).json()
        page = httpx.get(f"{url}/public/systems/toronto-bne-forecaster", trust_env=False).text
        for c in as_.values():
            c.delete("/session")
    [r] = reg["records"]
    assert r["state"] == "active" and r["tier2"]["accuracy"]["headline"]["pai"] == 6.0
    exposure = r["tier2"]["exposure"]
    assert 0 <= exposure["misplaced"] <= 1 and exposure["areas"], exposure
    assert all({"area", "flagged_share", "incident_share", "disparity"} == set(a) for a in exposure["areas"])
    assert "Measured accuracy" in page and "Exposure by area" in page and "Every area (" in page
