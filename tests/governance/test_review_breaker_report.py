"""Human review, automation bias, the automatic breaker, serious incidents and the weekly report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lawful.errors import LawfulError
from lawful.governance import gate, monitor, registry, review, serious
from lawful.governance.models import Output, Review
from tests.conftest import PASSWORD, admin, run_cli


def issue_many(gov, ref, n, who="analyst"):
    ids = []
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        for i in range(n):
            r = gate.issue(s, actor=gov.actor(s, who), entry=e, purpose="patrol planning", kind="forecast",
                           subject=f"forecast {i}", payload={"i": i}, explanation=["place flagged"])
            ids.append(r.output.id)
    return ids


def decide_all(gov, ids, decisions, who="supervisor"):
    with gov.tx() as s:
        for i, d in zip(ids, decisions):
            review.decide(s, actor=gov.actor(s, who), output_id=i, decision=d, reason="checked on the ground",
                          amendment={"text": "two cells moved"} if d == "amended" else None)


def test_a_decision_needs_an_authorised_named_person_and_a_reason(gov):
    ref = gov.active()
    [oid] = issue_many(gov, ref, 1)
    for who, decision, reason, message in [("ap1", "accepted", "ok", "no role of ap1 .approver. grants outputs.decide"),
                                           ("supervisor", "accepted", " ", "needs a reason"),
                                           ("supervisor", "amended", "moved", "needs the amended content"),
                                           ("supervisor", "maybe", "x", "not a decision")]:
        with pytest.raises(LawfulError, match=message), gov.tx() as s:
            review.decide(s, actor=gov.actor(s, who), output_id=oid, decision=decision, reason=reason)
    decide_all(gov, [oid], ["accepted"])
    with pytest.raises(LawfulError, match="already accepted"):
        decide_all(gov, [oid], ["rejected"], who="officer")


def test_automation_bias_warning_for_fast_near_total_acceptance(gov, capsys):
    ref = gov.active()
    ids = issue_many(gov, ref, 24)
    decide_all(gov, ids[:12], ["accepted"] * 12, who="supervisor")  # seconds after issue, all accepted
    decide_all(gov, ids[12:], ["accepted", "rejected", "amended"] * 4, who="officer")
    with gov.tx() as s:  # officer's decisions took ten minutes each
        for r in s.scalars(select(Review).where(Review.reviewer == "officer")):
            r.seconds = 600.0
    with gov.tx() as s:
        rows = {r.who: r for r in review.stats(s, thresholds=gov.t)}
    assert rows["supervisor"].warning and "automation bias" in rows["supervisor"].warning
    assert rows["officer"].warning is None
    code, out, _ = run_cli(["review", "stats", "--as", "dpo"], capsys)
    assert "automation bias" in out and "100%" in out


def test_the_breaker_trips_by_itself_when_most_outputs_are_rejected(gov):
    ref = gov.active()
    ids = issue_many(gov, ref, 12)
    decide_all(gov, ids, ["rejected"] * 8 + ["accepted"] * 4)
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        [f] = monitor.enforce(s, entries=[e], thresholds=gov.t)
        assert f.misjudgment == pytest.approx(8 / 12)
        assert e.state == "suspended" and e.state_reason.startswith("automatic: misjudgment rate 67%")
    with gov.tx() as s:
        r = gate.issue(s, actor=gov.actor(s, "analyst"), entry=registry.get(s, ref=ref), purpose="patrol planning",
                       kind="alert", subject="x", payload={}, explanation=["y"])
    assert not r.allowed and "suspended: automatic: misjudgment" in r.refused


def test_too_few_decisions_do_not_trip_the_breaker(gov):
    ref = gov.active()
    ids = issue_many(gov, ref, 3)
    decide_all(gov, ids, ["rejected"] * 3)
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        monitor.enforce(s, entries=[e], thresholds=gov.t)
        assert e.state == "active"


@pytest.mark.parametrize("widespread, death, days", [(False, False, 15), (True, False, 2), (False, True, 10),
                                                    (True, True, 2)])
def test_serious_incident_deadline_and_suspension(gov, widespread, death, days):
    ref = gov.active()
    aware = datetime.now(timezone.utc) - timedelta(days=1)
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        inc = serious.record(s, actor=gov.actor(s, "dpo"), entry=e, kind="wrongful-stop", description="stop at flagged place",
                             aware_at=aware, widespread=widespread, death=death)
        assert inc.deadline - aware == timedelta(days=days)
        assert e.state == "suspended" and f"serious incident {inc.id}" in e.state_reason


def test_weekly_report_names_the_model_whose_misjudgment_rate_moved(gov, capsys):
    ref = gov.active()
    ids = issue_many(gov, ref, 20)
    decide_all(gov, ids[:10], ["accepted"] * 8 + ["rejected"] * 2)  # 20% the week before
    decide_all(gov, ids[10:], ["accepted"] * 6 + ["rejected"] * 4)  # 40% this week
    with gov.tx() as s:
        for r in s.scalars(select(Review).where(Review.output_id.in_(ids[:10]))):
            r.decided_at -= timedelta(days=7)
        for o in s.scalars(select(Output).where(Output.id.in_(ids[:10]))):
            o.issued_at -= timedelta(days=7)
    with gov.tx() as s:
        serious.record(s, actor=gov.actor(s, "dpo"), entry=registry.get(s, ref=ref), kind="data-leak",
                       description="export mailed to the wrong address",
                       aware_at=datetime.now(timezone.utc) - timedelta(days=20))
    code, out, err = run_cli(["report", "weekly", "--as", "ap1"], capsys)
    assert code == 0, err
    assert "Misjudgment rate (outputs judged wrong) rose from 20% to 40% (+20 points)" in out
    assert "toronto-bne-forecaster: the misjudgment rate rose by 20 points to 40%" in out
    assert "serious incident 1 (data-leak) must be reported by" in out and "OVERDUE" in out
    assert "automatically by the circuit breaker" in out and "is suspended" in out


def test_an_empty_registry_gets_a_plain_report(gov, capsys):
    code, out, _ = run_cli(["report", "weekly", "--week-ending", "2026-11-21", "--as", "dpo"], capsys)
    assert code == 0 and "No model or rule set has been submitted yet." in out and "Nothing this week." in out


def test_users_exist_only_once_created_and_only_admins_create_them(store, capsys):
    code, out, err = run_cli(["users", "list"], capsys)
    assert code == 2 and "bearer token" in err  # nobody exists yet, so nobody is signed in
    code, out, err = run_cli(["users", "add", "eve", "--role", "approver", "--as", "eve"], capsys)
    assert code == 2 and "the token is not valid" in err  # eve holds no real token
    admin("root", capsys)
    code, out, err = run_cli(["admin", "create-admin", "mallory", "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 2 and "an admin exists already" in err
    assert run_cli(["users", "add", "ana", "--role", "analyst", "--as", "root"], capsys)[0] == 0
    code, out, err = run_cli(["users", "add", "bob", "--role", "approver", "--as", "ana"], capsys)
    assert code == 2 and "no role of ana (analyst) grants users.create" in err
