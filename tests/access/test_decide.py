"""The policy decision point: deny by default, never more than the policy grants, and the refusals users meet."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.access.decide import LEVELS, Policy, Resource, decide, load_policy, parse_policy, purpose_matches
from tests.conftest import admin, run_cli

ROLES = ["admin", "analyst", "supervisor", "officer", "model-owner", "approver", "dpo", "auditor"]
ACTIONS = ["models.approve", "models.register", "outputs.issue", "outputs.decide", "incidents.read", "audit.export",
           "users.create", "reidentify"]
PURPOSES = ["patrol planning", "crime analysis", "investigation", "investigation 2026-0412", "governance", "marketing"]


@dataclass(frozen=True)
class Person:
    name: str
    roles: frozenset
    clearance: str


policies = st.builds(
    lambda roles, models: Policy(roles, models),
    st.dictionaries(st.sampled_from(ROLES), st.tuples(st.frozensets(st.sampled_from(ACTIONS)),
                                                       st.lists(st.sampled_from(PURPOSES), max_size=3).map(tuple))),
    st.dictionaries(st.sampled_from(["m1", "m2"]), st.lists(st.sampled_from(PURPOSES), max_size=2).map(tuple)))
people = st.builds(Person, st.just("p"), st.frozensets(st.sampled_from(ROLES), max_size=3), st.sampled_from(LEVELS))
resources = st.builds(Resource, st.sampled_from(["model", "incidents", "output"]), st.sampled_from(["m1", "m2", ""]),
                      st.sampled_from(LEVELS))


@settings(max_examples=500, deadline=None)
@given(policies, people, st.sampled_from(ACTIONS), resources, st.sampled_from(PURPOSES + ["", " "]))
def test_never_allows_what_the_policy_does_not_grant(policy, person, action, resource, purpose):
    d = decide(person, action, resource, purpose, policy)
    if d.allowed:
        granting = [r for r in person.roles if r in policy.roles and action in policy.roles[r][0]
                    and any(purpose_matches(p, purpose) for p in policy.roles[r][1])]
        assert granting, "allowed without a role granting the action for the purpose"
        assert LEVELS.index(resource.classification) <= LEVELS.index(person.clearance)
        if resource.kind == "model" and resource.name in policy.models and purpose not in ("governance",
                                                                                           "administration"):
            assert any(purpose_matches(p, purpose) for p in policy.models[resource.name])
    assert d.reason  # every decision says why


@settings(max_examples=200, deadline=None)
@given(people, st.sampled_from(ACTIONS), resources, st.sampled_from(PURPOSES))
def test_an_empty_policy_denies_everything(person, action, resource, purpose):
    assert not decide(person, action, resource, purpose, Policy({})).allowed


SHIPPED = load_policy()
analyst = Person("ana", frozenset({"analyst"}), "internal")
officer = Person("oli", frozenset({"officer"}), "internal")


@pytest.mark.parametrize("who, action, resource, purpose, allowed, reason", [
    (analyst, "models.approve", Resource("model", "x"), "governance", False, "no role of ana (analyst) grants models.approve"),
    (analyst, "incidents.read", Resource("incidents", "all", "confidential"), "crime analysis", False,
     "above ana's clearance (internal)"),
    (analyst, "reidentify", Resource("incidents", "all"), "investigation 2026-0412", False, "grants reidentify"),
    (analyst, "incidents.read", Resource("incidents", "all", "internal"), "investigation 2026-0412", True, "as analyst"),
    (officer, "outputs.issue", Resource("model", "toronto-bne-forecaster"), "patrol planning", False, "grants outputs.issue"),
    (officer, "outputs.decide", Resource("model", "toronto-bne-forecaster"), "marketing", False, "not for the purpose"),
    (officer, "outputs.decide", Resource("model", "toronto-bne-forecaster"), "patrol planning", True, "as officer"),
    (analyst, "outputs.issue", Resource("model", "toronto-bne-forecaster"), "investigation 7", False,
     "may not be used for 'investigation 7'"),
])
def test_the_shipped_policy(who, action, resource, purpose, allowed, reason):
    d = decide(who, action, resource, purpose, SHIPPED)
    assert d.allowed is allowed and reason in d.reason


def test_a_policy_file_with_unknown_sections_is_refused():
    from lawful.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown section"):
        parse_policy("[roles.analyst]\nactions = []\n[superusers]\nall = true\n")


def test_access_check_and_denials_cli(store, capsys):
    """The commands ask the server: a decision tried with its policy (for the token's holder, nobody else), the
    denials only for those who may read the trail."""
    import hashlib

    from lawful.access.decide import DEFAULT_POLICY

    admin("root", capsys)
    run_cli(["users", "add", "ana", "--role", "analyst", "--as", "root"], capsys)
    run_cli(["users", "add", "dora", "--role", "dpo", "--as", "root"], capsys)
    code, out, _ = run_cli(["access", "check", "--as", "ana", "--action", "models.approve", "--purpose", "governance",
                            "--resource", "model:x"], capsys)
    assert code == 1 and "denied" in out and "grants models.approve" in out
    code, out, _ = run_cli(["access", "check", "--as", "ana", "--action", "incidents.read", "--purpose",
                            "crime analysis", "--resource", "incidents:all", "--classification", "secret"], capsys)
    assert code == 1 and "above ana's clearance" in out
    code, out, _ = run_cli(["access", "check", "--as", "ana", "--action", "incidents.read", "--purpose",
                            "crime analysis", "--resource", "incidents:all"], capsys)
    assert code == 0 and "allowed" in out and "granted to ana as analyst" in out
    code, _, err = run_cli(["access", "check", "--as", "ana", "--action", "incidents.read", "--purpose", "x",
                            "--classification", "top-secret"], capsys)
    assert code == 2 and "'top-secret' is not a classification" in err
    code, _, err = run_cli(["users", "add", "bob", "--role", "approver", "--as", "ana"], capsys)
    assert code == 2 and "denied" in err
    code, _, err = run_cli(["access", "denials", "--as", "ana"], capsys)
    assert code == 2 and "grants audit.read" in err  # the trail's refusals are for those who may read the trail
    code, out, err = run_cli(["access", "denials", "--as", "dora"], capsys)
    assert code == 0, err
    assert "ana" in out and "users.create" in out and "audit.read" in out
    code, out, _ = run_cli(["access", "policy", "--as", "ana"], capsys)
    assert code == 0 and f"SHA-256: {hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()}" in out
    assert "analyst" in out and "model toronto-bne-forecaster: only for patrol planning" in out
