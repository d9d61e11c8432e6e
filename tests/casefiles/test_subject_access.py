"""A data subject's access request finds them in case files too: statements pseudonymise identifiers with their kind
("name:" + the name), a different pseudonym from the request's own, so a person named in witness statements was
told "no records matched". The export lists the statements that name them, with the sentences that do (their own
marker shown as [YOU], everyone else's left pseudonymised); a case a legal hold names is withheld and counted."""

from __future__ import annotations

import json

from tests.casefiles.test_api import imported, log, server, who  # noqa: F401  (server: fixture)

REQUESTS = "/api/v1/privacy/requests"


def _ask(server, store, value):  # noqa: F811
    r = server.post(REQUESTS, headers=who(store, "dpo"), json={"kind": "access", "field": "victim_name",
                                                               "value": value})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _export(server, store, rid):  # noqa: F811
    r = server.post(f"{REQUESTS}/{rid}/export", headers=who(store, "dpo"))
    assert r.status_code == 200, r.text
    return r.json()


def _held_export(server, store, reason):  # noqa: F811
    """Daniel Okafor's access export while a legal hold with this reason is active: nothing of CF-2026-0412."""
    hold = server.post("/api/v1/privacy/holds", headers=who(store, "dpo"), json={
        "reason": reason, "occurred_from": "2026-01-01T00:00:00Z", "occurred_to": "2026-12-31T00:00:00Z"})
    assert hold.status_code == 201, hold.text
    e = _export(server, store, _ask(server, store, "Daniel Okafor"))
    assert all(m["case"] != "CF-2026-0412" for m in e["files"]["casefiles.json"])
    return e


def test_a_person_named_in_statements_gets_those_statements(store, cases, server):  # noqa: F811
    assert imported(server, store).status_code == 201
    rid = _ask(server, store, "daniel  OKAFOR")  # as the person writes it: case and spacing do not matter
    e = _export(server, store, rid)
    mentions = e["files"]["casefiles.json"]
    assert {(m["case"], m["statement"]) for m in mentions} >= {("CF-2026-0412", "S1"), ("CF-2026-0412", "S2")}
    s2 = next(m for m in mentions if m["statement"] == "S2")
    assert s2["given_by"] == "witness" and s2["mentions"] >= 2  # the full name and the bare "Okafor" later
    assert any(p.startswith("My name is [YOU]") for p in s2["passages"])
    text = json.dumps(mentions)
    for other in ("Priya", "Natarajan", "Okafor", "Daniel", "CKLM", "416-555"):
        assert other not in text  # nobody's identity is in the answer, not even the person's own
    s1 = next(m for m in mentions if m["statement"] == "S1")
    # other people's identifiers: a label of this export, never their pseudonym (the same in every case and export,
    # it would link third parties across them)
    assert "[PLATE 1]" in " ".join(s1["passages"]) and "psn:" not in text
    assert e["outcome"] == f"{len(mentions)} case-file statement(s) disclosed"
    [entry] = log(server, store, "disclosure")[:1]
    assert ["CF-2026-0412", "S2"] in entry["details"]["case_statements"]


def test_a_case_under_a_legal_hold_is_withheld_and_counted(store, cases, server):  # noqa: F811
    assert imported(server, store).status_code == 201
    e = _held_export(server, store, "investigation CF-2026-0412: burglary ring")
    withheld = e["files"]["withheld.json"]
    assert withheld["case_statements_withheld"] >= 2 and "2016/680" in withheld["legal_ground"]


def test_someone_in_no_statement_is_told_nothing_matched(store, cases, server):  # noqa: F811
    assert imported(server, store).status_code == 201
    e = _export(server, store, _ask(server, store, "Nobody Atall"))
    assert e["files"]["casefiles.json"] == [] and e["outcome"] == "no records matched"


def test_a_held_case_does_not_leak_through_the_trail_entries_either(store, cases, server):  # noqa: F811
    import re

    assert imported(server, store).status_code == 201
    case = server.get("/api/v1/casefiles/cases/CF-2026-0412", headers=who(store, "det")).json()
    s2 = next(s for s in case["statements"] if s["statement"] == "S2")
    okafor = re.search(r"\[NAME (psn:[0-9a-f]{32})\]", s2["text"]).group(1)
    assert server.post("/api/v1/casefiles/cases/CF-2026-0412/disclosure", headers=who(store, "det"),
                       json={}).status_code == 200  # its redaction log, on the trail, names every pseudonym
    assert server.post("/api/v1/casefiles/cases/CF-2026-0412/reidentify", headers=who(store, "sup"),
                       json={"pseudonym": okafor, "purpose": "investigation"}).status_code == 200
    e = _held_export(server, store, "burglary ring, case CF-2026-0412")
    assert not [t for t in e["files"]["trail.json"] if "CF-2026-0412" in json.dumps(t)]
    assert e["files"]["withheld.json"]["trail_entries_withheld"] >= 1
