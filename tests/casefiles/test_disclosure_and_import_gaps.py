"""What a disclosure bundle and an import must not let through: a bare pseudonym (a plate field, a link: the same
in every case, so it would link people across cases), a link to a case classified above this one, an amendment's
free text as written, a file name with a person's name in it, and JSON lines that are not text (500 before)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.casefiles.conftest import EXAMPLES, cases  # noqa: F401
from tests.casefiles.test_api import API, server, who  # noqa: F401
from tests.conftest import store_fingerprint

LINES = (EXAMPLES / "statements.jsonl").read_text().splitlines()


def _import(server, store, person, lines, name="s.jsonl", **form):
    r = server.post(f"{API}/imports", headers=who(store, person), files={"files": (name, "\n".join(lines).encode())},
                    data=form)
    assert r.status_code == 201, r.text
    return r


def _decide(server, store, suggestion, **body):
    r = server.post(f"{API}/suggestions/{suggestion['id']}/decision", headers=who(store, "pc"),
                    json={"decision": "accepted", "reason": "checked", **body})
    assert r.status_code == 200, r.text


def test_no_pseudonym_leaves_in_a_disclosure_bundle(store, cases, server):
    _import(server, store, "pc", [line for line in LINES if "CF-2026-0398" in line or "CF-2026-0412" in line])
    issued = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={}).json()["issued"]
    vehicle = next(s for s in issued if s["payload"]["type"] == "field" and s["payload"]["field"]["field"] == "vehicle"
                   and s["payload"]["field"]["value"].get("plate"))
    link = next(s for s in issued if s["payload"]["type"] == "link")
    assert "psn:" in json.dumps(vehicle["payload"]) + json.dumps(link["payload"])  # what the bundle must hide
    _decide(server, store, vehicle)
    _decide(server, store, link)
    bundle = server.post(f"{API}/cases/CF-2026-0412/disclosure", headers=who(store, "det"), json={}).json()
    assert "psn:" not in json.dumps(bundle)


def test_an_amended_entry_is_disclosed_as_amended_with_identifiers_withheld(store, cases, server):
    _import(server, store, "pc", [line for line in LINES if "CF-2026-0412" in line])
    issued = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={}).json()["issued"]
    colour = next(s for s in issued if s["payload"]["type"] == "inconsistency")
    _decide(server, store, colour, decision="amended",
            amendment={"colour": "black", "note": "confirmed by phone with Jane Roe on 416-555-0187"})
    bundle = server.post(f"{API}/cases/CF-2026-0412/disclosure", headers=who(store, "det"), json={}).json()
    content = bundle["case_file"][0]["content"]
    assert content["colour"] == "black" and "Jane Roe" not in content["note"] and "0187" not in content["note"]
    assert "[name withheld]" in content["note"] and "[phone withheld]" in content["note"]


def test_a_link_never_points_to_a_case_classified_above_this_one(store, cases, server):
    from lawful.access.models import User

    with cases.tx() as s:
        s.scalar(select(User).where(User.name == "sup")).clearance = "secret"
    _import(server, store, "sup", [line for line in LINES if "CF-2026-0398" in line], classification="secret")
    _import(server, store, "pc", [line for line in LINES if "CF-2026-0412" in line])
    r = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "sup"), json={})
    assert r.status_code == 201, r.text
    assert "CF-2026-0398" not in json.dumps(r.json()["issued"])
    assert "CF-2026-0398" not in server.get(f"{API}/cases/CF-2026-0412/suggestions", headers=who(store, "det")).text


def test_a_file_name_is_pseudonymised_like_the_text(store, cases, server):
    line = json.dumps({"case": "CF-X1", "statement": "S1", "role": "witness", "date": "2026-04-12",
                       "text": "I saw a red car."})
    _import(server, store, "pc", [line], name="statement of Priya Natarajan 416-555-0187.jsonl")
    case = server.get(f"{API}/cases/CF-X1", headers=who(store, "pc")).text
    log = server.get("/api/v1/audit/log", params={"action": "collection", "limit": 20}, headers=who(store, "dpo")).text
    for text in (case, log):
        assert "Natarajan" not in text and "0187" not in text and "[NAME psn:" in text


@pytest.mark.parametrize("line", [
    b'{"case": "CF-1", "statement": "S1", "role": "witness", "date": "2026-04-12", "text": "hi \\ud800 there"}',
    b"[" * 100_000 + b"]" * 100_000,
])
def test_a_json_line_that_is_not_text_is_refused_with_its_line(store, cases, server, line):
    before = store_fingerprint(store)
    r = server.post(f"{API}/imports", headers=who(store, "pc"), files={"files": ("a.jsonl", line + b"\n")})
    assert r.status_code == 422 and "a.jsonl line 1" in r.text, r.text
    assert store_fingerprint(store) == before
