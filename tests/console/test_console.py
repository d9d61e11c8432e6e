"""Journeys through the console in Debian's Chromium: a supervisor signs in and accepts a forecast with a reason
after reading its explanation; a form posted without the session's CSRF token is refused and recorded; a DPO signs
in with a one-time code, searches and verifies the trail; the registry and a model card; sign-out ends the session;
lock-out as in the API. Every page is screenshotted (tests' tmp dir and /work/console-shots/)."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.console.conftest import PASSWORD


def sign_in(page, console, name: str, *, code: str | None = None, password: str = PASSWORD, next_: str = ""):
    page.goto(f"{console.base}/console/sign-in{next_}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    if code is not None:
        page.get_by_label("One-time code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def watch(page) -> list[str]:
    """Console errors the page logs (a Content-Security-Policy violation is one, so is a missing stylesheet); a
    page answered with an expected refusal (401, 403, 422) is not one."""
    errors: list[str] = []
    expected = ("status of 401", "status of 403", "status of 422")
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not any(x in m.text for x in expected) else None)
    return errors


def test_a_supervisor_reads_the_explanation_and_accepts_with_a_reason(console, browser, shot):
    ref = console.gov.active("high")
    out = console.issue(ref)
    console.enrol("supervisor")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)

    page.goto(f"{console.base}/console/review")  # not signed in: sent to sign in, and back here afterwards
    assert "/console/sign-in" in page.url
    shot(page, "01-sign-in")
    page.get_by_label("Name").fill("supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/console/review")

    # the layout: who is signed in, with which roles; navigation for a supervisor has no audit page
    assert page.get_by_text("Signed in as supervisor").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Review queue").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Audit trail").count() == 0

    # the explanation is on the same screen as the buttons: the place, its sentence and a bar per term
    card = page.get_by_role("article", name=f"Output {out}: Break and Enter 2021-06-01")
    assert card.get_by_text("cell 0,0 (centre 628125 E, 4833125 N)").is_visible()
    assert card.get_by_text("31 long-term rate in the cell 46%").first.is_visible()
    assert card.locator(".term").count() == 9  # three places shown, three terms each
    assert card.get_by_text("and 9 more places").is_visible()
    shot(page, "02-review-queue")

    # the reason is required: the browser will not send the form without it, and the server refuses a blank one
    card.get_by_label("Accept").check()
    card.get_by_role("button", name=f"Record decision on output {out}").click()
    assert page.url.endswith("/console/review")
    assert card.get_by_label("Reason").evaluate("e => e.validity.valueMissing")
    card.get_by_label("Reason").fill("   ")
    card.get_by_role("button", name=f"Record decision on output {out}").click()
    assert page.get_by_role("alert").get_by_text("a decision needs a reason").is_visible()
    assert console.trail("review.decide") == []

    card = page.get_by_role("article", name=f"Output {out}: Break and Enter 2021-06-01")
    card.get_by_label("Accept").check()
    card.get_by_label("Reason").fill("Checked against last week's patrol notes; the burglary cluster is real.")
    card.get_by_role("button", name=f"Record decision on output {out}").click()
    assert page.get_by_role("status").get_by_text(f"Output {out}: accepted").is_visible()
    assert page.get_by_text("Nothing is waiting for you").is_visible()
    shot(page, "03-review-decided")

    [entry] = console.trail("review.decide")
    assert entry["actor"] == "supervisor" and entry["object"] == f"output:{out}"
    assert entry["details"]["decision"] == "accepted"
    assert entry["details"]["reason"].startswith("Checked against last week's patrol notes")
    assert errors == []


def test_a_forecast_output_page_draws_its_cells_and_lists_them(console, browser, shot):
    ref = console.gov.active("high")
    out = console.issue(ref)
    console.enrol("supervisor")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "supervisor")
    page.get_by_role("link", name=f"Open the map and table of output {out}").click()
    assert page.url.endswith(f"/console/outputs/{out}")
    svg = page.get_by_role("img", name=f"Map of the 12 flagged cells of output {out}")
    assert svg.locator("rect.cell").count() == 12
    # north up: the cell one row north of rank 1 is drawn above it, the one east of it to its right
    r1, r2, r3 = (svg.locator("rect.cell").nth(i).bounding_box() for i in range(3))
    assert r2["x"] > r1["x"] and abs(r2["y"] - r1["y"]) < 1
    assert r3["y"] < r1["y"] and abs(r3["x"] - r1["x"]) < 1
    table = page.get_by_role("table")
    assert table.locator("tbody tr").count() == 12
    assert table.locator("tbody tr").first.get_by_text("cell 0,0 (centre 628125 E, 4833125 N)").is_visible()
    shot(page, "04-forecast-output")
    assert [e for e in console.trail("consultation") if e["object"] == f"output:{out}"]  # the reading is on the trail

    # at 200% zoom (half the CSS width) the page reflows: nothing scrolls sideways but the wide table's own box
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(f"{console.base}/console/review")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "05-review-at-200-percent")
    assert errors == []


def test_a_form_without_the_sessions_csrf_token_is_refused_and_recorded(console, browser, shot):
    ref = console.gov.active("high")
    out = console.issue(ref)
    console.enrol("supervisor")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, console, "supervisor")
    assert page.url.endswith("/console/review")

    [cookie] = [c for c in context.cookies() if c["name"] == "lawful_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert page.evaluate("document.cookie") == ""  # no script on the page can read the session

    form = {"decision": "accepted", "reason": "forged"}
    for token in (None, "0" * 64):
        data = form if token is None else {**form, "csrf": token}
        r = context.request.post(f"{console.base}/console/review/{out}/decision", form=data, max_redirects=0)
        assert r.status == 403
        assert "did not come from your console session" in r.text()
    refusals = [e for e in console.trail("access.deny") if e["actor"] == "supervisor"]
    assert len(refusals) == 2 and all("CSRF" in e["details"]["reason"] for e in refusals)
    assert console.trail("review.decide") == []
    page.reload()
    assert page.get_by_role("article", name=f"Output {out}: Break and Enter 2021-06-01").is_visible()

    # and the session cookie is no bearer token for the API's forms either: the API wants its own header
    assert httpx.post(f"{console.base}/api/v1/review/outputs/{out}/decision",
                      json={"decision": "accepted", "reason": "x"},
                      cookies={"lawful_session": cookie["value"]}).status_code == 401

    # a page the policy refuses a supervisor says so, and the refusal is on the trail
    page.goto(f"{console.base}/console/audit")
    assert page.get_by_role("heading", name="Refused").is_visible()
    assert page.get_by_text("This refusal has been recorded on the decision trail.").is_visible()
    shot(page, "06-refused")
    assert any(e["details"].get("action") == "audit.read" for e in console.trail("access.deny")
               if e["actor"] == "supervisor")


def test_a_dpo_signs_in_with_a_one_time_code_then_searches_and_verifies_the_trail(console, browser, shot):
    ref = console.gov.active("high")
    console.issue(ref)
    console.enrol("dpo")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)

    sign_in(page, console, "dpo")  # the password alone is not enough for a DPO
    assert "/console/sign-in" in page.url
    assert page.get_by_role("alert").get_by_text("sign-in failed").is_visible()
    shot(page, "07-sign-in-failed")
    sign_in(page, console, "dpo", code=console.code("dpo"))
    assert page.url.endswith("/console/review")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Audit trail").click()
    assert page.url.endswith("/console/audit")
    assert page.get_by_role("table").get_by_text("output.issue").first.is_visible()

    page.get_by_label("Actor").fill("analyst")
    page.get_by_role("button", name="Search").click()
    actors = page.locator("table tbody tr td:nth-child(3)").all_inner_texts()
    assert actors and set(actors) == {"analyst"}
    shot(page, "08-audit-search")

    page.get_by_role("button", name="Verify the trail").click()
    result = page.locator("#verify-result")
    assert "The trail verifies." in result.inner_text()
    shot(page, "09-audit-verified")
    assert [e for e in console.trail("consultation") if e["object"] == "trail:verify" and e["actor"] == "dpo"]

    nav.get_by_role("link", name="Registry").click()
    row = page.get_by_role("row").filter(has_text="active")
    assert row.count() == 1 and "high" in row.inner_text()
    shot(page, "10-registry")
    row.get_by_role("link").click()
    assert page.get_by_role("heading", name="Legal basis").is_visible()
    assert page.get_by_role("heading", name="Fundamental-rights impact assessment").is_visible()
    shot(page, "11-model-card")

    # someone edits an entry behind the trail's back: verification names the first bad entry
    with console.gov.engine.begin() as conn:  # the store's own guard refuses this; an attacker with the DB drops it
        conn.execute(text("DROP TRIGGER audit_entries_no_update" if conn.dialect.name == "sqlite"
                          else "DROP TRIGGER audit_entries_no_change ON audit_entries"))
        conn.execute(text("UPDATE audit_entries SET details = :d WHERE action = 'output.issue'"), {"d": "{}"})
        [seq] = conn.execute(text("SELECT seq FROM audit_entries WHERE action = 'output.issue'")).scalars()
    nav.get_by_role("link", name="Audit trail").click()
    page.get_by_role("button", name="Verify the trail").click()
    result = page.locator("#verify-result")
    assert "The trail does not verify." in result.inner_text()
    assert f"The first bad entry is #{seq}" in result.inner_text()
    shot(page, "12-audit-tampered")
    assert errors == []


def test_sign_out_ends_the_session_and_repeated_failures_lock_the_account(console, browser):
    console.enrol("supervisor")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, console, "supervisor")
    [cookie] = [c for c in context.cookies() if c["name"] == "lawful_session"]
    token = cookie["value"]
    assert httpx.get(f"{console.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in page.url
    assert [c for c in context.cookies() if c["name"] == "lawful_session"] == []
    assert httpx.get(f"{console.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page.goto(f"{console.base}/console/registry")
    assert "/console/sign-in" in page.url

    for _ in range(5):
        sign_in(page, console, "supervisor", password="not the password at all")
    sign_in(page, console, "supervisor")  # the right password, but the account is locked now
    assert "/console/sign-in" in page.url
    assert page.get_by_role("alert").get_by_text("locked").is_visible()
    assert any("locked_until" in e["details"] for e in console.trail("access.deny"))


def test_a_sign_in_form_from_elsewhere_is_refused(console, browser):
    console.enrol("supervisor")
    r = httpx.post(f"{console.base}/console/sign-in", data={"name": "supervisor", "password": PASSWORD})
    assert r.status_code == 403 and "lawful_session" not in r.cookies
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
