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
    ("POST", f"{API}/forecast/map"): {"json": {}},
    ("GET", f"{API}/forecast/export/{{layer}}.{{fmt}}"): {"path": {"layer": "places", "fmt": "geojson"}},
    ("POST", f"{API}/forecast/audit"): {"json": {}},
    ("POST", f"{API}/forecast/feedback"): {"json": {}},
    ("POST", f"{API}/forecast/issue"): {"json": {"ref": REF, "purpose": "patrol planning", "day": "2019-12-24"}},
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
    ("POST", f"{API}/patrol/plans"): {"json": {"forecast": 1, "units": [{"name": "u1", "lon": -79.38, "lat": 43.65}]}},
    ("GET", f"{API}/patrol/plans/{{plan_id}}"): {"path": {"plan_id": 1}},
    ("GET", f"{API}/patrol/plans/{{plan_id}}/export"): {"path": {"plan_id": 1}},
    ("POST", f"{API}/patrol/plans/{{plan_id}}/visits"): {"path": {"plan_id": 1},
                                                          "files": {"file": ("v.csv", b"unit,place\n")}},
    ("GET", f"{API}/patrol/plans/{{plan_id}}/dosage"): {"path": {"plan_id": 1}},
}


# Each domain added later keeps its table in tests/web/attack_samples_<domain>.py (SAMPLES, and OPEN for public
# routes), so parallel work on different domains never edits this file.
for _module in sorted(Path(__file__).parent.glob("attack_samples_*.py")):
    import importlib

    _extra = importlib.import_module(f"tests.web.{_module.stem}")
    SAMPLES.update(_extra.SAMPLES)
    OPEN |= getattr(_extra, "OPEN", set())


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
    assert set(api_routes(server.app)) - set(SAMPLES) == set(), "add a sample request for each new route"


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
               server.get(f"{API}/openapi.json"), server.get("/"),
               server.post(f"{API}/models", content=b"{}", headers={**ana, "content-length": str(1 << 40)})]
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
        (G, "/incidents/stats"), (G, "/incidents/quarantine"), (P, "/forecast/run"), (P, "/forecast/map"),
        (G, "/forecast/export/{layer}.{fmt}"), (P, "/forecast/backtests"),
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


# ---- (c) other people's things: jobs, outputs, tokens, enrolments -------------------------------------------------
def test_a_job_is_seen_only_by_its_owner(server, people):
    """An admin neither: the result was computed under the owner's roles, clearance and purpose."""
    ana, eve, adam = people("ana", "analyst"), people("eve", "analyst"), people("adam", "admin", clearance="secret")
    r = send(server, "POST", f"{API}/incidents/loads", ana)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    assert server.get(f"{API}/jobs/{job}", headers=ana).status_code == 200
    assert server.get(f"{API}/jobs/{job}", headers=adam).status_code == 404
    theirs, none = server.get(f"{API}/jobs/{job}", headers=eve), server.get(f"{API}/jobs/{'0' * 16}", headers=eve)
    assert (is_problem(theirs, 404)["detail"].replace(job, "ID")) == is_problem(none, 404)["detail"].replace("0" * 16, "ID")
    assert job not in server.get(f"{API}/me", headers=eve).text


def test_a_sandbox_output_is_refused_to_others_as_a_denial_on_the_trail(server, world, store, people):
    from lawful.governance.models import Output

    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as s:
            out = Output(entry_id=1, kind="forecast", purpose="patrol planning", subject="shadow", issued_by="olga",
                         issued_at=datetime.now(timezone.utc), sandbox=True, payload={"cells": []},
                         explanation=[{"cell": "c1", "sentence": "x"}], status="open")
            s.add(out)
            s.flush()
            oid = out.id
    finally:
        engine.dispose()
    assert server.get(f"{API}/review/outputs/{oid}", headers=world["owner"]).status_code == 200
    for name, h in (("ana", world["analyst"]), ("otto", world["officer"])):  # (model-owners read sandbox outputs)
        for method, route, body in (("GET", f"{API}/review/outputs/{oid}", None),
                                    ("POST", f"{API}/review/outputs/{oid}/decision",
                                     {"decision": "accepted", "reason": "x"})):
            seen = trail_refusals(server, world["dpo"], name)
            r = server.request(method, route, headers=h, json=body)
            assert is_problem(r, 403)["kind"] == "denied"
            assert trail_refusals(server, world["dpo"], name) == seen + 1
        assert all(o["output"] != oid for o in server.get(f"{API}/review/outputs", headers=h).json())


