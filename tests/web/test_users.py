"""People and access through the API: admins manage people, a person enrols with their code before holding any
token, each person's own tokens, the server's policy and a decision tried with it, the denials for those who may
read the trail. Refusals are problem+json and on the trail; nothing a client sets changes what the server decides."""

from __future__ import annotations

import hashlib

import pytest

from lawful.access.decide import DEFAULT_POLICY
from lawful.errors import LawfulError
from tests.conftest import PASSWORD, in_process_server, mint_token, run_cli

ADA_PASSWORD = "ada's own long passphrase"


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def denials(server, people, **params) -> list[dict]:
    return ok(server.get("/api/v1/audit/log", params={"action": "access.deny", **params},
                         headers=people("dora", "dpo")))


@pytest.fixture
def root(people):
    return people("root-admin", "admin")  # mint_token's first admin


def test_an_admin_adds_a_person_who_enrols_without_a_token_and_signs_in(server, people, root):
    made = ok(server.post("/api/v1/users", json={"name": "ada", "roles": ["approver"]}, headers=root), 201)
    assert made["name"] == "ada" and made["roles"] == ["approver"] and made["enrolment_hours"] == 72
    listed = {u["name"]: u for u in ok(server.get("/api/v1/users", headers=root))}
    assert listed["ada"]["state"].startswith("enrolment pending") and listed["ada"]["created_by"] == "root-admin"
    got = ok(server.post("/api/v1/enrolment", json={"name": "ada", "code": made["enrolment_code"],
                                                    "password": ADA_PASSWORD}))  # no Authorization header at all
    assert got["otpauth_uri"].startswith("otpauth://totp/Lawful:ada")
    import pyotp

    code = pyotp.TOTP(pyotp.parse_uri(got["otpauth_uri"]).secret).now()
    token = ok(server.post("/api/v1/session", json={"name": "ada", "password": ADA_PASSWORD, "code": code}))["token"]
    me = ok(server.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}))
    assert me["roles"] == ["approver"]
    again = problem(server.post("/api/v1/enrolment", json={"name": "ada", "code": made["enrolment_code"],
                                                           "password": "a second long password"}), 401)
    assert "enrolment failed" in again["detail"] and "lawful users reset" in again["fix"]
    refused = [e for e in denials(server, people) if e["object"] == "user:ada"]
    assert refused and refused[0]["purpose"] == "enrolment" and "no enrolment code outstanding" in refused[0]["details"]


def test_disable_enable_reset_and_roles(server, people, root):
    ana = people("ana", "analyst")
    r = ok(server.post("/api/v1/users/ana/disable", json={"reason": "left the unit"}, headers=root))
    assert r == {"name": "ana", "disabled": True, "tokens_revoked": 1}
    assert problem(server.get("/api/v1/me", headers=ana), 401)["kind"] == "unauthenticated"
    assert problem(server.post("/api/v1/users/ana/disable", json={"reason": "again"}, headers=root), 409)
    ok(server.post("/api/v1/users/ana/enable", json={"reason": "back on duty"}, headers=root))
    roles = ok(server.put("/api/v1/users/ana/roles", json={"roles": ["approver"]}, headers=root))
    # ana never enrolled: her outstanding code still sets her password and, now, her one-time codes
    assert roles == {"name": "ana", "roles": ["approver"], "enrolment_code": None, "enrolment_hours": None}
    reset = ok(server.post("/api/v1/users/ana/reset", headers=root))
    assert len(reset["enrolment_code"]) == 24 and reset["enrolment_hours"] == 72
    listed = {u["name"]: u for u in ok(server.get("/api/v1/users", headers=root))}
    assert listed["ana"]["roles"] == ["approver"] and listed["ana"]["state"].startswith("enrolment pending")
    own = problem(server.put("/api/v1/users/root-admin/roles", json={"roles": ["auditor"]}, headers=root), 403)
    assert "nobody changes their own roles" in own["detail"]
    last = problem(server.post("/api/v1/users/root-admin/disable", json={"reason": "oops"}, headers=root), 409)
    assert "last enabled admin" in last["detail"]
    assert problem(server.post("/api/v1/users/nobody/reset", headers=root), 404)


