"""Paths around governance that an insider could take, closed: a rule set's card cannot let a forecast out (a
forecast comes only from a forecast model, reviewed as one); a refusal ends the approval round (approvals given
before it do not carry a resubmission); a patrol plan is not made from a suspended model's forecast, nor for a day
far from the forecast's; rejecting case-file suggestions runs the breaker like every other decision."""

from __future__ import annotations

from datetime import date

import pytest

from lawful.access.service import create
from lawful.errors import Conflict, InputError
from lawful.governance import gate, registry
from tests.casefiles.conftest import EXAMPLES, cases  # noqa: F401
from tests.casefiles.test_api import API, server, who  # noqa: F401
from tests.governance.conftest import Gov, gov  # noqa: F401
from tests.patrol.conftest import patrol  # noqa: F401


def test_a_forecast_comes_only_from_a_forecast_model(gov):
    ref = gov.active("high")
    with gov.tx() as s:
        entry = registry.get(s, ref=ref)
        assert gate.precheck(s, actor=gov.actor(s, "analyst"), entry=entry, purpose="patrol planning",
                             kind="forecast") is None  # the forecast model itself: let out
        entry.kind = "rule-set"  # what a rule set's card with a [model] table registers as
        why = gate.precheck(s, actor=gov.actor(s, "analyst"), entry=entry, purpose="patrol planning", kind="forecast")
    assert why and "a forecast comes only from a forecast-model" in why


def test_a_refusal_ends_the_approval_round(gov):
    with gov.tx() as s:
        create(s, creator=gov.actor(s, "admin"), name="ap3", roles=["approver"])
    ref = gov.register("high")
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    assert gov.approve(ref, "ap1") == "submitted"
    gov.step(registry.refuse, ref, "ap2", reason="the exposure audit is too thin")
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    assert gov.approve(ref, "ap3") == "submitted"  # ap1's approval was of the refused round: two are needed again
    assert gov.approve(ref, "ap1") == "approved"


def test_no_plan_from_a_suspended_models_forecast(patrol):  # noqa: F811
    patrol.step(registry.suspend, patrol.forecaster, "dpo", reason="serious incident: discriminatory pattern")
    with pytest.raises(Conflict, match="suspended .serious incident"):
        patrol.plan()


def test_no_plan_for_a_day_far_from_the_forecasts(patrol):  # noqa: F811
    with pytest.raises(InputError, match="not within 7 days after the forecast's day"):
        patrol.plan(day=date(2031, 6, 1))
    assert patrol.plan(day=date(2019, 12, 11))["id"]  # the week after it: as before


def test_rejecting_case_file_suggestions_runs_the_breaker(store, cases, server, monkeypatch):  # noqa: F811
    monkeypatch.setenv("LAWFUL_GOV_MIN_DECISIONS", "2")
    r = server.post(f"{API}/imports", headers=who(store, "pc"),
                    files={"files": ("statements.jsonl", (EXAMPLES / "statements.jsonl").read_bytes())})
    assert r.status_code == 201, r.text
    issued = server.post(f"{API}/cases/CF-2026-0412/analysis", headers=who(store, "det"), json={}).json()["issued"]
    last = None
    for s in issued:
        last = server.post(f"{API}/suggestions/{s['id']}/decision", headers=who(store, "pc"),
                           json={"decision": "rejected", "reason": "wrong"})
        assert last.status_code == 200, last.text
        if last.json().get("suspended"):
            break
    assert last.json()["model_state"] == "suspended" and last.json()["breaches"], last.json()



def test_the_breaker_counts_what_was_decided_in_its_window_however_old_the_output(gov):
    """Twelve outputs issued 29 days ago and all rejected today: today's verdict (it counted none before)."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from lawful.governance import review
    from lawful.governance.models import Output
    from lawful.governance.monitor import figures

    ref = gov.active("medium")
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        ids = [gate.issue(s, actor=gov.actor(s, "analyst"), entry=e, purpose="patrol planning", kind="forecast",
                          subject=f"x{i}", payload={"i": i}, explanation=[{"sentence": "because"}]).output.id
               for i in range(12)]
        s.execute(update(Output).where(Output.id.in_(ids)).values(
            issued_at=datetime.now(timezone.utc) - timedelta(days=29)))
    for i in ids:
        with gov.tx() as s:
            review.decide(s, actor=gov.actor(s, "supervisor"), output_id=i, decision="rejected", reason="wrong")
    with gov.tx() as s:
        f = figures(s, entry=registry.get(s, ref=ref), thresholds=gov.t)
    assert (f.decided, f.rejected) == (12, 12) and any("misjudgment" in b for b in f.breaches)
