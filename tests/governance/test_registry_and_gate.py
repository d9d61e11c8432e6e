"""Approval before use: what the registry and the gate refuse, and why, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lawful.errors import InputError, LawfulError
from lawful.governance import gate, registry
from lawful.governance.card import check_card
from lawful.governance.models import Approval, Output
from lawful.trail.models import TrailEntry
from tests.conftest import run_cli
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture)
from tests.governance.conftest import CARD, EVALUATION, ROOT


def issue(gov, ref, who="analyst", purpose="patrol planning", area=None, explanation=("why",)):
    with gov.tx() as s:
        e = registry.get(s, ref=ref)
        r = gate.issue(s, actor=gov.actor(s, who), entry=e, purpose=purpose, kind="forecast", subject="test",
                       payload={"cells": []}, explanation=list(explanation), area=area)
        return r.refused if not r.allowed else None


def trail_actions(gov) -> list[str]:
    with gov.tx() as s:
        return list(s.scalars(select(TrailEntry.action).order_by(TrailEntry.seq)))


def test_an_unapproved_model_cannot_issue_and_the_refusal_is_on_the_trail(gov):
    ref = gov.register()
    assert "draft, not approved and active" in issue(gov, ref)
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    assert "submitted, not approved" in issue(gov, ref)
    assert trail_actions(gov)[-1] == "gate.refuse"
    with gov.tx() as s:
        assert s.scalar(select(Output)) is None


def test_self_approval_is_refused(gov):
    ref = gov.register()
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    with gov.tx() as s:  # the owner is made an approver too: still not their own submission
        from lawful.access.models import User
        s.scalar(select(User).where(User.name == "owner")).roles = ["model-owner", "approver"]
    with pytest.raises(LawfulError, match="cannot approve it"):
        gov.approve(ref, "owner")


def test_high_tier_needs_two_distinct_approvers(gov):
    ref = gov.register()
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    assert gov.approve(ref, "ap1") == "submitted"
    with pytest.raises(LawfulError, match="cannot become active"):
        gov.step(registry.activate, ref, "owner")
    assert "not approved and active" in issue(gov, ref)
    with pytest.raises(LawfulError, match="already approved"):
        gov.approve(ref, "ap1")
    assert gov.approve(ref, "ap2") == "approved"
    gov.step(registry.activate, ref, "owner")
    assert issue(gov, ref) is None


def test_medium_tier_needs_one_approver(gov):
    ref = gov.active(tier="medium")
    assert issue(gov, ref) is None


def test_high_tier_submission_without_results_or_below_thresholds_is_refused_with_the_reason(gov):
    with gov.tx() as s:
        e = registry.register(s, actor=gov.actor(s, "owner"), card=dict(copy.deepcopy(CARD), owner="owner"))
        ref = e.ref
    with pytest.raises(LawfulError, match="no evaluation results are attached.*no exposure-audit"):
        gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    poor = {"source": "t", "records": [dict(EVALUATION["records"][0], pai=1.4)]}
    skewed = {"source": "t", "model": "ensemble", "coverage": 0.05, "days": 5, "misplaced": 0.8}
    gov.step(registry.attach, ref, "owner", evaluation=poor, exposure=skewed)
    with pytest.raises(LawfulError, match=r"PAI at 5% is 1.40, below the required 2.*80% of the attention"):
        gov.step(registry.submit, ref, "owner", thresholds=gov.t)


def test_high_tier_approval_needs_a_complete_impact_assessment(gov):
    ref = gov.register()
    gov.step(registry.attach, ref, "owner", fria={"risks": "listed"})
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    with pytest.raises(LawfulError, match="impact assessment is incomplete: missing process_and_frequency"):
        gov.approve(ref, "ap1")


@pytest.mark.parametrize("change, message", [
    ({"output": "people"}, "output is about individual people"),
    ({"techniques": ["Facial recognition"]}, "identifies people biometrically"),
    ({"techniques": ["person scoring"]}, "ranks individual people"),
    ({"legal_basis": []}, "field legal_basis: missing or empty"),
    ({"kind": "rule-set"}, r"needs \[rules\] sha256"),
])
def test_cards_for_what_lawful_does_not_do_or_without_legal_basis_are_refused(change, message):
    card = dict(copy.deepcopy(CARD), **change)
    with pytest.raises(InputError, match=message):
        check_card(card)


def test_register_cli_refuses_a_person_scoring_card_and_writes_nothing(gov, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text((ROOT / "examples" / "governance" / "demo-forecaster.toml").read_text()
                    .replace('output = "places"', 'output = "people"').replace("demo-owner", "owner"))
    run_cli(["models", "list", "--as", "owner"], capsys)  # signs the owner in (a token) before counting
    before = trail_actions(gov)
    code, out, err = run_cli(["models", "register", str(path), "--as", "owner"], capsys)
    assert code == 2 and "cannot be registered" in err and "EU AI Act" in err
    assert trail_actions(gov) == before  # the refused request wrote nothing, not even its own entry
    with gov.tx() as s:
        assert registry.get_all(s) == []


def test_purpose_area_role_and_expiry_are_checked(gov):
    ref = gov.register(tier="medium")
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    gov.approve(ref, "ap1", areas=["Hood1"])
    gov.step(registry.activate, ref, "owner")
    assert "may not be used for 'investigation 12'" in issue(gov, ref, purpose="investigation 12", area="Hood1")
    assert "not approved for the purpose 'crime analysis'" in issue(gov, ref, purpose="crime analysis", area="Hood1")
    assert "not approved for area 'Hood2'" in issue(gov, ref, area="Hood2")
    assert "no role of officer (officer) grants outputs.issue" in issue(gov, ref, who="officer", area="Hood1")
    assert "must carry its explanation" in issue(gov, ref, area="Hood1", explanation=())
    assert issue(gov, ref, area="Hood1") is None
    with gov.tx() as s:  # time passes: the approval runs out
        a = s.scalar(select(Approval))
        a.expires_at = datetime.now(timezone.utc) - timedelta(days=1)
    assert "expired on" in issue(gov, ref, area="Hood1")


def test_approval_purposes_must_come_from_the_card(gov):
    ref = gov.register()
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    with pytest.raises(LawfulError, match="not among the card's purposes"):
        gov.approve(ref, "ap1", purposes=["mass surveillance"])


def test_suspended_model_is_refused_with_the_reason_and_reinstating_needs_approval_again(gov, capsys):
    ref = gov.active()
    code, out, err = run_cli(["models", "suspend", ref, "--reason", "complaint under review", "--as", "analyst"], capsys)
    assert code == 2 and "no role of analyst (analyst) grants models.suspend" in err
    code, out, _ = run_cli(["audit", "log", "--action", "access.deny", "--as", "dpo"], capsys)
    assert "analyst" in out and "access.deny" in out  # the denial is on the trail
    code, out, err = run_cli(["models", "suspend", ref, "--reason", "complaint under review", "--as", "dpo"], capsys)
    assert code == 0, err
    assert "suspended: complaint under review" in issue(gov, ref)
    assert gov.step(registry.reinstate, ref, "owner", reason="complaint answered") == "submitted"
    assert "not approved and active" in issue(gov, ref)
    gov.approve(ref, "ap1")
    gov.approve(ref, "ap2")  # a new round: both approvals again
    gov.step(registry.activate, ref, "owner")
    assert issue(gov, ref) is None


def test_sandbox_outputs_are_stored_but_only_owner_and_reviewers_see_them(gov, capsys):
    ref = gov.register()
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    assert gov.approve(ref, "ap1", sandbox=True) == "sandbox"
    assert issue(gov, ref, who="owner") is None
    code, out, _ = run_cli(["review", "list", "--as", "supervisor"], capsys)
    assert "Nothing is waiting" in out
    code, out, _ = run_cli(["review", "list", "--as", "ap2"], capsys)
    assert "yes" in out  # the sandbox column
    code, out, err = run_cli(["review", "decide", "1", "--accept", "--reason", "ok", "--as", "supervisor"], capsys)
    assert code == 2 and "sandbox output" in err


def test_forecast_issue_cli_goes_through_the_gate_end_to_end(loaded, gov, capsys):  # noqa: F811
    code, out, err = run_cli(["forecast", "issue", "toronto-bne-forecaster", "--purpose", "patrol planning",
                              "--date", "2019-12-10", "--as", "analyst"], capsys)
    assert code == 2 and "nothing named" in err
    ref = gov.active(tier="medium")
    code, out, err = run_cli(["forecast", "issue", ref, "--purpose", "patrol planning", "--date", "2019-12-10",
                              "--as", "analyst"], capsys)
    assert code == 0, err
    assert "Output 1 (recommendation)" in out and "incidents" in out
    with gov.tx() as s:
        o = s.get(Output, 1)
        assert o.status == "open" and len(o.explanation) == len(o.payload["cells"]) > 0
        assert o.payload["day"] == "2019-12-10"
    code, out, err = run_cli(["review", "decide", "1", "--accept", "--reason", "fine", "--as", "analyst"], capsys)
    assert code == 2 and "cannot also decide" in err
    code, out, err = run_cli(["review", "decide", "1", "--reject", "--reason", "wrong area", "--as", "supervisor"],
                             capsys)
    assert code == 0 and "rejected by supervisor" in out
    code, out, err = run_cli(["models", "monitor", "--json", "--as", "dpo"], capsys)
    figs = json.loads(out)[0]
    assert figs["decided"] == 1 and figs["misjudgment"] == 1.0 and figs["realised_pai"] is not None
    assert figs["breaches"] == []  # one decision is too few to trip the breaker


def test_model_card_renders_as_markdown_and_html(gov, capsys):
    ref = gov.register()
    code, out, _ = run_cli(["models", "card", ref, "--as", "analyst"], capsys)
    assert code == 0 and "## Legal basis" in out and "Community Safety and Policing Act" in out
    assert "ensemble at 5% of cells: hit rate 30.0%, PAI 6.00" in out and "MISSING" not in out
    code, out, _ = run_cli(["models", "card", ref, "--html", "--as", "analyst"], capsys)
    assert out.startswith("<!doctype html>") and "<h2>Fundamental-rights impact assessment</h2>" in out


def test_the_next_version_counts_up_and_drafts_only_take_attachments(gov):
    ref1 = gov.register()
    ref2 = gov.register()
    assert (ref1, ref2) == ("toronto-bne-forecaster:1", "toronto-bne-forecaster:2")
    gov.step(registry.submit, ref2, "owner", thresholds=gov.t)
    with pytest.raises(LawfulError, match="only be attached to a draft"):
        gov.step(registry.attach, ref2, "owner", evaluation=EVALUATION)


def test_an_analyst_cannot_forecast_from_incidents_above_their_clearance(loaded, gov, capsys):  # noqa: F811
    ref = gov.active(tier="medium")
    run_cli(["users", "add", "pia", "--role", "analyst", "--clearance", "public", "--as", "admin"], capsys)
    code, out, err = run_cli(["forecast", "issue", ref, "--purpose", "patrol planning", "--date", "2019-12-10",
                              "--as", "pia"], capsys)
    assert code == 2 and "incidents Break and Enter is internal, above pia's clearance (public)" in err
    with gov.tx() as s:
        assert s.query(Output).count() == 0
    code, out, _ = run_cli(["access", "denials", "--as", "dpo"], capsys)  # the trail's refusals: audit.read
    assert "pia" in out and "incidents.read" in out


def test_a_purpose_rides_only_on_its_exact_approval_or_a_declared_sub_purpose(gov):
    ref = gov.active(tier="medium")
    refused = issue(gov, ref, purpose="patrol planning of protest organisers")
    assert refused and "patrol planning of protest organisers" in refused
    assert issue(gov, ref, purpose="Patrol  Planning") is None  # case and spacing aside, it is the same purpose


def test_an_unusable_evaluation_cannot_carry_a_high_tier_model_to_approval(gov):
    with gov.tx() as s:
        e = registry.register(s, actor=gov.actor(s, "owner"), card=dict(copy.deepcopy(CARD), owner="owner"))
        ref = e.ref
    nan_pai = {"source": "t", "records": [dict(EVALUATION["records"][0], pai=float("nan"))]}
    with pytest.raises(InputError, match="record 1, pai: nan"):
        gov.step(registry.attach, ref, "owner", evaluation=nan_pai)
    with pytest.raises(InputError, match="missing model, coverage, days, misplaced"):
        gov.step(registry.attach, ref, "owner", exposure={})
    with pytest.raises(LawfulError, match="no evaluation results are attached"):
        gov.step(registry.submit, ref, "owner", thresholds=gov.t)  # nothing was attached, so nothing goes forward


@pytest.mark.parametrize("technique", ["face recognition matching", "Person-Scoring", "facial_recognition systems",
                                       "emotion-detection", "lie detection of witnesses"])
def test_prohibited_techniques_are_refused_however_they_are_spelled(technique):
    with pytest.raises(InputError, match="cannot be registered"):
        check_card(dict(copy.deepcopy(CARD), techniques=[technique]))
    with pytest.raises(InputError, match="cannot be registered"):
        check_card(dict(copy.deepcopy(CARD), techniques=technique))  # a string, not a list: still refused


def test_ordinary_techniques_are_not_mistaken_for_prohibited_ones():
    for t in ("face detection to blur faces", "kernel density", "scoring places by risk", "gradient-boosted trees"):
        assert check_card(dict(copy.deepcopy(CARD), techniques=[t]))["techniques"] == [t]
