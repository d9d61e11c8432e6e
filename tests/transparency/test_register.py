"""The public register: generated from the registry on each request, never for drafts, ATRS fields with the ones
withheld by rule, JSON that validates against its schema, CSV, the Atom feed; a suspension shows on the very next
request."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from lawful.governance import registry
from tests.governance.conftest import CARD

P = "/public"


def test_a_draft_is_never_in_the_register_an_active_model_is(public, gov):
    draft = gov.register(tier="high", name="secret-draft-model")
    ref = gov.active()
    reg = public.get(f"{P}/register.json").json()
    ids = [r["id"] for r in reg["records"]]
    assert ids == [ref] and draft not in ids
    assert "secret-draft-model" not in public.get(f"{P}/").text
    assert public.get(f"{P}/systems/secret-draft-model").status_code == 404


def test_the_record_has_the_standard_fields_and_says_what_is_withheld(public, gov):
    ref = gov.active()
    r = public.get(f"{P}/register.json").json()["records"][0]
    assert r["id"] == ref and r["state"] == "active"
    assert r["tier1"]["purpose"].startswith("Forecast the places") and "production" in r["tier1"]["phase"]
    t2 = r["tier2"]
    assert t2["legal_basis"] and t2["data_categories"] and t2["human_decision"]
    assert t2["accuracy"]["headline"] == {"model": CARD["model"]["estimator"], "coverage": 0.05, "hit_rate": 0.3,
                                          "pai": 6.0, "days": 52}
    assert "Rolling backtest" in t2["accuracy"]["protocol"]
    assert t2["exposure"]["misplaced"] == 0.2
    assert t2["owner"]["name"].startswith("withheld: personal data")
    assert t2["approvals"]["approvers"].startswith("withheld: personal data") and len(t2["approvals"]["given"]) == 2
    assert {w["field"] for w in r["withheld"]} >= {"tier2.owner.name", "tier2.approvals.approvers",
                                                   "tier2.outputs.places"}
    page = public.get(f"{P}/systems/toronto-bne-forecaster").text
    assert "withheld: personal data" in page and "withheld: operational security" in page
    assert "PAI" in page and "6.00" in page and "20.0%" in page


def test_suspending_a_model_changes_its_public_record_on_the_next_request(public, gov):
    ref = gov.active()
    assert public.get(f"{P}/register.json").json()["records"][0]["state"] == "active"  # (and now cached)
    gov.step(registry.suspend, ref, "dpo", reason="complaint upheld: exposure in one area far above its crime")
    r = public.get(f"{P}/register.json").json()["records"][0]
    assert r["state"] == "suspended" and r["tier1"]["phase"].startswith("suspended")
    assert r["tier2"]["suspension_history"][-1]["reason"].startswith("complaint upheld")
    assert r["tier2"]["suspension_history"][-1]["by"] == "a member of staff"
    assert "suspended" in public.get(f"{P}/systems/toronto-bne-forecaster").text
    feed = public.get(f"{P}/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert f"{ref}: active -&gt; suspended" in feed.text


def test_no_staff_name_or_personal_field_leaves_through_a_public_route(public, gov):
    ref = gov.active()
    gov.step(registry.suspend, ref, "ap1", reason="ap2 and owner asked for it after a review by dpo")
    bodies = [public.get(f"{P}{p}").text for p in ("/", "/systems/toronto-bne-forecaster", "/register.json",
                                                    "/register.csv", "/feed.atom")]
    for body in bodies:
        for name in ("ap1", "ap2", "dpo"):  # the people who approved, suspended and were named in a reason
            assert re.search(rf"\b{name}\b", body) is None, name

    def values(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from values(v)
        elif isinstance(node, list):
            for v in node:
                yield from values(v)
        else:
            yield node
    assert "owner" not in set(values(json.loads(bodies[2])))  # the owner's user name is no value anywhere
    assert "[staff] and [staff] asked for it after a review by [staff]" in bodies[2]


def test_the_json_validates_against_its_schema_and_the_csv_has_a_row_per_record(public, gov):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    gov.active()
    schema = public.get(f"{P}/register.schema.json").json()
    reg = public.get(f"{P}/register.json").json()
    jsonschema_rs.validator_for(schema).validate(reg)
    broken = json.loads(json.dumps(reg))
    broken["records"][0]["tier2"]["owner"]["name"] = "olga"  # a staff name where the rule withholds it
    assert not jsonschema_rs.validator_for(schema).is_valid(broken)
    rows = list(csv.DictReader(io.StringIO(public.get(f"{P}/register.csv").text)))
    assert len(rows) == 1 and rows[0]["state"] == "active" and rows[0]["headline_pai"] == "6.0"


def test_the_register_pages_need_no_sign_in_and_set_no_cookie(public, gov):
    gov.active()
    for path in ("/", "/systems/toronto-bne-forecaster", "/complaints", "/requests", "/track", "/trail"):
        r = public.get(f"{P}{path}")
        assert r.status_code == 200, (path, r.text[:300])
        assert "set-cookie" not in r.headers and "<script" not in r.text
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
