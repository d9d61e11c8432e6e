"""The server tried as an attacker would: every route behind the door (no token, a garbage token), every refusal the
shipped policy makes (403, on the trail), other people's jobs, outputs, requests and tokens (IDOR), read-scoped,
revoked, expired and disabled tokens, security headers and problem+json on every answer, huge and deeply nested
bodies. The route tables are checked against the application's routes, so a new route without an entry fails."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from lawful import db
from tests.conftest import TEST_MAPPING, store_fingerprint

ROOT = Path(__file__).resolve().parents[2]
CARD = (ROOT / "examples" / "governance" / "demo-forecaster.toml").read_text().replace("demo-owner", "olga")
FRIA = (ROOT / "examples" / "governance" / "demo-forecaster-fria.toml").read_text()
RULES = (ROOT / "examples" / "rules" / "near-repeat.toml").read_text()
REF = "toronto-bne-forecaster:1"
API = "/api/v1"
WHEN = {"start": "2019-01-01T00:00:00Z", "end": "2019-12-31T00:00:00Z"}
CSV = b"id,offence,when,lat,lon,hood,premises,weapon,victim_name\nA1,Robbery,2019-03-01 22:15,43.65,-79.38,Dt,House,none,\n"

# Open without a token, as docs/server.md says (and the OpenAPI description, which says only what the code does).
OPEN = {("GET", "/health"), ("POST", f"{API}/session"), ("POST", f"{API}/enrolment"), ("GET", f"{API}/datasets"),
        ("GET", f"{API}/openapi.json"), ("HEAD", f"{API}/openapi.json")}

# (method, route) -> a request that passes admission (so the door, not the schema, is what answers).
SAMPLES: dict[tuple[str, str], dict] = {
    ("GET", "/health"): {},
    ("GET", f"{API}/openapi.json"): {},
    ("HEAD", f"{API}/openapi.json"): {},
    ("POST", f"{API}/session"): {"json": {"name": "nobody", "password": "x" * 12}},
    ("DELETE", f"{API}/session"): {},
    ("GET", f"{API}/me"): {},
    ("GET", f"{API}/jobs/{{job_id}}"): {"path": {"job_id": "0123456789abcdef"}},
    ("GET", f"{API}/incidents/stats"): {},
    ("GET", f"{API}/incidents/quarantine"): {},
    ("POST", f"{API}/incidents/loads"): {"files": {"file": ("x.csv", CSV), "mapping": ("m.toml", TEST_MAPPING)}},
    ("GET", f"{API}/datasets"): {},
    ("POST", f"{API}/datasets/{{name}}/load"): {"path": {"name": "toronto-mci"}},
    ("GET", f"{API}/audit/log"): {},
    ("GET", f"{API}/audit/verify"): {},
    ("POST", f"{API}/audit/export"): {},
    ("GET", f"{API}/models"): {},
    ("POST", f"{API}/models"): {"json": {"source": "card.toml", "text": CARD}},
    ("POST", f"{API}/models/monitor"): {},
    ("GET", f"{API}/models/{{ref}}/card"): {"path": {"ref": REF}},
    ("POST", f"{API}/models/{{ref}}/attachments"): {"path": {"ref": REF},
                                                     "json": {"fria": {"source": "f.toml", "text": FRIA}}},
    ("POST", f"{API}/models/{{ref}}/submit"): {"path": {"ref": REF}},
    ("POST", f"{API}/models/{{ref}}/approve"): {"path": {"ref": REF},
                                                 "json": {"reason": "x", "purposes": ["patrol planning"]}},
    ("POST", f"{API}/models/{{ref}}/refuse"): {"path": {"ref": REF}, "json": {"reason": "x"}},
    ("POST", f"{API}/models/{{ref}}/activate"): {"path": {"ref": REF}},
    ("POST", f"{API}/models/{{ref}}/suspend"): {"path": {"ref": REF}, "json": {"reason": "x"}},
    ("POST", f"{API}/models/{{ref}}/reinstate"): {"path": {"ref": REF}, "json": {"reason": "x"}},
    ("POST", f"{API}/models/{{ref}}/retire"): {"path": {"ref": REF}, "json": {"reason": "x"}},
    ("GET", f"{API}/review/outputs"): {},
    ("GET", f"{API}/review/outputs/{{output_id}}"): {"path": {"output_id": 1}},
    ("POST", f"{API}/review/outputs/{{output_id}}/decision"): {"path": {"output_id": 1},
                                                                "json": {"decision": "accepted", "reason": "x"}},
    ("GET", f"{API}/review/stats"): {},
    ("GET", f"{API}/serious-incidents"): {},
    ("POST", f"{API}/serious-incidents"): {"json": {"model": REF, "kind": "harm", "description": "x",
                                                    "keep_running": "a test"}},
    ("POST", f"{API}/serious-incidents/{{incident_id}}/reported"): {"path": {"incident_id": 1}, "json": {"to": "x"}},
    ("GET", f"{API}/reports/weekly"): {},
    ("POST", f"{API}/forecast/backtests"): {"json": {}},
    ("POST", f"{API}/forecast/run"): {"json": {}},
    ("POST", f"{API}/forecast/audit"): {"json": {}},
    ("POST", f"{API}/forecast/feedback"): {"json": {}},
    ("POST", f"{API}/forecast/issue"): {"json": {"ref": REF, "purpose": "patrol planning"}},
    ("GET", f"{API}/users"): {},
    ("POST", f"{API}/users"): {"json": {"name": "newbie", "roles": ["analyst"]}},
    ("POST", f"{API}/users/{{name}}/disable"): {"path": {"name": "victim"}, "json": {"reason": "x"}},
    ("POST", f"{API}/users/{{name}}/enable"): {"path": {"name": "victim"}, "json": {"reason": "x"}},
    ("POST", f"{API}/users/{{name}}/reset"): {"path": {"name": "victim"}},
    ("PUT", f"{API}/users/{{name}}/roles"): {"path": {"name": "victim"}, "json": {"roles": ["admin"]}},
    ("POST", f"{API}/enrolment"): {"json": {"name": "nobody", "code": "AAAA", "password": "x" * 12}},
    ("GET", f"{API}/tokens"): {},
    ("POST", f"{API}/tokens"): {"json": {"label": "x"}},
    ("DELETE", f"{API}/tokens/{{token_id}}"): {"path": {"token_id": 1}},
    ("GET", f"{API}/access/policy"): {},
    ("GET", f"{API}/access/check"): {"params": {"action": "audit.read", "purpose": "governance"}},
    ("GET", f"{API}/access/denials"): {},
    ("POST", f"{API}/privacy/reidentify"): {"json": {"field": "victim_name", "value": "Jane Roe",
                                                     "purpose": "investigation"}},
    ("GET", f"{API}/privacy/retention"): {},
    ("POST", f"{API}/privacy/purge"): {"json": {"dry_run": True}},
    ("POST", f"{API}/privacy/holds"): {"json": {"reason": "x", "occurred_from": WHEN["start"],
                                                "occurred_to": WHEN["end"]}},
    ("POST", f"{API}/privacy/holds/{{hold_id}}/release"): {"path": {"hold_id": 1}},
    ("POST", f"{API}/privacy/fields"): {"json": {"mappings": [{"name": "m.toml", "text": TEST_MAPPING}]}},
    ("POST", f"{API}/privacy/requests"): {"json": {"kind": "access", "field": "victim_name", "value": "Jane Roe"}},
    ("GET", f"{API}/privacy/requests"): {},
    ("POST", f"{API}/privacy/requests/{{request_id}}/export"): {"path": {"request_id": 1}},
    ("POST", f"{API}/privacy/requests/{{request_id}}/deletion"): {"path": {"request_id": 1}},
    ("POST", f"{API}/privacy/requests/{{request_id}}/correction"): {
        "path": {"request_id": 1}, "json": {"incident": 1, "field": "category", "value": "Robbery"}},
    ("POST", f"{API}/privacy/breaches"): {"json": {"description": "x", **WHEN}},
    ("GET", f"{API}/privacy/breaches"): {},
    ("POST", f"{API}/privacy/breaches/{{breach_id}}/notified"): {"path": {"breach_id": 1}, "json": {"to": "x"}},
    ("POST", f"{API}/rules/check"): {"json": {"bundle": {"name": "near-repeat.toml", "rules": RULES}}},
    ("POST", f"{API}/rules/runs"): {"json": {"bundle": {"name": "near-repeat.toml", "rules": RULES},
                                             "start": "2019-06-01", "end": "2019-06-15"}},
    ("GET", f"{API}/rules/verdicts"): {"params": {"rule": "r1"}},
}


def api_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the application answers, but the browser console's (a cookie session of its own,
    tested in tests/web/console)."""
    found = []
    for rc in iter_route_contexts(app.routes):
        path = rc.path
        if path is None or path.startswith("/console"):
            continue
        for method in sorted(rc.methods or ()):
            found.append((method, path))
    return found


