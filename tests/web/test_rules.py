"""The rules API: rule, zone and event files arrive as text (the server opens no path a client names); reading the
store needs incidents.read and is on the trail in the caller's name; alerts leave only through the gate, and only
from the approved file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lawful.governance import registry
from tests.conftest import _token_of, approved_fingerprint, store_fingerprint
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture)
from tests.web.test_forecast import finished, log

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"
BIRDS = EXAMPLES / "bird-catching.toml"
NEAR = EXAMPLES / "near-repeat.toml"
OBSERVATIONS = EXAMPLES / "bird-observations.jsonl"


def bundle(path: Path, text: str | None = None) -> dict:
    """What the CLI sends: the rule file's text and the zone file it names, keyed as the rule file writes it."""
    text = path.read_text() if text is None else text
    zones = {}
    if 'zones = "' in text:
        name = text.split('zones = "', 1)[1].split('"', 1)[0]
        zones[name] = (path.parent / name).read_text()
    return {"name": path.name, "rules": text, "zones": zones}


def events() -> dict:
    return {"name": OBSERVATIONS.name, "text": OBSERVATIONS.read_text()}


def headers(store, name: str) -> dict:
    return {"Authorization": f"Bearer {_token_of(store, name)}"}


STORE_RUN = {"bundle": bundle(NEAR), "start": "2019-06-01", "end": "2019-06-15"}


