"""Journeys through the console's registry, review-warning, export and data-protection pages in Debian's Chromium:
the second approver of a high-tier model sees the first approval and the impact assessment before approving; the
stop button suspends it and the gate then refuses its forecasts; an owner submits, reinstates and retires; a
reviewer whose pattern trips the automation-bias warning sees it beside the buttons (and another does not); a DPO
downloads the trail's export bundle and sees a request's deadline. Every page is checked with axe-core and
screenshotted."""

from __future__ import annotations

import io
import tarfile
from datetime import datetime, timedelta, timezone

import httpx

from lawful.access import credentials
from lawful.governance import gate, registry, review
from lawful.privacy import breaches, requests, retention
from tests.console.conftest import PASSWORD, check_accessibility, forecast_output
from tests.governance.conftest import ROOT
from tests.console.test_console import sign_in, watch


def issue_refused(console, ref: str) -> str | None:
    """What the gate says to an analyst issuing a forecast of `ref` now (None: it let the output out)."""
    payload, explanation = forecast_output()
    with console.gov.tx() as s:
        r = gate.issue(s, actor=console.gov.actor(s, "analyst"), entry=registry.get(s, ref=ref),
                       purpose="patrol planning", kind="forecast", subject="Break and Enter 2021-06-02",
                       payload=payload, explanation=explanation)
        return r.refused


def submitted_with_one_approval(console) -> str:
    gov = console.gov
    ref = gov.register("high")
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    gov.step(registry.approve, ref, "ap1", reason="Backtest PAI 6.0 at 5% coverage; exposure within bounds.",
             purposes=["patrol planning"], areas=[], expires=None, thresholds=gov.t)
    return ref


def test_the_second_approver_sees_the_first_approval_and_the_assessment_then_suspends_and_forecasts_stop(
        console, browser, shot):
    ref = submitted_with_one_approval(console)
    console.enrol("ap2")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "ap2", code=console.code("ap2"), next_=f"?next=/console/registry/{ref}")
    assert page.url.endswith(f"/console/registry/{ref}")

    # on the same page as the form: the first approval (who, why, for what) and the impact assessment
    approval = page.get_by_role("region", name="Approval")
    assert approval.get_by_text("1 of 2 approvals in this round: ap1.").is_visible()
    first = approval.get_by_role("listitem").filter(has_text="ap1 approved")
    assert first.get_by_text("Backtest PAI 6.0 at 5% coverage; exposure within bounds.").is_visible()
    assert first.get_by_text("For patrol planning; all areas").is_visible()
    fria = approval.get_by_role("region", name="Fundamental-rights impact assessment")
    assert fria.get_by_text("The specific risks of harm to them").is_visible()
    assert fria.get_by_text("risks described").is_visible()
    shot(page, "13-registry-second-approval")

    form = approval.get_by_role("form", name="Approve")
    form.get_by_label("patrol planning").check()
    form.get_by_label("Reason").fill("Read ap1's approval and the assessment; the oversight measures are adequate.")
    form.get_by_role("button", name=f"Approve {ref}").click()
    assert page.get_by_role("status").get_by_text(f"{ref}: approval recorded").is_visible()
    history = page.get_by_role("region", name="Lifecycle history")
    assert history.get_by_role("row").filter(has_text="approved by ap1, ap2").count() == 1
    [entry] = [e for e in console.trail("model.approve") if e["actor"] == "ap2" and "mode" in e["details"]]
    assert entry["details"]["reason"].startswith("Read ap1's approval")

    page.get_by_role("button", name=f"Activate {ref}").click()
    assert page.get_by_role("status").get_by_text(f"{ref}: put into use").is_visible()
    assert issue_refused(console, ref) is None  # in use: the gate lets its forecasts out

    # the stop button: the reason is required by the browser, and a blank one is refused by the service
    stop = page.get_by_role("form", name="Stop this model")
    stop.get_by_role("button", name=f"Suspend {ref}").click()
    assert stop.get_by_label("Reason").evaluate("e => e.validity.valueMissing")
    stop.get_by_label("Reason").fill("  ")
    stop.get_by_role("button", name=f"Suspend {ref}").click()
    assert page.get_by_role("alert").get_by_text("A suspension needs a reason").is_visible()
    shot(page, "14-registry-stop-button")
    stop = page.get_by_role("form", name="Stop this model")
    stop.get_by_label("Reason").fill("Officers report the flagged blocks follow last month's patrols, not crime.")
    stop.get_by_role("button", name=f"Suspend {ref}").click()
    assert page.get_by_role("status").get_by_text(f"{ref}: suspended").is_visible()
    row = page.get_by_role("region", name="Lifecycle history").get_by_role("row").last
    assert "suspended" in row.inner_text() and "ap2" in row.inner_text()
    assert "follow last month's patrols" in row.inner_text()
    shot(page, "15-registry-suspended")

    # a suspended model produces nothing: the gate refuses the next forecast, and says so on the trail
    why = issue_refused(console, ref)
    assert why and "suspended" in why
    assert [e for e in console.trail("gate.refuse") if e["object"] == f"model:{ref}"]
    assert errors == []


