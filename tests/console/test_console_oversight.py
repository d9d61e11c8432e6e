"""Journeys through the console's oversight pages in Debian's Chromium: the DPO reads the circuit breaker's events,
every reviewer's automation-bias figures and the weekly report on the data-protection page; the audit trail is
searched by time; an analyst runs the exposure audit. Every page is checked with axe-core and screenshotted."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx

from lawful.access import credentials
from lawful.governance import registry, review
from lawful.trail import audit
from tests.console.test_console import sign_in, watch
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture: two years of synthetic incidents)


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

    shot(page, "24-data-protection-oversight")
    seen = {e["object"] for e in console.trail("consultation") if e["actor"] == "dpo"}
    assert {"governance:breaker", "review:stats:reviewer"} <= seen
    assert not any(o.startswith("report:weekly:") for o in seen)  # the report is read when opened, not before

    page.get_by_role("link", name="Read this week's report").click()
    assert page.url.endswith("/console/privacy/report")
    report = page.get_by_role("region", name=page.locator("#wk-h").inner_text())
    text = report.locator("pre").inner_text()
    assert "## What needs attention" in text
    assert "Reviewer supervisor accepts 100% of 10 outputs" in text
    assert "misjudgment 40% over the <b>25%</b> threshold" in text  # the report's Markdown, escaped
    assert report.locator("pre b").count() == 0
    shot(page, "24b-weekly-report")
    seen = {e["object"] for e in console.trail("consultation") if e["actor"] == "dpo"}
    assert any(o.startswith("report:weekly:") for o in seen)
    assert errors == []


class Clock:
    """time.time_ns for lawful.trail.audit, fixed at a moment: entries written meanwhile carry that time."""

    def __init__(self, when: datetime):
        self.ns = int(when.timestamp()) * 1_000_000_000

    def time_ns(self) -> int:
        return self.ns


def test_the_audit_trail_is_searched_by_day_in_the_console_and_the_api(console, browser, shot, monkeypatch):
    gov = console.gov
    with monkeypatch.context() as m:  # the owner registered on 2 March 2025 and submitted on 5 March
        m.setattr(audit, "time", Clock(datetime(2025, 3, 2, 12, 0, tzinfo=timezone.utc)))
        ref = gov.register("high")
        m.setattr(audit, "time", Clock(datetime(2025, 3, 5, 9, 30, tzinfo=timezone.utc)))
        gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "dpo", code=console.code("dpo"), next_="?next=/console/audit")
    search = page.get_by_role("search", name="Search the trail")
    search.get_by_label("Actor").fill("owner")
    search.get_by_label("From (day, UTC)").fill("2025-03-01")
    search.get_by_label("To (day, UTC, included)").fill("2025-03-02")
    search.get_by_role("button", name="Search").click()
    assert "from=2025-03-01" in page.url and "to=2025-03-02" in page.url
    rows = page.get_by_role("table").get_by_role("row").all_inner_texts()[1:]
    assert rows and all("2025-03-02 12:00:00 UTC" in r for r in rows), rows
    assert any("model.register" in r for r in rows) and not any("model.submit" in r for r in rows)
    # the fields keep the days searched
    assert search.get_by_label("From (day, UTC)").input_value() == "2025-03-01"
    shot(page, "25-audit-by-day")

    # "to" includes the whole day: the submission at 09:30 on 5 March is found, the registration is not
    page.goto(f"{console.base}/console/audit?by=owner&from=2025-03-05&to=2025-03-05")
    rows = page.get_by_role("table").get_by_role("row").all_inner_texts()[1:]
    assert rows and all("2025-03-05 09:30:00 UTC" in r for r in rows), rows
    assert any("model.submit" in r for r in rows)
    # a day that is not one is said so, and the search is not run
    page.goto(f"{console.base}/console/audit?from=2025-13-40")
    assert page.get_by_role("heading", name="Problem").is_visible()
    assert page.get_by_text("from: '2025-13-40' is not a day").is_visible()

    # the API's GET /api/v1/audit/log takes the same bounds as since (inclusive) and until (exclusive)
    with gov.tx() as s:
        token = credentials.create_api_token(s, actor=gov.actor(s, "dpo"), label="search", days=1, scope="read")
    api = httpx.Client(base_url=f"{console.base}/api/v1", headers={"Authorization": f"Bearer {token}"})
    found = api.get("/audit/log", params={"by": "owner", "since": "2025-03-04", "until": "2025-03-06T00:00:00Z",
                                          "limit": 100}).json()
    assert found and {e["action"] for e in found} >= {"model.submit"}
    assert "model.register" not in {e["action"] for e in found}
    everything = api.get("/audit/log", params={"by": "owner", "limit": 100}).json()  # no bounds: as before
    assert {"model.register", "model.submit"} <= {e["action"] for e in everything}
    bad = api.get("/audit/log", params={"since": "2025-03-06", "until": "2025-03-04"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "before the end" in bad.json().get("fix", bad.text)
    assert api.get("/audit/log", params={"since": "last week"}).status_code == 422
    searches = [e for e in console.trail("consultation") if e["object"] == "trail:log" and e["actor"] == "dpo"]
    assert any(e["details"].get("since") == "2025-03-04T00:00:00+00:00" for e in searches)
    assert errors == []


def _share(text: str) -> float:
    return float(text.strip().rstrip("%")) / 100


def test_an_analyst_runs_the_exposure_audit_and_reads_flagged_against_incident_share(loaded, console, browser,  # noqa: F811
                                                                                       shot):
    console.enrol("analyst")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "analyst", next_="?next=/console/exposure")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Exposure audit").get_attribute(
        "aria-current") == "page"
    form = page.get_by_role("form", name="Start an exposure audit")
    form.get_by_label("First day").fill("2019-11-01")
    form.get_by_label("End (not forecast)").fill("2019-12-25")
    form.get_by_label("Every how many days").fill("14")
    form.get_by_label("Model").select_option("naive-all")
    form.get_by_label("Share flagged each day (%)").fill("5")
    form.get_by_label("Areas listed each way").fill("3")
    form.get_by_role("button", name="Start the exposure audit").click()
    assert "/console/exposure?job=" in page.url
    # the job runs in the server; a bounded number of reloads through the Check again link, never a sleep
    for _ in range(2000):
        if page.get_by_role("link", name="Check again").count() == 0:
            break
        page.get_by_role("link", name="Check again").click()
    chart = page.get_by_role("img", name="Flagged share against incident share, most over- and under-exposed areas")
    assert chart.is_visible()

    over = page.get_by_role("region", name="Most over-exposed areas").get_by_role("table")
    under = page.get_by_role("region", name="Most under-exposed areas").get_by_role("table")
    over_rows = over.get_by_role("row").all()[1:]
    under_rows = under.get_by_role("row").all()[1:]
    assert 1 <= len(over_rows) <= 3 and 1 <= len(under_rows) <= 3
    # an area is listed on the side it is on: over-exposed above 1, under-exposed below
    assert all(float(r.get_by_role("cell").all_inner_texts()[4]) > 1 for r in over_rows)
    assert all(float(r.get_by_role("cell").all_inner_texts()[4]) < 1 for r in under_rows)
    first_over = over_rows[0].get_by_role("cell").all_inner_texts()  # cell-days, flagged, incidents, incident share
    first_under = under_rows[0].get_by_role("cell").all_inner_texts()
    assert _share(first_over[1]) > _share(first_over[3])  # flagged more than its incidents warrant
    assert _share(first_under[1]) < _share(first_under[3])  # incidents with too little attention
    # the chart draws the same areas, two bars each, the most over-exposed first with the longer flagged bar
    areas = {r.get_by_role("rowheader").inner_text() for r in over_rows + under_rows}
    assert page.locator(".exposure-chart .bar-flagged").count() == len(areas)
    assert page.locator(".exposure-chart .bar-incidents").count() == len(areas)
    top = page.locator(".exposure-chart .area").first
    assert float(top.locator(".bar-flagged").get_attribute("width")) > float(
        top.locator(".bar-incidents").get_attribute("width"))
    assert page.get_by_text("Attention misplaced", exact=True).is_visible()
    shot(page, "26-exposure-audit")
    [entry] = console.trail("development")
    assert entry["actor"] == "analyst" and entry["details"]["analysis"] == "exposure audit"
    assert entry["details"]["coverage"] == 0.05  # the percentage the page asked for, as a share
    assert errors == []

    # the job is the analyst's: another person is told there is no such job of theirs, and a DPO may not start one
    console.enrol("supervisor")
    other = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(other, console, "supervisor")
    other.goto(page.url)
    assert other.get_by_text("No job").is_visible()
    console.enrol("dpo")
    dpo = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(dpo, console, "dpo", code=console.code("dpo"), next_="?next=/console/exposure")
    assert dpo.get_by_role("navigation", name="Main").get_by_role("link", name="Exposure audit").count() == 0
    dpo.get_by_role("form", name="Start an exposure audit").get_by_role("button").click()
    assert dpo.get_by_role("heading", name="Refused").is_visible()
    assert any(e["actor"] == "dpo" for e in console.trail("access.deny"))


def test_a_dpo_answers_a_request_records_a_breach_and_places_a_hold_from_the_browser(console, browser, shot):
    """The data-protection officer's steps, each through the same privacy service as the API: a request registered
    (only its pseudonym kept) and answered with a download, a mistyped breach window refused beside its form with
    nothing recorded, a breach recorded and notified, a hold placed and released, an earlier week's report."""
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = watch(page)
    sign_in(page, console, "dpo", code=console.code("dpo"), next_="?next=/console/privacy")
    assert page.url.endswith("/console/privacy")

    page.get_by_text("Register a request").click()
    page.get_by_label("Identity as the records hold it").fill("Jane Q. Roe")
    page.get_by_role("button", name="Register the request").click()
    assert "The request is registered" in page.get_by_role("status").inner_text()
    requests_table = page.get_by_role("region", name="Subject requests").get_by_role("table")
    row = requests_table.get_by_role("row").filter(has_text="access")
    assert "open" in row.inner_text() and "29 days 23 h left" in row.inner_text()
    assert "Jane Q. Roe" not in page.content()  # the identity is never shown or kept, only its pseudonym
    opened = [e for e in console.trail("config.change") if e["object"].startswith("subject-request:")]
    assert len(opened) == 1 and "Jane" not in json.dumps(opened)

    with page.expect_download() as got:
        row.get_by_role("button", name="Export and close #1").click()
    answer = json.loads(Path(got.value.path()).read_text())
    assert answer["request"] == 1 and answer["outcome"] == "no records matched"
    page.goto(f"{console.base}/console/privacy")
    row = page.get_by_role("region", name="Subject requests").get_by_role("row").filter(has_text="access")
    assert "done" in row.inner_text() and "Export and close" not in row.inner_text()

    breaches = page.get_by_role("region", name="Breaches")
    breaches.get_by_text("Record a suspected breach").click()
    breaches.get_by_label("What happened").fill("A laptop with an export was left on a train")
    breaches.get_by_label("Examine from").fill("2026-11-02T10:00")
    breaches.get_by_label("Until").fill("2026-11-01T10:00")  # before the start: refused, nothing recorded
    breaches.get_by_role("button", name="Record the breach").click()
    assert "the window is empty" in page.get_by_role("alert").inner_text().lower()
    assert "No breaches are recorded" in page.get_by_role("region", name="Breaches").inner_text()
    breaches = page.get_by_role("region", name="Breaches")
    breaches.get_by_label("What happened").fill("A laptop with an export was left on a train")
    breaches.get_by_label("Examine from").fill("2026-11-01T10:00")
    breaches.get_by_label("Until").fill("2026-11-02T10:00")
    breaches.get_by_role("button", name="Record the breach").click()
    assert "notification clock is running" in page.get_by_role("status").inner_text()
    row = page.get_by_role("region", name="Breaches").get_by_role("row").filter(has_text="laptop")
    assert "not yet" in row.inner_text() and " h" in row.inner_text()
    shot(page, "25-data-protection-steps")
    row.get_by_label("Notified to").fill("Information and Privacy Commissioner")
    row.get_by_role("button", name="Mark notified").click()
    row = page.get_by_role("region", name="Breaches").get_by_role("row").filter(has_text="laptop")
    assert "notified" in row.inner_text() and "Information and Privacy Commissioner" in row.inner_text()

    holds = page.get_by_role("region", name="Legal holds")
    holds.get_by_text("Place a legal hold").click()
    holds.get_by_label("Reason").fill("Complaint C-2026-17")
    holds.get_by_label("Incidents from").fill("2019-01-01")
    holds.get_by_label("To (inclusive)").fill("2019-12-31")
    holds.get_by_role("button", name="Place the hold").click()
    assert "The legal hold is placed" in page.get_by_role("status").inner_text()
    assert "Complaint C-2026-17" in page.get_by_role("region", name="Legal holds").inner_text()
    page.get_by_role("button", name="Release hold 1").click()
    assert "released" in page.get_by_role("status").inner_text()
    assert "No legal hold is active" in page.get_by_role("region", name="Legal holds").inner_text()
    steps = {(e["action"], e["object"]) for e in console.trail("config.change") + console.trail("disclosure")}
    assert {("config.change", "breach:1"), ("disclosure", "breach:1"), ("config.change", "legal-hold:1")} <= steps

    page.goto(f"{console.base}/console/privacy/report")
    this_week = page.locator("#wk-h").inner_text()
    page.get_by_role("link", name="The week before").click()
    assert page.locator("#wk-h").inner_text() != this_week
    assert "week_ending=" in page.url and page.get_by_role("link", name="The week after").is_visible()
    shot(page, "25b-weekly-report-earlier-week")
    assert errors == []