def send(server, method: str, route: str, headers: dict | None = None, **override):
    sample = {**SAMPLES[(method, route)], **override}
    path = route.format(**sample.get("path", {}))
    return server.request(method, path, headers=headers or {}, json=sample.get("json"), files=sample.get("files"),
                          params=sample.get("params"))


def is_problem(r, status: int) -> dict:
    assert r.status_code == status, (r.request.method, r.request.url.path, r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json", (r.request.url.path, r.headers["content-type"])
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def deny_log(server, dpo, **params) -> list[dict]:
    r = server.get(f"{API}/audit/log", params={"action": "access.deny", "limit": 1000, **params}, headers=dpo)
    assert r.status_code == 200, r.text
    return r.json()


# ---- (a) the door: no route answers without a valid token but the open ones --------------------------------------
def test_every_route_is_in_the_tables(server):
    assert set(api_routes(server.app)) == set(SAMPLES)


def test_no_route_but_the_open_ones_answers_without_a_valid_token(server, people, store):
    dpo = people("dora", "dpo")
    before = store_fingerprint(store)
    refused = []
    for method, route in api_routes(server.app):
        if (method, route) in OPEN:
            continue
        for headers in ({}, {"Authorization": "Bearer garbage-token"}, {"Authorization": "Basic YWxpY2U6cHc="},
                        {"Authorization": "Bearer " + "x" * 5000}):
            r = send(server, method, route, headers)
            body = is_problem(r, 401)
            assert body["kind"] == "unauthenticated" and r.headers["www-authenticate"].startswith("Bearer")
            refused.append(r.request.url.path)
    assert store_fingerprint(store) == before  # nothing changed but the trail
    recorded = [e["object"] for e in deny_log(server, dpo, by="anonymous")]
    assert sorted(recorded) == sorted(f"api:{p}" for p in refused)


def test_the_open_routes_answer_without_a_token(server):
    assert server.get("/health").status_code == 200
    assert server.get(f"{API}/datasets").status_code == 200
    assert server.get(f"{API}/openapi.json").status_code == 200
    is_problem(send(server, "POST", f"{API}/session"), 401)  # a failed sign-in, not a missing token
    is_problem(send(server, "POST", f"{API}/enrolment"), 401)


# ---- (g) and (h): headers on every answer, problem+json for unknown routes and methods ---------------------------
def test_security_headers_on_every_answer_including_errors(server, people):
    ana = people("ana", "analyst")
    answers = [server.get("/health"), server.get(f"{API}/me", headers=ana), server.get(f"{API}/me"),
               server.get(f"{API}/audit/log", headers=ana), server.get(f"{API}/no-such-route"),
               server.put("/health"), server.post(f"{API}/models", json={"text": 1}, headers=ana),
               server.post(f"{API}/models", content=b"{not json", headers={**ana, "content-type": "application/json"}),
               server.get(f"{API}/openapi.json"), server.get("/")]
    for r in answers:
        for name in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy",
                     "cache-control"):
            assert name in r.headers, (r.request.url.path, r.status_code, name)
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("method, path, status", [
    ("GET", f"{API}/no-such-route", 404), ("GET", "/nothing/here", 404), ("GET", "/", 404),
    ("PUT", "/health", 405), ("DELETE", f"{API}/models", 405), ("PATCH", f"{API}/me", 405),
    ("GET", f"{API}/tokens/1", 405),
])
def test_unknown_routes_and_methods_are_problems(server, people, method, path, status):
    for headers in ({}, people("ana", "analyst")):
        r = server.request(method, path, headers=headers)
        is_problem(r, status)
        assert "traceback" not in r.text.lower()
    if status == 405:
        assert r.headers["allow"]