def test_an_owner_submits_and_an_entry_is_reinstated_then_retired(console, browser, shot):
    gov = console.gov
    draft = gov.register("high")
    stopped = gov.active("high")
    gov.step(registry.suspend, stopped, "dpo", reason="complaint under investigation")
    console.enrol("owner")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "owner")
    page.goto(f"{console.base}/console/registry/{draft}")
    assert page.get_by_role("region", name="Approval").count() == 0
    page.get_by_role("button", name=f"Submit {draft}").click()
    assert page.get_by_role("status").get_by_text(f"{draft}: submitted for approval").is_visible()
    # the owner sees the approval panel, but no approval form: approving is for the review board
    assert page.get_by_role("region", name="Approval").get_by_text("0 of 2 approvals").is_visible()
    assert page.get_by_role("button", name=f"Approve {draft}").count() == 0

    page.goto(f"{console.base}/console/registry/{stopped}")
    assert page.get_by_role("button", name=f"Suspend {stopped}").count() == 0  # an owner has no stop button
    step = page.get_by_role("form", name="Reinstate")
    step.get_by_label("Reason").fill("The complaint was unfounded (DPO ruling 2026-11).")
    step.get_by_role("button", name=f"Reinstate {stopped}").click()
    assert page.get_by_role("status").get_by_text("back to submitted for a new approval round").is_visible()
    assert page.get_by_text("0 of 2 approvals in this round").is_visible()  # round 2 starts empty
    page.get_by_role("form", name="Retire").get_by_role("button", name=f"Retire {stopped}").click()
    assert page.get_by_role("status").get_by_text(f"{stopped}: retired").is_visible()
    states = page.get_by_role("region", name="Lifecycle history").locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert states == ["draft", "submitted", "approved", "active", "suspended", "submitted", "retired"]
    assert page.get_by_text("Earlier rounds: ap1 (approved, round 1").is_visible()
    shot(page, "16-registry-history")
    with gov.tx() as s:
        assert registry.get(s, ref=stopped).state == "retired"
    assert [e["actor"] for e in console.trail("model.retire")] == ["owner"]
    assert errors == []


def test_a_reviewer_who_accepts_everything_in_seconds_sees_the_automation_bias_warning(console, browser, shot):
    ref = console.gov.active("high")
    outs = [console.issue(ref) for _ in range(11)]
    with console.gov.tx() as s:
        for out in outs[:10]:
            review.decide(s, actor=console.gov.actor(s, "supervisor"), output_id=out, decision="accepted",
                          reason="ok")
    console.enrol("supervisor")
    console.enrol("officer")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "supervisor")
    card = page.get_by_role("article", name=f"Output {outs[10]}: Break and Enter 2021-06-01")
    decide = card.get_by_role("region", name="Your decision")
    warning = decide.get_by_role("note")
    assert warning.get_by_text("Check your own pattern: automation bias").is_visible()
    assert warning.get_by_text("You have accepted 100% of your 10 decisions").is_visible()
    # beside the buttons, and read out with the form
    assert decide.locator("form").get_attribute("aria-describedby") == f"out-{outs[10]}-bias"
    shot(page, "17-review-bias-warning")
    assert [e for e in console.trail("consultation") if e["object"] == "review:stats:self:supervisor"]

    # another reviewer, with no such pattern, sees the same output without it
    other = browser.new_context().new_page()
    sign_in(other, console, "officer")
    card = other.get_by_role("article", name=f"Output {outs[10]}: Break and Enter 2021-06-01")
    assert card.get_by_role("region", name="Your decision").is_visible()
    assert other.get_by_text("automation bias").count() == 0
    check_accessibility(other)
    assert errors == []


