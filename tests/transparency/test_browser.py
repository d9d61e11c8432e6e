"""The public journeys and the DPO's in Debian's Chromium (the console's browser fixtures): read the register and a
system's record, download the JSON, file a complaint without an account or JavaScript, follow it with the reference
and the code; inside, the DPO assigns it and upholds it, which suspends the model; the person then reads the
outcome and the register shows the suspension. Every page passes axe-core and is screenshotted."""

from __future__ import annotations

import json

import pytest

from tests.console.conftest import browser, console, shot  # noqa: F401  (fixtures; skips without chromium)
from tests.console.test_console import sign_in, watch

STORY = "Officers stopped me outside my building three nights running; each time the block had been flagged."


def test_a_person_complains_the_dpo_upholds_it_and_the_person_reads_the_outcome(console, browser, shot, tmp_path):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    ref = console.gov.active("high")
    base = console.base
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # (the pages have no script of their own)
    errors = watch(page)

    page.goto(f"{base}/public/")
    systems = page.get_by_role("table")
    row = systems.get_by_role("row").filter(has_text="toronto-bne-forecaster")
    assert "active" in row.inner_text() and "PAI 6.00" in row.inner_text()
    shot(page, "30-public-register")
    row.get_by_role("link", name="toronto-bne-forecaster").click()
    assert page.get_by_role("heading", name="Measured accuracy").is_visible()
    assert "Misplaced attention: 20.0%" in page.get_by_role("region", name="Exposure by area").inner_text()
    assert "withheld: personal data" in page.get_by_role("region", name="Tier 2: how it is governed").inner_text()
    shot(page, "31-public-record")

    page.goto(f"{base}/public/")
    with page.expect_download() as dl:
        page.get_by_role("link", name="The whole register (JSON)").click()
    path = tmp_path / "register.json"
    dl.value.save_as(path)
    reg = json.loads(path.read_text())
    schema = json.loads(page.request.get(f"{base}/public/register.schema.json").text())
    jsonschema_rs.validator_for(schema).validate(reg)
    assert [r["id"] for r in reg["records"]] == [ref]

    page.get_by_role("link", name="Complain or appeal").click()
    page.get_by_label("A complaint about a system").check()
    page.get_by_label("Which system?").select_option("toronto-bne-forecaster")
    page.get_by_label("What happened?").fill(STORY)
    page.get_by_label("When did it happen?").fill("2026-11-02")
    shot(page, "32-public-complaint-form")
    page.get_by_role("button", name="Send").click()
    reference, code = page.locator("#reference").inner_text(), page.locator("#code").inner_text()
    assert reference.startswith("LC-") and len(code) == 19
    shot(page, "33-public-complaint-received")

    page.get_by_role("link", name="follow your case").click()
    assert page.get_by_label("Reference").input_value() == reference
    page.get_by_label("Tracking code").fill(code)
    page.get_by_role("button", name="Show").click()
    assert page.locator("#status").inner_text() == "received, waiting to be assigned"
    shot(page, "34-public-complaint-status")

    page.get_by_role("link", name="Ask for your data").click()
    page.get_by_label("A copy of the records about me").check()
    page.get_by_label("As written in the records").fill("Jane Roe")
    page.get_by_role("button", name="Send").click()
    request_ref = page.locator("#reference").inner_text()
    assert request_ref.startswith("LR-") and "Identity check: pending" in page.locator("main").inner_text()

    console.enrol("dpo")
    inside = browser.new_page(viewport={"width": 1280, "height": 900})
    inside_errors = watch(inside)
    sign_in(inside, console, "dpo", code=console.code("dpo"), next_="?next=/console/complaints")
    assert inside.url.endswith("/console/complaints")
    inside.get_by_role("link", name=reference).click()
    assert STORY in inside.locator("#what").inner_text()
    inside.get_by_role("button", name="Assign").click()
    assert "Assigned" in inside.get_by_role("status").inner_text()
    inside.get_by_label("upheld", exact=True).check()
    inside.get_by_label("Reasons").fill("The block received four times its share of patrols; the model is "
                                        "suspended while it is retrained.")
    inside.get_by_label(ref).check()
    shot(inside, "35-console-complaint")
    inside.get_by_role("button", name="Record the outcome").click()
    assert inside.locator("#outcome").inner_text() == "upheld"
    shot(inside, "36-console-complaint-resolved")
    inside.get_by_role("navigation", name="Main").get_by_role("link", name="Complaints").click()
    inside.get_by_role("link", name="resolved").click()
    assert reference in inside.get_by_role("region", name="Queue").inner_text()
    checks = inside.get_by_role("region", name="Subject requests from the public form")
    checks.get_by_label("How").fill("passport seen at the front desk")
    checks.get_by_role("button", name="Verified").click()
    assert f"Identity check of {request_ref} recorded" in inside.get_by_role("status").inner_text()
    assert "passport seen" in inside.get_by_role("region", name="Subject requests from the public form").inner_text()
    shot(inside, "39-console-public-requests")
    with inside.expect_download() as dl:
        inside.get_by_role("button", name="Download the signed pack").click()
    assert dl.value.suggested_filename.startswith("lawful-audit-pack-")

    page.goto(f"{base}/public/track?reference={reference}")
    page.get_by_label("Tracking code").fill(code)
    page.get_by_role("button", name="Show").click()
    assert page.locator("#outcome").inner_text().startswith("Upheld")
    assert "four times its share" in page.locator("#reasons").inner_text()
    assert "was suspended" in page.get_by_role("region", name="Outcome").inner_text()
    shot(page, "37-public-complaint-outcome")
    page.goto(f"{base}/public/systems/toronto-bne-forecaster")
    assert "suspended" in page.locator(".page-head").inner_text()
    assert "complaint " + reference in page.get_by_role("region", name="Approvals and history").inner_text()
    page.goto(f"{base}/public/trail")
    shot(page, "38-public-trail-heads")
    assert errors == [] and inside_errors == []
