"""`lawful demo`'s steps go through a real server (uvicorn on a loopback port), each as the person who would take
it: the trail names the demo's people, never the operator, for everything after the setup."""

from __future__ import annotations

import io

from rich.console import Console

from lawful import db
from lawful.server_files import tighten
from lawful.trail import audit
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture: a store with Toronto incidents)


def test_the_demo_takes_every_step_through_the_door(loaded):  # noqa: F811
    from lawful import client, demo

    made, tokens = demo.people(loaded)
    assert set(made) == set(demo.PEOPLE) and all(len(pw) >= 12 for pw, _ in made.values())
    assert made["demo-approver-1"][1].startswith("otpauth://") and made["demo-analyst"][1] is None
    tighten(loaded)
    shown = io.StringIO()
    out = Console(file=shown, width=200)
    records = [{"model": "ensemble", "coverage": 0.05, "hit_rate": 0.3, "pai": 6.0, "days": 4}]
    with demo.serving(loaded) as url:
        assert url.startswith("http://127.0.0.1:")
        as_ = {name: client.Client(server=url, token=t) for name, t in tokens.items()}
        demo._governance(as_, records, out, None)
        demo._rules(as_["demo-analyst"], None)
        for c in as_.values():
            c.delete("/session")
    text = shown.getvalue()
    assert "approved by demo-approver-1 and demo-approver-2, activated" in text
    assert "purpose 'investigation 2019-1224': refused (model toronto-bne-forecaster may not be used for" in text
    assert "Accepted by demo-supervisor" in text and "Trail: OK" in text
    engine = db.open_store(loaded)
    try:
        with db.transaction(engine, settings=loaded) as s:
            done = {(e.actor, e.action) for e in audit.get_all(s, limit=1000)}
    finally:
        engine.dispose()
    assert {("demo-owner", "model.register"), ("demo-approver-1", "model.approve"),
            ("demo-approver-2", "model.approve"), ("demo-analyst", "gate.refuse"), ("demo-analyst", "output.issue"),
            ("demo-supervisor", "consultation"), ("demo-supervisor", "review.decide"),
            ("demo-auditor", "consultation"), ("demo-analyst", "development")} <= done
    assert ("demo-owner", "user.revoke") in done  # the run's tokens end with it
    assert all(act in ("collection", "config.change") for a, act in done if a == "operator")  # setup only