def test_malformed_json_is_a_4xx_problem(server, people):
    ana = people("ana", "analyst")
    for body in (b"{not json", b"\xff\xfe", b"[]", b"null", b'"x"', b"1e999999"):
        r = server.post(f"{API}/models", content=body, headers={**ana, "content-type": "application/json"})
        assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/problem+json", r.text


# ---- (b) authorisation: every refusal the shipped policy makes is a 403 on the trail, and changes nothing ---------
SECRET_MAPPING = TEST_MAPPING.replace('classification = "internal"', 'classification = "secret"')


@pytest.fixture
def world(server, people, store, tmp_path):
    """Secret incidents, an active high-risk model with one open output, an open subject request and a breach; the
    people who act on them, each with internal clearance unless said."""
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file
    from tests.conftest import GOOD_ROWS, HEADER, write_csv
    from tests.web.test_governance import active, issue

    (tmp_path / "m.toml").write_text(SECRET_MAPPING)
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as session:
            ingest_file(session, path=write_csv(tmp_path / "s.csv", GOOD_ROWS, HEADER),
                        mapping=load_mapping(tmp_path / "m.toml"), settings=store, actor="test-setup")
    finally:
        engine.dispose()
    team = {"owner": people("olga", "model-owner"), "ap1": people("ada", "approver"),
            "ap2": people("ben", "approver"), "analyst": people("ana", "analyst"),
            "supervisor": people("sam", "supervisor"), "dpo": people("dora", "dpo", clearance="secret"),
            "auditor": people("aud", "auditor"), "officer": people("otto", "officer"),
            "admin": people("adam", "admin"), "victim": people("victim", "analyst")}
    active(server, team)
    [oid] = issue(store, REF, who="sam")
    assert oid == 1
    r = send(server, "POST", f"{API}/privacy/requests", team["dpo"])
    assert r.status_code == 201 and r.json()["id"] == 1, r.text
    return team


