"""Case files through the API: import (pseudonymised, originals sealed), the assistant's suggestions through the
gate, a person's decision on each, the case file holding only what was accepted, a redacted disclosure, governed
re-identification; refusals and bad input change nothing."""

from __future__ import annotations

import json

import pytest

from tests.casefiles.conftest import EXAMPLES
from tests.conftest import _token_of, store_fingerprint

API = "/api/v1/casefiles"
JSONL = (EXAMPLES / "statements.jsonl").read_bytes()


@pytest.fixture
def server(store, cases):
    from fastapi.testclient import TestClient

    from lawful.web.app import create_app
    from tests.conftest import make_private

    make_private(store)
    with TestClient(create_app(store)) as client:
        yield client


def who(store, name: str) -> dict:
    return {"Authorization": f"Bearer {_token_of(store, name)}"}


def log(server, store, action: str) -> list[dict]:
    r = server.get("/api/v1/audit/log", params={"action": action, "limit": 200}, headers=who(store, "dpo"))
    assert r.status_code == 200, r.text
    return [{**e, "details": json.loads(e["details"]) if isinstance(e["details"], str) else e["details"]}
            for e in r.json()]


def imported(server, store, who_="pc", data=JSONL, name="statements.jsonl", **form):
    return server.post(f"{API}/imports", headers=who(store, who_), files={"files": (name, data)}, data=form)


def analysed(server, store) -> list[dict]:
    """The example statements imported (classification confidential, the default) and CF-2026-0412 analysed by
    "det": the suggestions issued."""
    assert imported(server, store).status_code == 201
    r = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={})
    assert r.status_code == 201, r.text
    return r.json()["issued"]


def test_a_case_from_import_to_disclosure(store, cases, server):
    r = imported(server, store)
    assert r.status_code == 201, r.text
    assert r.json()["statements"] == 5 and r.json()["pseudonymised"]["name"] >= 6
    case = server.get(f"{API}/cases/CF-2026-0412", headers=who(store, "det")).json()
    text = " ".join(s["text"] for s in case["statements"])
    for original in ("Priya", "Natarajan", "Okafor", "416-555-0187", "CKLM 482", "N4821-73650-91208", "Lindqvist"):
        assert original not in text
    assert "[NAME psn:" in text and "[PLATE psn:" in text and case["case_file"] == []

    r = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={})
    assert r.status_code == 201, r.text
    issued = r.json()["issued"]
    kinds = {s["payload"]["type"] for s in issued}
    assert kinds == {"field", "inconsistency", "link"} and all(s["status"] == "open" for s in issued)
    colour = next(s for s in issued if s["payload"]["type"] == "inconsistency"
                  and s["payload"]["difference"] == "vehicle_colour")
    quotes = [p["quote"] for p in colour["payload"]["passages"]]
    assert quotes == ["dark blue Honda Civic", "black Toyota Corolla"]
    assert "lying" not in json.dumps(issued).lower() and "not a finding about anyone" in colour["explanation"][0][
        "sentence"]
    link = next(s for s in issued if s["payload"]["type"] == "link")
    assert link["payload"]["similar_case"] == "CF-2026-0398" and "entry:forced door" in link["payload"]["shared"]
    # running it again issues nothing new
    again = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={}).json()
    assert again["issued"] == [] and again["already_issued"] == len(issued)

    # nothing is in the case file until a person decides; the one who ran the assistant may not
    r = server.post(f"{API}/suggestions/{colour['id']}/decision", headers=who(store, "det"),
                    json={"decision": "accepted", "reason": "mine"})
    assert r.status_code == 422 and "independent review" in r.text
    r = server.post(f"{API}/suggestions/{colour['id']}/decision", headers=who(store, "pc"),
                    json={"decision": "accepted", "reason": "ask both witnesses about the car"})
    assert r.status_code == 200 and r.json()["in_case_file"] is True
    field = next(s for s in issued if s["payload"]["type"] == "field")
    r = server.post(f"{API}/suggestions/{field['id']}/decision", headers=who(store, "pc"),
                    json={"decision": "rejected", "reason": "misread"})
    assert r.status_code == 200 and r.json()["in_case_file"] is False
    case = server.get(f"{API}/cases/CF-2026-0412", headers=who(store, "pc")).json()
    assert [e["suggestion"] for e in case["case_file"]] == [colour["id"]]
    assert case["case_file"][0]["decided_by"] == "pc"
    decided = [e for e in log(server, store, "review.decide") if e["object"] == f"output:{colour['id']}"]
    assert decided and decided[0]["actor"] == "pc"

    # disclosure: the same person is the same label in every statement; the log is on the trail
    r = server.post(f"{API}/cases/CF-2026-0412/disclosure", headers=who(store, "det"), json={})
    assert r.status_code == 200, r.text
    d = r.json()
    s1, s2, s3 = (s["text"] for s in d["statements"])
    assert "psn:" not in json.dumps(d)
    assert "My name is Person A" in s1 and "Person A's house" in s2 and "Ms Person A" in s3
    assert "My neighbour Person B" in s1 and "My name is Person B" in s2
    assert "[plate 1]" in s1 and "[plate 1]" in s2
    [entry] = [e for e in log(server, store, "disclosure") if e["object"] == "casefile:CF-2026-0412"]
    assert entry["details"]["redactions"]["name"] >= 5 and {x["label"] for x in entry["details"]["log"]} >= {
        "Person A", "Person B", "[plate 1]"}

    # re-identification: a supervisor, for an investigation, on the trail (without the original)
    p = s1_pseudonym = next(x["pseudonym"] for x in entry["details"]["log"] if x["label"] == "Person A")
    r = server.post(f"{API}/cases/CF-2026-0412/reidentify", headers=who(store, "det"), json={"pseudonym": p})
    assert r.status_code == 403
    r = server.post(f"{API}/cases/CF-2026-0412/reidentify", headers=who(store, "sup"),
                    json={"pseudonym": p, "purpose": "crime analysis"})
    assert r.status_code == 403
    r = server.post(f"{API}/cases/CF-2026-0412/reidentify", headers=who(store, "sup"), json={"pseudonym": p})
    assert r.status_code == 200, r.text
    assert set(r.json()["originals"]) == {"Priya Natarajan", "Priya", "Natarajan"}
    [combo] = [e for e in log(server, store, "combination") if e["object"] == "casefile:CF-2026-0412"]
    assert combo["details"]["pseudonym"] == s1_pseudonym and "Priya" not in json.dumps(combo)


