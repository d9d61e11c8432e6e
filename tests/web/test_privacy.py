"""The privacy endpoints: re-identification, retention, holds, purge, the minimisation report, data-subject requests
and breaches, each decided by the policy and on the trail in the caller's name; refusals are problem+json and on
the trail; bad input is a 422 naming the field."""

from __future__ import annotations

import json

from lawful.limits import CONFIG_BYTES
from tests.privacy.common import MAPPING, ingest, total

API = "/api/v1"


def trail(server, people, **params) -> list[dict]:
    r = server.get(f"{API}/audit/log", params={"limit": 200, **params}, headers=people("dora", "dpo"))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_subject_access_request_from_opening_to_the_export(server, people, store, tmp_path):
    ingest(store, tmp_path)  # Jane Roe is the victim in A1 and (spelt "jane  roe") A3
    dpo, sue = people("dora", "dpo"), people("sue", "supervisor")
    r = server.post(f"{API}/privacy/reidentify", headers=sue,
                    json={"field": "victim_name", "value": "JANE ROE", "purpose": "investigation 2026-0412"})
    assert r.status_code == 200, r.text
    assert sorted(m["category"] for m in r.json()) == ["Assault", "Break and Enter"]

    r = server.post(f"{API}/privacy/requests", headers=dpo,
                    json={"kind": "access", "field": "victim_name", "value": "Jane Roe", "note": "by post"})
    assert r.status_code == 201, r.text
    opened = r.json()
    assert opened["status"] == "open" and not opened["overdue"] and "Jane" not in r.text
    listed = server.get(f"{API}/privacy/requests", headers=dpo).json()
    assert [q["id"] for q in listed] == [opened["id"]]

    r = server.post(f"{API}/privacy/requests/{opened['id']}/export", headers=dpo)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["records"] == 2 and e["outcome"] == "2 record(s) disclosed" and set(e["files"]) == {"records.json",
                                                                                                "trail.json",
                                                                                                "casefiles.json"}
    assert e["files"]["casefiles.json"] == []  # named in no case-file statement
    assert sorted(x["category"] for x in e["files"]["records.json"]) == ["Assault", "Break and Enter"]
    assert any(x["action"] == "combination" and x["actor"] == "sue" for x in e["files"]["trail.json"])
    again = server.post(f"{API}/privacy/requests/{opened['id']}/export", headers=dpo)
    assert again.status_code == 409 and "already done" in again.json()["detail"]
    assert server.post(f"{API}/privacy/requests/999/export", headers=dpo).status_code == 404

    mine = trail(server, people, by="dora")
    assert {"subject-requests", f"subject-request:{opened['id']}"} <= {x["object"] for x in mine}
    assert any(x["action"] == "consultation" and x["object"] == "subject-requests" for x in mine)
    assert any(x["action"] == "disclosure" and x["object"] == f"subject-request:{opened['id']}" for x in mine)
    assert any(x["action"] == "combination" and x["actor"] == "sue" for x in trail(server, people, by="sue"))


def test_holds_purge_retention_and_the_minimisation_report(server, people, store, tmp_path):
    ingest(store, tmp_path)  # three records of 2024, kept 3650 days: nothing has expired
    dpo = people("dora", "dpo")
    r = server.post(f"{API}/privacy/holds", headers=dpo, json={
        "reason": "court case 55", "occurred_from": "2024-01-01T00:00:00Z", "occurred_to": "2025-01-01T00:00:00Z",
        "category": "Assault"})
    assert r.status_code == 201, r.text
    hold = r.json()["id"]
    report = server.get(f"{API}/privacy/retention", headers=dpo).json()
    assert sum(row["records"] for row in report["rows"]) == 3 and [h["id"] for h in report["holds"]] == [hold]
    r = server.post(f"{API}/privacy/purge", headers=dpo, json={"dry_run": True})
    assert r.status_code == 200 and r.json()["removed"] == 0 and r.json()["dry_run"] is True
    assert total(store) == 3
    assert server.post(f"{API}/privacy/holds/{hold}/release", headers=dpo).json() == {"id": hold, "released": True}
    assert server.post(f"{API}/privacy/holds/{hold}/release", headers=dpo).status_code == 404

    r = server.post(f"{API}/privacy/fields", headers=dpo, json={"mappings": [{"name": "m.toml", "text": MAPPING}]})
    assert r.status_code == 200, r.text
    [src] = r.json()
    assert src["source"] == "test-rms" and src["mapping"] == "m.toml" and src["records"] == 3
    assert src["pseudonymised"] == ["victim_name", "plate"] and src["retention_days"] == 3650
    [bare] = server.post(f"{API}/privacy/fields", headers=dpo, json={}).json()
    assert bare["mapping"] is None and bare["purposes"] == []  # no mapping sent: the server reads no path for it
    objects = {x["object"] for x in trail(server, people, by="dora", action="consultation")}
    assert {"incidents:retention", "incidents:expired", "incidents:minimisation"} <= objects