def test_a_run_over_stored_incidents_is_a_job_and_development_in_the_callers_name(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/rules/runs", json=STORE_RUN, headers=ana)
    assert r.status_code == 202, r.text
    result = finished(server, ana, r.json())
    assert result["ruleset"] == "toronto-near-repeat" and result["engine"] == "batch" and result["events"] > 0
    assert result["sha256"] == hashlib.sha256(NEAR.read_bytes()).hexdigest()
    assert len(result["alerts"]) == len(result["sentences"]) == sum(result["per_rule"].values()) > 0
    assert all(a["time"] >= "2019-06-01" for a in result["alerts"]) and result["issued"] is None
    assert result["sentences"][0].startswith(f"{result['alerts'][0]['rule']} v1 -> ")
    [entry] = log(server, people("dee", "dpo"), "development")
    assert (entry["actor"], entry["object"], entry["purpose"]) == ("ana", "incidents", "crime analysis")
    assert entry["details"]["analysis"] == "rules run toronto-near-repeat"


def test_a_role_without_incidents_read_gets_a_403_on_the_trail_and_nothing_runs(loaded, server, people):  # noqa: F811
    dpo = people("dee", "dpo")
    before = store_fingerprint(loaded)
    r = server.post("/api/v1/rules/runs", json=STORE_RUN, headers=dpo)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "incidents.read" in r.json()["detail"]
    r = server.post("/api/v1/rules/check", json={"bundle": bundle(NEAR)}, headers=dpo)
    assert r.status_code == 403
    denials = log(server, dpo, "access.deny")
    assert [(d["actor"], d["details"]["action"]) for d in denials] == [("dee", "incidents.read")] * 2
    assert log(server, dpo, "development") == [] and store_fingerprint(loaded) == before


@pytest.mark.parametrize("change, says", [
    ({"engine": "quantum"}, "engine"),
    ({"lateness_s": float("inf")}, "lateness_s"),
    ({"lateness_s": -1}, "lateness_s"),
    ({"start": "2019-06-31"}, "start"),
    ({"end": None}, "needs --start and --end"),
    ({"start": "2019-06-15", "end": "2019-06-01"}, "is not before --end"),
    ({"issue": "../etc/passwd"}, "issue"),
    ({"path": "/etc/passwd"}, "path"),  # there is no way to name a file on the server
    ({"bundle": {"name": "r.toml", "rules": NEAR.read_text().replace("within 200 m", "within 200 parsecs")}},
     "r.toml:"),
    ({"bundle": {"name": "b.toml", "rules": BIRDS.read_text()}},
     "b.toml names the zone file 'zones/mountain-forest.geojson', which was not sent with it"),
    ({"bundle": {**bundle(BIRDS), "zones": {"zones/mountain-forest.geojson": "[]"}}},
     "not a GeoJSON FeatureCollection"),
    ({"events": {"name": "e.jsonl", "text": OBSERVATIONS.read_text().replace('"lat": ', '"lat": 95.0, "x": ', 1)},
      "bundle": bundle(BIRDS)}, "e.jsonl row 1, field lat (95.0)"),
    ({"events": {"name": "e.xlsx", "text": "x"}, "bundle": bundle(BIRDS)}, "unknown event file type"),
])
def test_bad_input_is_a_422_naming_what_is_wrong_and_writes_nothing(loaded, server, people, change, says):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/rules/runs", content=json.dumps({**STORE_RUN, **change}),  # Infinity as Python sends it
                    headers={**ana, "content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert says in r.json()["detail"]
    assert log(server, people("dee", "dpo"), "development") == []


def test_check_names_values_the_store_never_saw_as_a_consultation(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    text = NEAR.read_text().replace("'Break and Enter'", "'Break and enter'", 1)
    r = server.post("/api/v1/rules/check", json={"bundle": bundle(NEAR, text), "purpose": "patrol planning"},
                    headers=ana)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "toronto-near-repeat" and body["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    [w] = body["warnings"]
    assert (w["value"], w["closest"], w["field"]) == ("Break and enter", "Break and Enter", "category")
    [entry] = [e for e in log(server, people("dee", "dpo"), "consultation") if e["object"] == "incidents:values"]
    assert (entry["actor"], entry["purpose"], entry["details"]["warnings"]) == ("ana", "patrol planning", 1)


@pytest.fixture
def birds(loaded):  # noqa: F811
    """The bird rules registered with the example file's SHA-256, approved for patrol planning, active."""
    from tests.governance.conftest import Gov

    gov = Gov(loaded)
    try:
        ref = gov.register(tier="medium", kind="rule-set", name="bird-rules",
                           rules={"sha256": approved_fingerprint(BIRDS)})
        gov.step(registry.submit, ref, "owner", thresholds=gov.t)
        gov.approve(ref, "ap1")
        gov.step(registry.activate, ref, "owner")
        yield gov, ref
    finally:
        gov.engine.dispose()


def test_alerts_leave_through_the_gate_only_from_the_approved_file(birds, server):
    gov, ref = birds
    store = gov.settings
    analyst, dpo = headers(store, "analyst"), headers(store, "dpo")
    body = {"bundle": bundle(BIRDS), "events": events(), "issue": ref.split(":")[0], "purpose": "patrol planning"}
    changed = {**body, "bundle": bundle(BIRDS, BIRDS.read_text().replace("threshold = 0.7", "threshold = 0.6"))}
    r = server.post("/api/v1/rules/runs", json=changed, headers=analyst)
    assert r.status_code == 422 and "is not what bird-rules:1 was approved with" in r.json()["detail"]
    assert log(server, dpo, "output.issue") == []
    r = server.post("/api/v1/rules/runs", json=body, headers=analyst)
    assert r.status_code == 202, r.text
    result = finished(server, analyst, r.json())
    ids = result["issued"]["ids"]
    assert result["issued"]["ref"] == ref and len(ids) == len(result["alerts"]) > 10
    issued = log(server, dpo, "output.issue")
    assert len(issued) == len(ids) and {e["actor"] for e in issued} == {"analyst"}
    officer = headers(store, "officer")
    verdicts = ("confirmed", "false-alarm", "unclear")
    for i, verdict in zip(ids, verdicts):
        r = server.post(f"/api/v1/review/outputs/{i}/decision", headers=officer,
                        json={"decision": verdict, "reason": "checked on patrol"})
        assert r.status_code == 200, r.text
    rule = result["alerts"][0]["rule"]
    r = server.get("/api/v1/rules/verdicts", params={"rule": rule}, headers=analyst)
    assert r.status_code == 200, r.text
    got = r.json()
    assert sorted(v["verdict"] for v in got) == sorted(v for a, v in zip(result["alerts"], verdicts) if a["rule"] == rule)
    assert {v["rule"] for v in got} == {rule} and all(len(v["held"]) == len(result["alerts"][0]["conditions"]) for v in got)
    [read] = [e for e in log(server, dpo, "consultation") if e["object"] == f"verdicts:{rule}"]
    assert (read["actor"], read["purpose"]) == ("analyst", "patrol planning")
    r = server.get("/api/v1/rules/verdicts", params={"rule": rule}, headers=dpo)  # the dpo reads no outputs
    assert r.status_code == 403 and "outputs.read" in r.json()["detail"]


def test_a_suspended_rule_set_is_a_403_with_the_refusal_on_the_trail(birds, server):
    gov, ref = birds
    gov.step(registry.suspend, ref, "dpo", reason="complaint")
    store = gov.settings
    r = server.post("/api/v1/rules/runs", headers=headers(store, "analyst"), json={
        "bundle": bundle(BIRDS), "events": events(), "issue": ref, "purpose": "patrol planning"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "suspended: complaint" in r.json()["detail"]
    dpo = headers(store, "dpo")
    [refusal] = log(server, dpo, "gate.refuse")
    assert refusal["actor"] == "analyst" and refusal["details"]["kind"] == "alert"
    assert log(server, dpo, "output.issue") == []
