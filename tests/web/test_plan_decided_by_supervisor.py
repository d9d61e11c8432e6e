"""A patrol plan sends officers somewhere, so only a supervisor decides it (the policy's outputs.decide-plan): an
officer, who may decide other outputs, cannot accept a plan, and so cannot send it to dispatch."""

from __future__ import annotations

from tests.patrol.conftest import UNITS
from tests.web.test_patrol import patrol, who  # noqa: F401


def test_only_a_supervisor_decides_a_patrol_plan(store, patrol, server):
    analyst, other, supervisor = who(store, "analyst"), who(store, "officer"), who(store, "supervisor")
    forecast = patrol.issue_forecast()
    r = server.post(f"/api/v1/review/outputs/{forecast}/decision", headers=supervisor,
                    json={"decision": "accepted", "reason": "fits tonight's briefing"})
    assert r.status_code == 200, r.text
    plan = server.post("/api/v1/patrol/plans", headers=analyst,
                       json={"forecast": forecast, "planner": patrol.planner, "units": UNITS}).json()
    r = server.post(f"/api/v1/review/outputs/{plan['id']}/decision", headers=other,
                    json={"decision": "accepted", "reason": "ok"})
    assert r.status_code == 403 and "outputs.decide-plan" in r.text, r.text
    export = server.get(f"/api/v1/patrol/plans/{plan['id']}/export", params={"format": "csv"}, headers=analyst)
    assert export.status_code == 409 and "only a plan a supervisor accepted" in export.text  # nothing for dispatch
    r = server.post(f"/api/v1/review/outputs/{plan['id']}/decision", headers=supervisor,
                    json={"decision": "accepted", "reason": "ok"})
    assert r.status_code == 200, r.text
    assert server.get(f"/api/v1/patrol/plans/{plan['id']}/export", params={"format": "csv"},
                      headers=analyst).status_code == 200