def trail_refusals(server, dpo, name: str) -> int:
    return sum(len([e for e in deny_log(server, dpo, by=name, action=a)]) for a in ("access.deny", "gate.refuse"))


G, P = "GET", "POST"
REFUSED = {  # person -> the routes the shipped policy refuses them (with the world above)
    "ana": [  # an analyst with internal clearance: nothing secret, nothing of the trail, people or privacy
        (G, "/incidents/stats"), (G, "/incidents/quarantine"), (P, "/forecast/run"), (P, "/forecast/backtests"),
        (P, "/forecast/audit"), (P, "/forecast/feedback"), (P, "/forecast/issue"), (P, "/rules/check"),
        (P, "/rules/runs"), (P, "/privacy/reidentify"), (P, "/datasets/{name}/load"),
        (G, "/audit/log"), (G, "/audit/verify"), (P, "/audit/export"), (G, "/access/denials"),
        (G, "/users"), (P, "/users"), (P, "/users/{name}/disable"), (P, "/users/{name}/enable"),
        (P, "/users/{name}/reset"), ("PUT", "/users/{name}/roles"),
        (P, "/models"), (P, "/models/{ref}/approve"), (P, "/models/{ref}/activate"), (P, "/models/{ref}/suspend"),
        (P, "/models/{ref}/retire"), (P, "/models/{ref}/reinstate"),
        (G, "/serious-incidents"), (P, "/serious-incidents"), (G, "/reports/weekly"),
        (G, "/privacy/retention"), (P, "/privacy/purge"), (P, "/privacy/holds"), (P, "/privacy/holds/{hold_id}/release"),
        (P, "/privacy/fields"), (P, "/privacy/requests"), (G, "/privacy/requests"),
        (P, "/privacy/requests/{request_id}/export"), (P, "/privacy/requests/{request_id}/deletion"),
        (P, "/privacy/requests/{request_id}/correction"), (P, "/privacy/breaches"), (G, "/privacy/breaches"),
        (P, "/privacy/breaches/{breach_id}/notified")],
    "otto": [  # an officer: decides on outputs, never reads the trail or the incidents
        (G, "/audit/log"), (G, "/audit/verify"), (P, "/audit/export"), (G, "/access/denials"),
        (G, "/incidents/stats"), (P, "/forecast/run"), (P, "/forecast/issue"), (P, "/rules/runs"),
        (P, "/privacy/reidentify"), (G, "/privacy/requests")],
    "aud": [  # an auditor reads the trail and never issues, decides or reads operational outputs
        (P, "/forecast/issue"), (G, "/review/outputs/{output_id}"), (P, "/review/outputs/{output_id}/decision"),
        (G, "/incidents/stats"), (P, "/forecast/run"), (P, "/rules/runs"),
        (P, "/privacy/reidentify"), (P, "/models/{ref}/approve"), (P, "/users"),
        (P, "/privacy/requests/{request_id}/export")],
    "olga": [  # the model's owner may not approve it, issue operationally or decide
        (P, "/models/{ref}/approve"), (P, "/forecast/issue"), (P, "/review/outputs/{output_id}/decision"),
        (G, "/audit/log"), (P, "/users")],
    "ada": [(P, "/models"), (G, "/audit/log"), (P, "/forecast/issue"), (G, "/incidents/stats")],  # an approver
    "sam": [(P, "/privacy/reidentify"), (G, "/incidents/stats"), (G, "/audit/log")],  # a supervisor, internal
    "adam": [(G, "/incidents/stats"), (G, "/audit/log"), (P, "/models/{ref}/approve"),  # an admin, internal
             (G, "/privacy/requests"), (P, "/privacy/reidentify")],
    "dora": [(G, "/incidents/stats"), (P, "/forecast/issue"), (P, "/privacy/reidentify"),  # a DPO, even secret
             (P, "/review/outputs/{output_id}/decision"), (P, "/users"), (P, "/models")],
}
ROLE_OF = {"ana": "analyst", "otto": "officer", "aud": "auditor", "olga": "owner", "ada": "ap1", "sam": "supervisor",
           "adam": "admin", "dora": "dpo"}


def test_the_refusal_tables_name_real_routes():
    for person, routes in REFUSED.items():
        for method, route in routes:
            assert (method, API + route) in SAMPLES, (person, method, route)


@pytest.mark.parametrize("person", sorted(REFUSED))
def test_every_refusal_of_the_policy_is_a_403_on_the_trail_and_changes_nothing(server, world, store, person):
    h, dpo = world[ROLE_OF[person]], world["dpo"]
    before = store_fingerprint(store)
    for method, route in REFUSED[person]:
        seen = trail_refusals(server, dpo, person)
        r = send(server, method, API + route, h)
        body = is_problem(r, 403)
        assert body["kind"] == "denied", body
        assert trail_refusals(server, dpo, person) == seen + 1, (method, route, "refusal not on the trail")
    assert store_fingerprint(store) == before
