"""An officer's verdict on a rule alert in Debian's Chromium: alerts issued through the governance gate by an
approved rule set (as `lawful rules run --issue` does), the conditions that fired said as a sentence beside the
verdict buttons, a verdict with a required reason, on the trail and out of the queue."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.console.test_console import sign_in, watch
from tests.governance.test_rule_alerts import BIRDS, STREAM, rule_set


def test_an_officer_reads_why_an_alert_fired_and_gives_a_verdict(console, browser, shot, capsys):
    ref = rule_set(console.gov)
    code, out, err = run_cli(["rules", "run", str(BIRDS), "--events", STREAM, "--issue", ref,
                              "--purpose", "patrol planning", "--as", "analyst"], capsys)
    assert code == 0, err
    console.enrol("officer")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "officer", next_="?next=/console/review")
    first = page.get_by_role("article").first
    title = first.get_by_role("heading", level=2).inner_text()
    out_id = int(title.split(":")[0].removeprefix("Output "))
    assert " on event " in title

    # the conditions that fired, as a sentence, and each condition with what was seen, beside the verdict buttons
    because = first.locator(".because").inner_text()
    assert because.startswith("It fired because ")
    rows = first.get_by_role("table").get_by_role("row")
    held = [r.get_by_role("rowheader").inner_text() for r in rows.all()[1:]
            if r.get_by_text("held", exact=True).count()]
    assert held and all(h in because for h in held)
    assert "items contains 'mist net'" in because  # the bird-catching rule needs the net to fire
    assert [b.inner_text() for b in first.locator(".choice").all()] == ["Confirmed", "False alarm", "Unclear"]
    assert first.get_by_label("What you changed").count() == 0  # alerts are judged, not amended
    shot(page, "22-review-alert")

    first.get_by_label("False alarm").check()
    first.get_by_role("button", name=f"Record decision on output {out_id}").click()
    assert first.get_by_label("Reason").evaluate("e => e.validity.valueMissing")  # the reason is required
    first.get_by_label("Reason").fill("Patrol found a birdwatcher with a camera net, not a mist net.")
    first.get_by_role("button", name=f"Record decision on output {out_id}").click()
    assert page.get_by_role("status").get_by_text(f"Output {out_id}: false alarm").is_visible()
    assert page.get_by_role("heading", name=f"Output {out_id}:").count() == 0
    [entry] = [e for e in console.trail("review.decide") if e["object"].endswith(f":{out_id}")
               or str(out_id) in json.dumps(e["details"])]
    assert entry["actor"] == "officer"
    assert "false-alarm" in json.dumps(entry["details"]) and "camera net" in json.dumps(entry["details"])
    assert errors == []
