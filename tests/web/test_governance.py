"""Governance through the API: the registry's lifecycle, reading and deciding outputs, serious incidents and the
weekly report, each with its refusals (403 on the trail, 422 for bad input, 404, 409)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lawful import db
from lawful.access.service import get_actor
from lawful.governance import gate, registry
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
CARD = (ROOT / "examples" / "governance" / "demo-forecaster.toml").read_text().replace("demo-owner", "olga")
FRIA = (ROOT / "examples" / "governance" / "demo-forecaster-fria.toml").read_text()
RECORDS = [{"model": "ensemble", "coverage": 0.05, "hit_rate": 0.3, "pai": 6.0, "days": 52}]
EXPOSURE = {"model": "ensemble", "coverage": 0.05, "days": 52, "misplaced": 0.2}
REF = "toronto-bne-forecaster:1"


@pytest.fixture
def team(people):
    return {"owner": people("olga", "model-owner"), "ap1": people("ada", "approver"),
            "ap2": people("ben", "approver"), "analyst": people("ana", "analyst"),
            "supervisor": people("sam", "supervisor"), "dpo": people("dora", "dpo"),
            "auditor": people("aud", "auditor")}


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def active(server, team) -> str:
    """Register, attach, submit, approve twice and activate, all through the API."""
    e = ok(server.post("/api/v1/models", json={"source": "card.toml", "text": CARD}, headers=team["owner"]), 201)
    assert (e["ref"], e["state"], e["tier"]) == (REF, "draft", "high")
    got = ok(server.post(f"/api/v1/models/{REF}/attachments", headers=team["owner"], json={
        "evaluation": {"source": "eval.json", "text": json.dumps(RECORDS)},
        "exposure": {"source": "exposure.json", "text": json.dumps(EXPOSURE)},
        "fria": {"source": "fria.toml", "text": FRIA}}))
    assert got["attached"] == ["evaluation", "exposure audit", "impact assessment"]
    assert ok(server.post(f"/api/v1/models/{REF}/submit", headers=team["owner"]))["state"] == "submitted"
    body = {"reason": "fine", "purposes": ["patrol planning"]}
    first = ok(server.post(f"/api/v1/models/{REF}/approve", json=body, headers=team["ap1"]))
    assert first["state"] == "submitted" and first["required_approvals"] == 2
    assert ok(server.post(f"/api/v1/models/{REF}/approve", json=body, headers=team["ap2"]))["state"] == "approved"
    assert ok(server.post(f"/api/v1/models/{REF}/activate", headers=team["owner"]))["state"] == "active"
    return REF


def issue(store, ref, who="ana", n=1) -> list[int]:
    """Outputs through the gate (the forecast endpoint is not governance's), committed."""
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as s:
            entry = registry.get(s, ref=ref)
            return [gate.issue(s, actor=get_actor(s, name=who), entry=entry, purpose="patrol planning",
                               kind="forecast", subject=f"forecast {i}", payload={"cells": []},
                               explanation=[{"cell": "c1", "sentence": "many recent burglaries"}]).output.id
                    for i in range(n)]
    finally:
        engine.dispose()


def denials(server, team, by: str) -> list[dict]:
    return ok(server.get("/api/v1/audit/log", params={"action": "access.deny", "by": by}, headers=team["dpo"]))


def test_the_lifecycle_runs_through_the_api_and_the_card_reads_back(server, team):
    ref = active(server, team)
    [row] = ok(server.get("/api/v1/models", headers=team["analyst"]))
    assert (row["ref"], row["state"], row["owner"]) == (ref, "active", "olga")
    card = ok(server.get(f"/api/v1/models/{ref}/card", headers=team["analyst"]))
    assert card["format"] == "markdown" and "## Legal basis" in card["text"] and "PAI 6.00" in card["text"]
    html = ok(server.get(f"/api/v1/models/{ref}/card", params={"format": "html"}, headers=team["analyst"]))
    assert html["text"].startswith("<!doctype html>")
    assert ok(server.post(f"/api/v1/models/{ref}/suspend", json={"reason": "complaint"},
                          headers=team["dpo"]))["state"] == "suspended"
    assert ok(server.post(f"/api/v1/models/{ref}/reinstate", json={"reason": "answered"},
                          headers=team["owner"]))["state"] == "submitted"
    log = ok(server.get("/api/v1/audit/log", params={"object": f"model:{ref}"}, headers=team["dpo"]))
    assert [(e["actor"], e["action"]) for e in log[:2]] == [("olga", "model.reinstate"), ("dora", "model.suspend")]


def test_a_role_the_policy_refuses_gets_a_403_that_is_on_the_trail(server, team):
    ref = active(server, team)
    r = server.post(f"/api/v1/models/{ref}/suspend", json={"reason": "I disagree"}, headers=team["analyst"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert "no role of ana (analyst) grants models.suspend" in r.json()["detail"]
    assert server.get("/api/v1/reports/weekly", headers=team["analyst"]).status_code == 403
    assert server.get("/api/v1/serious-incidents", headers=team["analyst"]).status_code == 403
    assert {e["object"] for e in denials(server, team, "ana")} == {f"model:{ref.split(':')[0]}",
                                                                    "governance:the weekly report",
                                                                    "serious-incident:register"}
    assert ok(server.get("/api/v1/models", headers=team["dpo"]))[0]["state"] == "active"  # nothing changed


@pytest.mark.parametrize("path, body, where", [
    ("/api/v1/models", {"source": "card.toml", "text": "name = "}, "card.toml: not valid TOML"),
    ("/api/v1/models", {"source": "card.toml", "text": CARD.replace('output = "places"', 'output = "people"')},
     "cannot be registered"),
    ("/api/v1/models", {"text": CARD, "owner": "me"}, "body.owner"),
    (f"/api/v1/models/{REF}/attachments",
     {"evaluation": {"source": "eval.json", "text": json.dumps([dict(RECORDS[0], pai=float("nan"))])}},
     "eval.json, record 1, pai"),
    (f"/api/v1/models/{REF}/attachments", {}, "nothing to attach"),
    ("/api/v1/models/not%20a%20ref/submit", None, "ref"),
])
def test_bad_input_is_a_422_naming_what_is_wrong(server, team, path, body, where):
    if "attachments" in path:
        ok(server.post("/api/v1/models", json={"source": "card.toml", "text": CARD}, headers=team["owner"]), 201)
    r = server.post(path, json=body, headers=team["owner"])
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert where in r.json()["detail"], r.json()


def test_reading_an_output_is_a_consultation_in_the_readers_name(server, team, store):
    [oid] = issue(store, active(server, team))
    [row] = ok(server.get("/api/v1/review/outputs", headers=team["supervisor"]))
    assert (row["output"], row["model"], row["status"]) == (oid, REF, "open")
    o = ok(server.get(f"/api/v1/review/outputs/{oid}", headers=team["supervisor"]))
    assert o["explanation"][0]["sentence"] == "many recent burglaries" and o["issued_by"] == "ana"
    log = ok(server.get("/api/v1/audit/log", params={"object": f"output:{oid}"}, headers=team["dpo"]))
    assert (log[0]["actor"], log[0]["action"], log[0]["purpose"]) == ("sam", "consultation", "patrol planning")
    assert server.get("/api/v1/review/outputs/99", headers=team["supervisor"]).status_code == 404
    assert server.get("/api/v1/review/outputs", headers=team["dpo"]).json() == []  # operational: not the DPO's
    assert server.get(f"/api/v1/review/outputs/{oid}", headers=team["dpo"]).status_code == 403


def test_a_decision_is_recorded_once_and_the_breaker_trips_after_it(server, team, store, monkeypatch):
    ids = issue(store, active(server, team), n=3)
    monkeypatch.setenv("LAWFUL_GOV_MIN_DECISIONS", "3")  # the server's threshold: three decisions can trip it
    r = server.post(f"/api/v1/review/outputs/{ids[0]}/decision", json={"decision": "maybe", "reason": "x"},
                    headers=team["supervisor"])
    assert r.status_code == 422
    for i in ids[:2]:
        d = ok(server.post(f"/api/v1/review/outputs/{i}/decision", json={"decision": "rejected", "reason": "wrong"},
                           headers=team["supervisor"]))
        assert d["reviewer"] == "sam" and d["breaches"] == [] and d["model_state"] == "active"
    again = server.post(f"/api/v1/review/outputs/{ids[0]}/decision", json={"decision": "accepted", "reason": "x"},
                        headers=team["supervisor"])
    assert again.status_code == 409 and "already rejected" in again.json()["detail"]
    d = ok(server.post(f"/api/v1/review/outputs/{ids[2]}/decision", json={"decision": "rejected", "reason": "wrong"},
                       headers=team["supervisor"]))
    assert d["suspended"] and d["model_state"] == "suspended" and "misjudgment rate 100%" in d["breaches"][0]
    stats = ok(server.get("/api/v1/review/stats", params={"by": "model"}, headers=team["auditor"]))
    assert stats[0]["who"] == REF and stats[0]["decisions"] == 3 and stats[0]["rejected"] == 3


def test_serious_incidents_and_the_weekly_report(server, team):
    ref = active(server, team)
    body = {"model": ref, "kind": "data-leak", "description": "export mailed to the wrong address",
            "aware_at": "2026-01-05T09:00:00+00:00"}
    assert server.post("/api/v1/serious-incidents", json=dict(body, aware_at="2026-01-05T09:00:00"),
                       headers=team["dpo"]).status_code == 422  # a deadline needs a time zone
    inc = ok(server.post("/api/v1/serious-incidents", json=body, headers=team["dpo"]), 201)
    assert inc["deadline"].startswith("2026-01-20T09:00") and inc["model_state"] == "suspended"
    [row] = ok(server.get("/api/v1/serious-incidents", headers=team["ap1"]))
    assert (row["id"], row["status"]) == (inc["id"], "overdue")
    done = ok(server.post(f"/api/v1/serious-incidents/{inc['id']}/reported", json={"to": "the DPA"},
                          headers=team["dpo"]))
    assert done["status"] == "reported to the DPA"
    assert server.post("/api/v1/serious-incidents/99/reported", json={"to": "x"},
                       headers=team["dpo"]).status_code == 404
    report = ok(server.get("/api/v1/reports/weekly", headers=team["auditor"]))
    assert report["markdown"].startswith("# Weekly monitoring report") and "is suspended" in report["markdown"]
    assert server.get("/api/v1/reports/weekly", params={"week_ending": "soon"},
                      headers=team["auditor"]).status_code == 422
