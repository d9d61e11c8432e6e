"""The dispatch CSV of an accepted plan keeps an area name that looks like a formula as text."""

from __future__ import annotations

import csv
import io

import pytest

import tests.patrol.conftest as pc
from tests.conftest import _token_of
from tests.web.conftest import server  # noqa: F401

EVIL = '=HYPERLINK("http://evil.example/","x")'


@pytest.fixture
def patrol(store, monkeypatch):
    monkeypatch.setattr(pc, "CELLS", [(a, b, c, EVIL if d == "077" else d) for a, b, c, d in pc.CELLS])
    p = pc.Patrol(store)
    yield p
    p.engine.dispose()


def test_a_formula_area_reaches_dispatch_as_text(store, patrol, server):
    analyst = {"Authorization": f"Bearer {_token_of(store, 'analyst')}"}
    supervisor = {"Authorization": f"Bearer {_token_of(store, 'supervisor')}"}
    r = server.post("/api/v1/patrol/plans", headers=analyst,
                    json={"forecast": patrol.forecast, "planner": patrol.planner, "units": pc.UNITS})
    assert r.status_code == 201, r.text
    plan = r.json()["id"]
    assert server.post(f"/api/v1/review/outputs/{plan}/decision", headers=supervisor,
                       json={"decision": "accepted", "reason": "ok"}).status_code == 200
    rows = list(csv.reader(io.StringIO(server.get(f"/api/v1/patrol/plans/{plan}/export", headers=analyst)
                                       .json()["text"])))
    areas = [row[rows[0].index("area")] for row in rows[1:]]
    assert "'" + EVIL in areas and EVIL not in areas