def test_people_are_managed_only_by_admins_and_each_refusal_is_on_the_trail(server, people):
    ana = people("ana", "analyst")
    body = problem(server.post("/api/v1/users", json={"name": "eve", "roles": ["admin"]}, headers=ana), 403)
    assert "grants users.create" in body["detail"] and body["kind"] == "denied"
    assert problem(server.get("/api/v1/users", headers=ana), 403)
    assert problem(server.post("/api/v1/users/ana/reset", headers=ana), 403)
    assert problem(server.put("/api/v1/users/ana/roles", json={"roles": ["admin"]}, headers=ana), 403)
    assert problem(server.post("/api/v1/users", json={"name": "eve", "roles": ["admin"]}), 401)
    refused = {e["object"] for e in denials(server, people, by="ana")}
    assert {"user:eve", "user:*", "user:ana"} <= refused
    names = {u["name"] for u in ok(server.get("/api/v1/users", headers=people("root-admin", "admin")))}
    assert "eve" not in names


@pytest.mark.parametrize("body, where", [
    ({"name": "eve", "roles": []}, "body.roles"),
    ({"name": "eve", "roles": ["analyst"], "password": "an admin's choice!"}, "body.password"),
    ({"name": "x" * 101, "roles": ["analyst"]}, "body.name"),
    ({"name": "eve", "roles": ["wizard"]}, "unknown role"),
    ({"name": "eve", "roles": ["analyst"], "clearance": "cosmic"}, "not a clearance level"),
    ({"name": "e ve", "roles": ["analyst"]}, "not a user name"),
], ids=["no-roles", "password", "long-name", "unknown-role", "clearance", "space"])
def test_bad_new_users_are_422_naming_the_field(server, root, body, where):
    assert where in problem(server.post("/api/v1/users", json=body, headers=root), 422)["detail"]


@pytest.mark.parametrize("body, where", [
    ({"name": "ada", "code": "X", "password": "short"}, "shorter than 12"),
    ({"name": "ada", "code": "X" * 101, "password": ADA_PASSWORD}, "body.code"),
    ({"name": "ada", "password": ADA_PASSWORD}, "body.code"),
], ids=["short-password", "long-code", "no-code"])
def test_bad_enrolments_are_422_and_not_counted(server, people, body, where):
    assert where in problem(server.post("/api/v1/enrolment", json=body), 422)["detail"]
    assert not [e for e in denials(server, people) if e["object"] == "user:ada"]


def test_own_tokens_mint_list_and_revoke(server, people):
    ana = people("ana", "analyst")
    made = ok(server.post("/api/v1/tokens", json={"label": "dashboard", "days": 7, "scope": "read"}, headers=ana), 201)
    assert made["name"] == "ana" and made["scope"] == "read"
    reader = {"Authorization": f"Bearer {made['token']}"}
    listed = ok(server.get("/api/v1/tokens", headers=reader))
    assert [t["label"] for t in listed] == ["test", "dashboard"] and all("token" not in t for t in listed)
    assert problem(server.post("/api/v1/tokens", json={"label": "escalate"}, headers=reader), 403)
    assert "365" in problem(server.post("/api/v1/tokens", json={"label": "x", "days": 366}, headers=ana), 422)["detail"]
    assert problem(server.post("/api/v1/tokens", json={"label": "x", "scope": "admin"}, headers=ana), 422)
    other = people("bob", "analyst")
    assert problem(server.delete(f"/api/v1/tokens/{listed[1]['id']}", headers=other), 404)  # not bob's
    ok(server.delete(f"/api/v1/tokens/{listed[1]['id']}", headers=ana), 204)
    assert problem(server.get("/api/v1/tokens", headers=reader), 401)["detail"] == "the token was revoked"


def test_the_policy_is_the_servers_with_its_fingerprint(server, people):
    p = ok(server.get("/api/v1/access/policy", headers=people("ana", "analyst")))
    assert p["sha256"] == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()
    assert "users.create" in p["roles"]["admin"]["actions"] and p["actions"]["incidents.reidentify"] == ["investigation"]
    assert problem(server.get("/api/v1/access/policy"), 401)