def test_nobody_revokes_or_lists_another_persons_tokens(server, people):
    ana, eve = people("ana", "analyst"), people("eve", "analyst")
    [eves] = [t["id"] for t in server.get(f"{API}/tokens", headers=eve).json()]
    assert all(t["id"] != eves for t in server.get(f"{API}/tokens", headers=ana).json())
    is_problem(server.delete(f"{API}/tokens/{eves}", headers=ana), 404)
    assert server.get(f"{API}/me", headers=eve).status_code == 200  # still works
    assert server.delete(f"{API}/tokens/{eves}", headers=people("adam", "admin")).status_code == 204
    is_problem(server.get(f"{API}/me", headers=eve), 401)


def test_nobody_enrols_as_someone_else(server, people):
    adam = people("adam", "admin")
    mine = server.post(f"{API}/users", json={"name": "mallory", "roles": ["analyst"]}, headers=adam).json()
    theirs = server.post(f"{API}/users", json={"name": "alice", "roles": ["approver"]}, headers=adam).json()
    ana = people("ana", "analyst")  # enrolled by token only: no code anyone knows
    for name, code in (("alice", mine["enrolment_code"]), ("ana", mine["enrolment_code"]),
                       ("alice", theirs["enrolment_code"].lower() + "X"), ("ana", "")):
        r = server.post(f"{API}/enrolment", json={"name": name, "code": code or "A", "password": "p" * 14})
        assert is_problem(r, 401)["kind"] == "unauthenticated"
    assert server.get(f"{API}/me", headers=ana).status_code == 200
    ok = server.post(f"{API}/enrolment", json={"name": "alice", "code": theirs["enrolment_code"], "password": "p" * 14})
    assert ok.status_code == 200 and ok.json()["otpauth_uri"].startswith("otpauth://")
    again = server.post(f"{API}/enrolment", json={"name": "alice", "code": theirs["enrolment_code"],
                                                  "password": "q" * 14})
    is_problem(again, 401)  # a code works once


# ---- (d) a read-scoped token reads, and does nothing else -----------------------------------------------------------
def test_a_read_token_makes_no_request_but_reads(server, people, store):
    full = people("ana", "analyst")
    r = server.post(f"{API}/tokens", json={"label": "dashboards", "scope": "read"}, headers=full)
    assert r.status_code == 201, r.text
    read = {"Authorization": f"Bearer {r.json()['token']}"}
    assert server.get(f"{API}/me", headers=read).status_code == 200
    dpo = people("dora", "dpo")
    before = store_fingerprint(store)
    writes = [(m, p) for m, p in api_routes(server.app) if m not in ("GET", "HEAD") and (m, p) not in OPEN
              and (m, p) != ("DELETE", f"{API}/session")]
    assert len(writes) > 40
    for method, route in writes:
        seen = len(deny_log(server, dpo, by="ana"))
        body = is_problem(send(server, method, route, read), 403)
        assert body["kind"] == "denied" and "read-only" in body["detail"], (method, route, body)
        assert len(deny_log(server, dpo, by="ana")) == seen + 1, (method, route)
    assert store_fingerprint(store) == before
    assert server.get(f"{API}/me", headers=read).status_code == 200
    assert server.delete(f"{API}/session", headers=read).status_code == 204  # but it may end itself
    assert server.get(f"{API}/me", headers=read).status_code == 401


# ---- (e) a revoked, expired or disabled person's token stops at once ------------------------------------------------
def _fresh(server, headers) -> tuple[dict, int]:
    r = server.post(f"{API}/tokens", json={"label": "x"}, headers=headers)
    assert r.status_code == 201, r.text
    tid = max(t["id"] for t in server.get(f"{API}/tokens", headers=headers).json())
    return {"Authorization": f"Bearer {r.json()['token']}"}, tid


def _stopped(server, h) -> None:
    for method, path in (("GET", f"{API}/me"), ("GET", f"{API}/jobs/{'0' * 16}"), ("GET", f"{API}/models"),
                         ("POST", f"{API}/tokens")):
        r = server.request(method, path, headers=h, json={"label": "again"} if method == "POST" else None)
        assert is_problem(r, 401)["kind"] == "unauthenticated", (method, path)


def test_a_revoked_token_stops_at_once(server, people):
    ana = people("ana", "analyst")
    h, tid = _fresh(server, ana)
    assert server.get(f"{API}/me", headers=h).status_code == 200
    assert server.delete(f"{API}/tokens/{tid}", headers=ana).status_code == 204
    _stopped(server, h)
    s = server.post(f"{API}/tokens", json={"label": "s"}, headers=ana).json()["token"]  # signing out ends its token
    assert server.delete(f"{API}/session", headers={"Authorization": f"Bearer {s}"}).status_code == 204
    _stopped(server, {"Authorization": f"Bearer {s}"})