def test_a_breach_is_recorded_listed_and_notified(server, people, store, tmp_path):
    ingest(store, tmp_path)
    dpo = people("dora", "dpo")
    server.post(f"{API}/privacy/reidentify", headers=people("sue", "supervisor"),
                json={"field": "plate", "value": "xyz999", "purpose": "investigation 7"})
    r = server.post(f"{API}/privacy/breaches", headers=dpo, json={
        "description": "supervisor token leaked", "start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z",
        "suspect": "sue"})
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["affected"]["actions"] == {"combination": 1} and len(b["affected"]["people"]) == 1
    assert server.get(f"{API}/privacy/breaches", headers=dpo).json()[0]["notified_to"] is None
    r = server.post(f"{API}/privacy/breaches/{b['id']}/notified", headers=dpo, json={"to": "the IPC"})
    assert r.status_code == 200 and r.json()["notified_to"] == "the IPC"


def test_roles_the_policy_refuses_get_a_403_on_the_trail(server, people, store, tmp_path):
    ingest(store, tmp_path)
    ana = people("ana", "analyst")
    for method, path, body in (("GET", "/privacy/requests", None), ("GET", "/privacy/breaches", None),
                               ("GET", "/privacy/retention", None), ("POST", "/privacy/purge", {}),
                               ("POST", "/privacy/reidentify", {"field": "victim_name", "value": "Jane Roe",
                                                                "purpose": "investigation 1"})):
        r = server.request(method, API + path, headers=ana, json=body)
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json" and "ana" in r.json()["detail"]
    # a supervisor may re-identify, but only for an investigation
    r = server.post(f"{API}/privacy/reidentify", headers=people("sue", "supervisor"),
                    json={"field": "victim_name", "value": "Jane Roe", "purpose": "crime analysis"})
    assert r.status_code == 403 and "may only serve investigation" in r.json()["detail"]
    denials = trail(server, people, action="access.deny")
    assert {x["actor"] for x in denials} >= {"ana", "sue"}
    assert {"privacy.requests", "privacy.breaches", "privacy.purge", "incidents.reidentify"} <= {
        json.loads(x["details"]).get("action") for x in denials}
    assert total(store) == 3


def test_bad_input_is_a_422_naming_the_field(server, people):
    dpo = people("dora", "dpo")
    for path, body, field in (
            ("/privacy/requests", {"kind": "gossip", "field": "victim_name", "value": "x"}, "kind"),
            ("/privacy/requests", {"kind": "access", "field": "victim name; drop", "value": "x"}, "field"),
            ("/privacy/requests", {"kind": "access", "field": "victim_name", "value": ""}, "value"),
            ("/privacy/requests", {"kind": "access", "field": "victim_name", "value": "x",
                                   "received_at": "2026-01-05T00:00:00"}, "received_at"),  # no time zone
            ("/privacy/holds", {"reason": "r", "occurred_from": "2024-01-01T00:00:00Z",
                                "occurred_to": "2025-01-01T00:00:00Z", "owner": "me"}, "owner"),
            ("/privacy/fields", {"mappings": [{"name": "m.toml", "text": "x" * (CONFIG_BYTES + 1)}]}, "text"),
            ("/privacy/requests/0/export", None, "request_id")):
        r = server.post(API + path, headers=dpo, json=body)
        assert r.status_code == 422, (path, r.text)
        assert field in r.text, (path, r.text)
    r = server.post(f"{API}/privacy/holds", headers=dpo, json={
        "reason": "r", "occurred_from": "2025-01-01T00:00:00Z", "occurred_to": "2024-01-01T00:00:00Z"})
    assert r.status_code == 422 and "empty" in r.json()["detail"]  # the service's own check, said the same way
    r = server.post(f"{API}/privacy/fields", headers=dpo, json={"mappings": [{"name": "bad.toml", "text": "[source"}]})
    assert r.status_code == 422 and "bad.toml" in r.json()["detail"]