def test_a_tried_decision_is_a_consultation_not_a_denial(server, people):
    ana = people("ana", "analyst")
    d = ok(server.get("/api/v1/access/check", params={"action": "models.approve", "purpose": "governance",
                                                      "resource": "model:x"}, headers=ana))
    assert not d["allowed"] and "grants models.approve" in d["reason"] and d["actor"] == "ana"
    d = ok(server.get("/api/v1/access/check", params={"action": "incidents.read", "purpose": "crime analysis",
                                                      "resource": "incidents:all"}, headers=ana))
    assert d["allowed"]
    assert "not a classification" in problem(server.get("/api/v1/access/check", params={
        "action": "incidents.read", "purpose": "x", "classification": "cosmic"}, headers=ana), 422)["detail"]
    assert problem(server.get("/api/v1/access/check", params={"action": "x" * 61, "purpose": "x"}, headers=ana), 422)
    assert not denials(server, people, by="ana")
    log = ok(server.get("/api/v1/audit/log", params={"object": "policy:check"}, headers=people("dora", "dpo")))
    assert [e["actor"] for e in log] == ["ana", "ana"]


def test_denials_need_audit_read(server, people):
    ana = people("ana", "analyst")
    assert problem(server.get("/api/v1/audit/log", headers=ana), 403)
    body = problem(server.get("/api/v1/access/denials", headers=ana), 403)
    assert "grants audit.read" in body["detail"]
    d = ok(server.get("/api/v1/access/denials", params={"limit": 1}, headers=people("aud", "auditor")))
    assert {(c["actor"], c["what"]) for c in d["counts"]} == {("ana", "audit.read")}
    assert d["total"] == 2 and len(d["newest"]) == 1 and d["newest"][0]["actor"] == "ana"
    assert problem(server.get("/api/v1/access/denials", params={"limit": 1001}, headers=people("aud", "auditor")), 422)


PERMISSIVE = """
[roles.analyst]
actions = ["users.create", "audit.read", "audit.export", "incidents.read"]
purposes = ["administration", "governance", "crime analysis", "external audit"]
"""


def test_nothing_a_client_sets_changes_what_the_server_decides(store, capsys, monkeypatch, tmp_path):
    """A client's LAWFUL_POLICY (a permissive file), LAWFUL_AUTH and LAWFUL_USER change nothing: the server decides
    by the policy it read at start and the token alone says who you are."""
    token = mint_token(store, "ana", ("analyst",))
    in_process_server(store)  # the server starts first, with its own policy, as `lawful serve` would
    permissive = tmp_path / "client-policy.toml"
    permissive.write_text(PERMISSIVE)
    monkeypatch.setenv("LAWFUL_POLICY", str(permissive))
    monkeypatch.setenv("LAWFUL_AUTH", "asserted")
    monkeypatch.setenv("LAWFUL_USER", "root-admin")
    monkeypatch.setenv("LAWFUL_TOKEN", token)
    code, out, err = run_cli(["whoami"], capsys)
    assert code == 0 and out.startswith("ana: analyst"), err
    code, _, err = run_cli(["users", "add", "eve", "--role", "admin"], capsys)
    assert code == 2 and "no role of ana (analyst) grants users.create" in err
    code, _, err = run_cli(["users", "list"], capsys)
    assert code == 2 and "grants users.create" in err
    from lawful import client

    with pytest.raises(LawfulError, match="grants audit.read") as refused:  # the trail, as the client reads it
        client.connect().get("/audit/log")
    assert refused.value.kind == "denied"
    code, _, err = run_cli(["access", "denials"], capsys)
    assert code == 2 and "grants audit.read" in err
    code, out, _ = run_cli(["access", "check", "--action", "users.create", "--purpose", "administration",
                            "--resource", "user:eve"], capsys)
    assert code == 1 and "denied" in out
    code, out, _ = run_cli(["access", "policy"], capsys)
    assert str(permissive) not in out and hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest() in out
    code, _, err = run_cli(["users", "enrol", "eve", "--code", "AAAA-BBBB-CCCC-DDDD-EEEE", "--password-stdin"],
                           capsys, stdin=PASSWORD + "\n")
    assert code == 2 and "enrolment failed" in err  # eve was never created


def test_an_admin_cannot_grant_more_clearance_than_they_hold(server, people):
    """Otherwise an internal-clearance admin could create a secret-cleared person, receive their enrolment code and
    enrol as them."""
    admin = people("ida", "admin", clearance="internal")
    r = server.post("/api/v1/users", json={"name": "sam", "roles": ["analyst"], "clearance": "secret"}, headers=admin)
    assert r.status_code == 403 and "cannot grant clearance secret" in r.json()["detail"]
    r = server.post("/api/v1/users", json={"name": "sam", "roles": ["analyst"], "clearance": "internal"}, headers=admin)
    assert r.status_code == 201, r.text