def test_an_expired_token_stops_at_once(server, people, store):
    from sqlalchemy import update

    from lawful.access.models import Token

    h, tid = _fresh(server, people("ana", "analyst"))
    assert server.get(f"{API}/me", headers=h).status_code == 200
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as s:
            s.execute(update(Token).where(Token.id == tid).values(
                expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    finally:
        engine.dispose()
    _stopped(server, h)


@pytest.mark.parametrize("how", ["disable", "reset", "roles"])
def test_a_disabled_reset_or_re_roled_persons_tokens_stop_at_once(server, people, how):
    adam, victim = people("adam", "admin"), people("victim", "analyst")
    second, _ = _fresh(server, victim)
    assert server.get(f"{API}/me", headers=second).status_code == 200
    if how == "disable":
        r = server.post(f"{API}/users/victim/disable", json={"reason": "left"}, headers=adam)
    elif how == "reset":
        r = server.post(f"{API}/users/victim/reset", headers=adam)
    else:  # roles are read on every request: what the old roles allowed stops at once
        assert server.get(f"{API}/incidents/stats", headers=second).status_code == 200
        r = server.put(f"{API}/users/victim/roles", json={"roles": ["officer"]}, headers=adam)
        assert r.status_code == 200, r.text
        assert is_problem(server.get(f"{API}/incidents/stats", headers=second), 403)["kind"] == "denied"
        assert server.get(f"{API}/me", headers=victim).json()["roles"] == ["officer"]
        return
    assert r.status_code == 200, r.text
    _stopped(server, victim)
    _stopped(server, second)
    if how == "disable":
        assert server.post(f"{API}/users/victim/enable", json={"reason": "back"}, headers=adam).status_code == 200
        _stopped(server, victim)  # enabling brings no old token back


# ---- (i) huge and deeply nested bodies: a 4xx problem, never a 5xx, before any work ---------------------------------
def _posts(app) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_routes(app) if m in ("POST", "PUT")]


def test_a_body_larger_than_the_route_takes_is_a_413_before_it_is_read(server, people, store):
    ana = people("ana", "analyst")
    before = store_fingerprint(store)
    for method, route in _posts(server.app):
        sample = SAMPLES[(method, route)]
        path = route.format(**sample.get("path", {}))
        for headers in ({}, ana):  # a claimed 64 GB: refused on the header, before a byte is read
            r = server.request(method, path, content=b"{}", headers={**headers, "content-type": "application/json",
                                                                    "content-length": str(64 << 30)})
            is_problem(r, 413)
    assert store_fingerprint(store) == before


def test_a_streamed_body_over_the_limit_is_a_413(server, people):
    from lawful.web.app import BODY_LIMIT

    def chunks():
        block = b" " * (1 << 20)
        for _ in range(BODY_LIMIT // len(block) + 2):
            yield block

    r = server.post(f"{API}/models", content=chunks(), headers={**people("olga", "model-owner"),
                                                                "content-type": "application/json"})
    is_problem(r, 413)


@pytest.mark.parametrize("depth", [40, 5_000, 200_000])
def test_deeply_nested_json_is_a_4xx_problem_on_every_route(server, people, depth):
    ana = people("ana", "analyst")
    nested = ("[" * depth + "]" * depth).encode()
    wrapped = b'{"text": ' + nested + b', "bundle": ' + nested + b"}"
    for method, route in _posts(server.app):
        sample = SAMPLES[(method, route)]
        path = route.format(**sample.get("path", {}))
        for body in (nested, wrapped):
            r = server.request(method, path, content=body, headers={**ana, "content-type": "application/json"})
            assert 400 <= r.status_code < 500, (method, path, depth, r.status_code, r.text[:200])
            assert r.headers["content-type"] == "application/problem+json", (method, path, r.headers)


# ---- (f) the server opens no path a client names ---------------------------------------------------------------------
def test_file_names_a_client_sends_are_never_opened_on_the_server(server, people, tmp_path):
    secret = tmp_path / "server-only.txt"
    secret.write_text("TOPSECRET-CONTENT")
    ana, olga = people("ana", "analyst"), people("olga", "model-owner")
    named = RULES.replace("[ruleset]\n", f'[ruleset]\nzones = "{secret}"\n', 1)
    assert str(secret) in named
    answers = [
        server.post(f"{API}/rules/check", headers=ana, json={"bundle": {"name": str(secret), "rules": named}}),
        server.post(f"{API}/rules/runs", headers=ana, json={"bundle": {"name": "r.toml", "rules": RULES},
                                                            "events": {"name": str(secret), "text": ""}}),
        server.post(f"{API}/models", headers=olga, json={"source": str(secret), "text": ""}),
        server.post(f"{API}/incidents/loads", headers=ana, files={"file": (str(secret), b""),
                                                                  "mapping": ("../../" + str(secret), b"")}),
        server.post(f"{API}/privacy/fields", headers=people("dora", "dpo"),
                    json={"mappings": [{"name": str(secret), "text": ""}]}),
    ]
    assert "was not sent with it" in is_problem(answers[0], 422)["detail"]
    for r in answers:
        assert r.status_code < 500 and "TOPSECRET" not in r.text, (r.request.url.path, r.status_code, r.text[:200])