def test_a_dpo_downloads_the_export_bundle(console, browser, shot, tmp_path):
    ref = console.gov.active("high")
    console.issue(ref)
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = watch(page)
    sign_in(page, console, "dpo", code=console.code("dpo"), next_="?next=/console/audit")
    assert page.url.endswith("/console/audit")
    form = page.get_by_role("form", name="Export for an auditor")
    # a DPO's roles serve no "external audit": the purposes offered are the ones the policy lets them export for
    assert form.get_by_label("Purpose").locator("option").all_inner_texts() == ["data protection", "governance",
                                                                                 "retention"]
    form.get_by_label("Purpose").select_option("governance")
    shot(page, "18-audit-export")
    with page.expect_download() as dl:
        form.get_by_role("button", name="Download the export bundle").click()
    download = dl.value
    assert download.suggested_filename == "lawful-trail.tar.gz"
    path = tmp_path / "bundle.tar.gz"
    download.save_as(path)
    with tarfile.open(path, "r:gz") as tar:
        names = set(tar.getnames())
        assert {"entries.jsonl", "public_key.pem"} <= names or len(names) >= 3, names
        assert any(n.endswith(".py") for n in names), names  # the stand-alone verifier travels with it
    [export] = console.trail("audit.export")
    assert export["actor"] == "dpo" and export["purpose"] == "governance"
    assert page.url.endswith("/console/audit")  # the page stays; only the file came
    assert errors == []


def test_a_dpo_sees_a_requests_deadline_breach_clocks_holds_and_refusals(console, browser, shot):
    gov = console.gov
    now = datetime.now(timezone.utc)
    with gov.tx() as s:
        dpo = gov.actor(s, "dpo")
        late = requests.open_request(s, actor=dpo, kind="access", field="victim_name", value="Jane Roe",
                                     settings=console.settings, received_at=now - timedelta(days=40),
                                     note="letter of 2 October")
        fresh = requests.open_request(s, actor=dpo, kind="deletion", field="victim_name", value="John Doe",
                                      settings=console.settings, received_at=now - timedelta(days=2))
        deadlines = {late.id: late.deadline, fresh.id: fresh.deadline}
        breaches.record(s, actor=dpo, description="A laptop with an export was left on a train.",
                        start=now - timedelta(days=3), end=now, suspect=None, aware_at=now - timedelta(hours=10))
        retention.add_hold(s, actor=dpo, reason="investigation 2026-0412: burglary ring",
                           occurred_from=now - timedelta(days=400), occurred_to=now - timedelta(days=300))
    console.enrol("supervisor")
    with gov.tx() as s:
        token = credentials.sign_in(s, name="supervisor", password=PASSWORD, code=None, hours=1)
    assert httpx.get(f"{console.base}/api/v1/audit/log",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 403
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "dpo", code=console.code("dpo"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data protection").click()
    assert page.url.endswith("/console/privacy")

    table = page.get_by_role("region", name="Subject requests").get_by_role("table")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(late.id), exact=True))
    assert deadlines[late.id].strftime("%Y-%m-%d") in row.inner_text()
    assert row.get_by_text("overdue", exact=True).is_visible()
    assert "overdue by 10 days" in row.inner_text()
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(fresh.id), exact=True))
    assert deadlines[fresh.id].strftime("%Y-%m-%d %H:%M UTC") in row.inner_text()
    assert "27 days" in row.inner_text() and "left" in row.inner_text() and "overdue" not in row.inner_text()
    assert page.get_by_label("At a glance").get_by_text("2 open requests, 1 overdue").is_visible()

    breach = page.get_by_role("region", name="Breaches").get_by_role("row").filter(has_text="left on a train")
    assert "61 h" in breach.inner_text() and "left" in breach.inner_text()  # 72 h from awareness, 10 h ago
    assert page.get_by_role("region", name="Legal holds").get_by_text("investigation 2026-0412").is_visible()
    refusals = page.get_by_role("region", name="Access refusals").get_by_role("row").filter(has_text="supervisor")
    assert "audit.read" in refusals.inner_text()
    shot(page, "19-data-protection")
    seen = {e["object"] for e in console.trail("consultation") if e["actor"] == "dpo"}
    assert {"subject-requests", "breaches", "incidents:retention", "trail:denials"} <= seen

    # the page is the DPO's: a supervisor is refused it, on the trail
    other = browser.new_context().new_page()
    sign_in(other, console, "supervisor")
    assert other.get_by_role("navigation", name="Main").get_by_role("link", name="Data protection").count() == 0
    other.goto(f"{console.base}/console/privacy")
    assert other.get_by_role("heading", name="Refused").is_visible()
    assert any(e["details"].get("action") == "privacy.requests" for e in console.trail("access.deny")
               if e["actor"] == "supervisor")
    assert errors == []


