"""Journeys through the console's oversight pages in Debian's Chromium: the DPO reads the circuit breaker's events,
every reviewer's automation-bias figures and the weekly report on the data-protection page; the audit trail is
searched by time; an analyst runs the exposure audit. Every page is checked with axe-core and screenshotted."""

from __future__ import annotations

from lawful.governance import registry, review
from tests.console.test_console import sign_in, watch


def test_a_dpo_reads_breaker_events_every_reviewers_bias_figures_and_the_weekly_report(console, browser, shot):
    gov = console.gov
    ref = gov.active("high")
    outs = [console.issue(ref) for _ in range(11)]
    with gov.tx() as s:
        for out in outs[:10]:  # ten accepted within seconds: the automation-bias pattern
            review.decide(s, actor=gov.actor(s, "supervisor"), output_id=out, decision="accepted", reason="ok")
        review.decide(s, actor=gov.actor(s, "officer"), output_id=outs[10], decision="rejected",
                      reason="the flagged block is a park")
    with gov.tx() as s:  # the breaker trips by itself (no person), with a reason that looks like markup
        registry.suspend(s, actor=None, entry=registry.get(s, ref=ref),
                         reason="misjudgment 40% over the <b>25%</b> threshold")
    gov.step(registry.reinstate, ref, "owner", reason="retrained on 2020 data")
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "dpo", code=console.code("dpo"), next_="?next=/console/privacy")
    assert page.url.endswith("/console/privacy")

    breaker = page.get_by_role("region", name="Circuit breaker").get_by_role("table")
    suspended = breaker.get_by_role("row").filter(has_text="suspended").filter(has_text="lawful:breaker")
    assert "(automatic)" in suspended.inner_text()
    assert "misjudgment 40% over the <b>25%</b> threshold" in suspended.inner_text()  # shown as text, not markup
    assert suspended.get_by_role("link", name=ref).get_attribute("href") == f"/console/registry/{ref}"
    asked = breaker.get_by_role("row").filter(has_text="reinstatement asked")
    assert "owner" in asked.inner_text() and "retrained on 2020 data" in asked.inner_text()
    assert "(automatic)" not in asked.inner_text()
    # newest first: the reinstatement is above the suspension
    rows = breaker.get_by_role("row").all_inner_texts()
    assert "reinstatement asked" in rows[1] and "lawful:breaker" in rows[2]

    reviewers = page.get_by_role("region", name="Reviewers and automation bias").get_by_role("table")
    sup = reviewers.get_by_role("row").filter(has=page.get_by_role("rowheader", name="supervisor", exact=True))
    assert "100%" in sup.inner_text() and "automation bias" in sup.inner_text()
    assert "accepts 100% of 10 outputs" in sup.inner_text()
    off = reviewers.get_by_role("row").filter(has=page.get_by_role("rowheader", name="officer", exact=True))
    assert "0%" in off.inner_text() and "automation bias" not in off.inner_text()
    assert page.get_by_label("At a glance").get_by_text("1 reviewer with an automation-bias warning").is_visible()

    report = page.get_by_role("region", name="Weekly report")
    text = report.locator("pre").inner_text()
    assert "## What needs attention" in text
    assert "misjudgment 40% over the <b>25%</b> threshold" in text  # the report's Markdown, escaped
    assert report.locator("pre b").count() == 0
    shot(page, "24-data-protection-oversight")

    seen = {e["object"] for e in console.trail("consultation") if e["actor"] == "dpo"}
    assert {"governance:breaker", "review:stats:reviewer"} <= seen
    assert any(o.startswith("report:weekly:") for o in seen)
    assert errors == []