def test_plain_text_import_and_a_reimport_adds_nothing(store, cases, server):
    path = EXAMPLES / "CF-2026-0420-S1.txt"
    r = imported(server, store, data=path.read_bytes(), name=path.name)
    assert r.status_code == 201, r.text
    assert r.json()["cases"] == [{"case": "CF-2026-0420", "classification": "confidential", "statements": 1}]
    r = imported(server, store, data=path.read_bytes(), name=path.name)
    assert r.json()["statements"] == 0 and r.json()["skipped"] == 1
    text = server.get(f"{API}/cases/CF-2026-0420", headers=who(store, "pc")).json()["statements"][0]["text"]
    assert "Wei Chen" not in text and "Anna Kowalski" not in text and "dark blue Honda Civic" in text
    r = imported(server, store, data=b"I saw a red car.", name="s.txt", case="CF-9", statement="S1", role="witness",
                 stated="2026-04-01")
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("data, name, message", [
    (b'{"case": "CF-1", "statement": "S1", "role": "bystander", "date": "2026-04-12", "text": "x"}\n', "a.jsonl",
     "a.jsonl line 1, field role"),
    (b'{"case": "CF-1", "statement": "S1", "role": "witness", "date": "12/04/2026", "text": "x"}\n', "a.jsonl",
     "a.jsonl line 1, field date"),
    (JSONL + b'{"case": "CF-1", "statement": "S1", "role": "witness", "date": "2026-04-12"}\n', "a.jsonl",
     "a.jsonl line 6, field text"),
    (b"case,statement,role,date,text\nCF-1,S1,witness,2026-04-12,ok\nCF-1,,witness,2026-04-12,x\n", "a.csv",
     "a.csv row 3, field statement"),
    (b"case,statement,role,text\nCF-1,S1,witness,x\n", "a.csv", "field date: missing"),
    (b"I saw a red car.", "s.txt", "field case"),
    (b"\xff\xfe", "a.jsonl", "not UTF-8"),
])
def test_bad_input_names_file_row_and_field_and_writes_nothing(store, cases, server, data, name, message):
    before = store_fingerprint(store)
    r = imported(server, store, data=data, name=name)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert message in r.json()["detail"], r.json()
    assert store_fingerprint(store) == before


def test_refusals_are_on_the_trail_and_clearance_hides_cases(store, cases, server):
    assert imported(server, store).status_code == 201
    # an officer may not run the assistant; an analyst with internal clearance cannot see confidential cases
    r = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "pc"), json={})
    assert r.status_code == 403 and "casefiles.analyse" in r.text
    assert server.get(f"{API}/cases", headers=who(store, "analyst")).json() == []
    assert server.get(f"{API}/cases/CF-2026-0412", headers=who(store, "analyst")).status_code == 403
    r = server.get(f"{API}/cases", headers=who(store, "pc"), params={"purpose": "patrol planning"})
    assert r.status_code == 403
    denials = [e for e in log(server, store, "access.deny") if e["actor"] in ("pc", "analyst")]
    assert {e["details"]["action"] for e in denials} >= {"casefiles.analyse", "casefiles.read"}


def test_a_suspended_assistant_suggests_nothing(store, cases, server):
    from lawful.governance import registry

    assert imported(server, store).status_code == 201
    cases.step(registry.suspend, cases.assistant, "ap1", reason="review of the gazetteers")
    r = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={})
    assert r.status_code == 403 and "suspended" in r.text
    assert server.get(f"{API}/cases/CF-2026-0412/suggestions", headers=who(store, "det")).json() == []