def test_the_accessibility_check_finds_what_it_should(browser):
    page = browser.new_page()
    page.set_content('<html lang="en"><body><main><img src="x.png"><input type="text"></main></body></html>')
    import pytest

    with pytest.raises(AssertionError, match="image-alt"):
        check_accessibility(page)


def test_an_owner_attaches_the_evidence_from_the_browser_and_a_bad_file_changes_nothing(console, browser, shot,
                                                                                         tmp_path):
    """The owner of a draft attaches the evaluation, the exposure audit and the impact assessment as files (what
    the CLI writes); a figure that is not a number is refused beside the form with nothing attached; once all three
    are attached the high-tier draft can be submitted. Nobody else sees the form."""
    import copy
    import json as _json

    from tests.governance.conftest import CARD, EVALUATION, EXPOSURE

    gov = console.gov
    with gov.tx() as s:
        card = copy.deepcopy(CARD)
        card.update(tier="high", owner="owner")
        draft = registry.register(s, actor=gov.actor(s, "owner"), card=card).ref
    bad = tmp_path / "evaluation.json"
    bad.write_text('{"records": [{"model": "ensemble", "coverage": 0.05, "hit_rate": 0.3, "pai": NaN, "days": 52}]}')
    good = tmp_path / "backtest.json"
    good.write_text(_json.dumps({k: v for k, v in EVALUATION.items() if k != "source"}))
    exposure = tmp_path / "exposure.json"
    exposure.write_text(_json.dumps({k: v for k, v in EXPOSURE.items() if k != "source"}))
    fria = ROOT / "examples" / "governance" / "demo-forecaster-fria.toml"

    console.enrol("owner")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "owner")
    page.goto(f"{console.base}/console/registry/{draft}")
    evidence = page.get_by_role("region", name="Evidence for the approvers")
    assert evidence.get_by_text("not attached").count() == 3
    form = evidence.get_by_role("form", name="Attach documents")
    form.get_by_label("Evaluation (JSON)").set_input_files(str(bad))
    form.get_by_label("Exposure audit (JSON)").set_input_files(str(exposure))
    form.get_by_role("button", name="Attach").click()
    assert "evaluation.json" in page.get_by_role("alert").inner_text()
    evidence = page.get_by_role("region", name="Evidence for the approvers")
    assert evidence.get_by_text("not attached").count() == 3  # the good exposure file was not attached either
    assert not [e for e in console.trail("model.attach") if e["object"] == f"model:{draft}"]

    form = evidence.get_by_role("form", name="Attach documents")
    form.get_by_label("Evaluation (JSON)").set_input_files(str(good))
    form.get_by_label("Exposure audit (JSON)").set_input_files(str(exposure))
    form.get_by_label("Impact assessment (TOML)").set_input_files(str(fria))
    form.get_by_role("button", name="Attach").click()
    assert page.get_by_role("status").get_by_text(f"{draft}: documents attached").is_visible()
    evidence = page.get_by_role("region", name="Evidence for the approvers")
    assert evidence.get_by_text("not attached").count() == 0 and evidence.get_by_text("attached", exact=True).count() == 3
    assert [e for e in console.trail("model.attach") if e["object"] == f"model:{draft}" and e["actor"] == "owner"]
    shot(page, "16b-registry-attach-evidence")
    page.get_by_role("button", name=f"Submit {draft}").click()
    assert page.get_by_role("status").get_by_text(f"{draft}: submitted for approval").is_visible()
    assert page.get_by_role("region", name="Evidence for the approvers").count() == 0  # only a draft takes files

    console.enrol("ap1")
    other = browser.new_page()
    sign_in(other, console, "ap1", code=console.code("ap1"))
    with gov.tx() as s:
        card = copy.deepcopy(CARD)
        card.update(tier="high", owner="owner", version=7)
        second = registry.register(s, actor=gov.actor(s, "owner"), card=card).ref
    other.goto(f"{console.base}/console/registry/{second}")
    assert other.get_by_role("form", name="Attach documents").count() == 0
    assert other.get_by_text("Only the owner, owner, attaches documents").is_visible()
    assert errors == []
