"""People, through the services the CLI and the server call: an admin creates an account and hands over a one-time
enrolment code; the person sets their own password (and one-time codes), so the admin never knows either; admins
disable, reset and change roles, each on the trail; read-only tokens cannot write."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select, text

from lawful import db
from lawful.access import credentials as cred
from lawful.access import service as people
from lawful.access.decide import AccessDenied
from lawful.access.models import User
from lawful.errors import Conflict, LawfulError, Unauthenticated
from lawful.trail.models import TrailEntry
from tests.conftest import PASSWORD, unused_code

ADA_PASSWORD = "ada's own long passphrase"


class World:
    """A store with a first admin, root, signed in; each call runs in its own committed transaction."""

    def __init__(self, settings):
        self.settings = settings
        self.engine = db.open_store(settings)
        with self.tx() as s:
            _, uri = people.create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
        self.seeds = {"root": pyotp.parse_uri(uri).secret}
        self.root = self.token("root", PASSWORD)

    @contextmanager
    def tx(self):
        with db.transaction(self.engine, settings=self.settings) as s:
            yield s

    def code(self, name: str) -> str:
        return unused_code(self.settings, name, self.seeds[name])

    def token(self, name: str, password: str) -> str:
        with self.tx() as s:
            got = cred.sign_in(s, name=name, password=password, code=self.code(name) if name in self.seeds else None)
        assert isinstance(got, str), got
        return got

    def actor(self, token: str):
        with self.tx() as s:
            return cred.authenticate(s, token=token)

    def add(self, name: str, roles: list[str], by: str | None = None) -> str:
        with self.tx() as s:
            return people.create(s, creator=self.actor(by or self.root), name=name, roles=roles)[1]

    def enrol(self, name: str, code: str, password: str):
        with self.tx() as s:
            got = cred.enrol(s, name=name, code=code, password=password)
        if isinstance(got, cred.Enrolment) and got.uri:
            self.seeds[name] = pyotp.parse_uri(got.uri).secret
        return got

    def user(self, name: str) -> User:
        with self.tx() as s:
            return s.scalar(select(User).where(User.name == name))

    def trail(self, action: str, obj: str) -> list[tuple[str, dict]]:
        with self.tx() as s:
            return [(e.actor, json.loads(e.details)) for e in
                    s.scalars(select(TrailEntry).where(TrailEntry.action == action, TrailEntry.object == obj)
                              .order_by(TrailEntry.seq))]


@pytest.fixture
def w(store):
    world = World(store)
    yield world
    world.engine.dispose()


def test_the_person_not_the_admin_sets_the_password_and_one_time_codes(w):
    code = w.add("ada", ["approver"])
    ada = w.user("ada")
    assert ada.password_hash is None and ada.totp_secret is None  # nothing the admin could know
    assert ada.enrol_hash != code and code.replace("-", "") not in ada.enrol_hash
    assert ada.enrol_expires_at - datetime.now(timezone.utc) > timedelta(hours=71)
    with w.tx() as s:  # before enrolling, nobody signs in as ada, whatever they try
        assert isinstance(cred.sign_in(s, name="ada", password=code), cred.SignInFailed)
    done = w.enrol("ada", code.lower().replace("-", " "), ADA_PASSWORD)  # typed loosely: case and spacing ignored
    assert isinstance(done, cred.Enrolment) and done.uri.startswith("otpauth://totp/Lawful:ada")
    assert "not yet confirmed" in people.state(w.user("ada"))
    assert isinstance(w.enrol("ada", code, "a second long password"), cred.SignInFailed)  # the code is used up
    with w.tx() as s:  # an approver signs in with a code too
        assert isinstance(cred.sign_in(s, name="ada", password=ADA_PASSWORD), cred.SignInFailed)
    token = w.token("ada", ADA_PASSWORD)  # the first sign-in with a valid code completes the enrolment
    assert w.actor(token).roles == {"approver"} and people.state(w.user("ada")) == "active"
    steps = [(who, d["step"]) for who, d in w.trail("user.enrol", "user:ada")]
    assert steps == [("ada", "password set"), ("ada", "one-time codes confirmed")]
    assert w.trail("user.create", "user:ada")[0][0] == "root"


def test_confirm_totp_completes_enrolment_without_opening_a_session(w):
    code = w.add("dora", ["dpo"])
    w.enrol("dora", code, ADA_PASSWORD)
    with w.tx() as s:
        assert isinstance(cred.confirm_totp(s, name="dora", password=ADA_PASSWORD, code="000000"), cred.SignInFailed)
    with w.tx() as s:
        assert cred.confirm_totp(s, name="dora", password=ADA_PASSWORD, code=w.code("dora")) is None
    assert people.state(w.user("dora")) == "active" and w.user("dora").failed_logins == 0


def test_wrong_and_expired_enrolment_codes_are_refused_and_on_the_trail(w):
    code = w.add("ana", ["analyst"])
    with pytest.raises(LawfulError, match="shorter than 12"):
        w.enrol("ana", code, "short")
    assert isinstance(w.enrol("ana", "AAAA-BBBB-CCCC-DDDD-EEEE", ADA_PASSWORD), cred.SignInFailed)
    with w.tx() as s:  # three days pass
        s.execute(text("UPDATE users SET enrol_expires_at = :t WHERE name = 'ana'"),
                  {"t": datetime.now(timezone.utc) - timedelta(minutes=1)})
    failed = w.enrol("ana", code, ADA_PASSWORD)
    assert isinstance(failed, cred.SignInFailed) and "lawful users reset" in str(failed)
    assert people.state(w.user("ana")) == "enrolment code expired" and w.user("ana").password_hash is None
    reasons = [d["reason"] for _, d in w.trail("access.deny", "user:ana")]
    assert reasons[0] == "wrong enrolment code" and reasons[1].startswith("enrolment code expired")


def test_an_admin_cannot_set_another_persons_password(w):
    with w.tx() as s, pytest.raises(LawfulError, match="does not set other people's passwords"):
        people.create(s, creator=w.actor(w.root), name="eve", roles=["approver"], password="an admin's choice!")
    assert w.user("eve") is None


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop_working(w):
    w.enrol("ana", w.add("ana", ["analyst"]), ADA_PASSWORD)
    token = w.token("ana", ADA_PASSWORD)
    with w.tx() as s:
        assert people.disable(s, actor=w.actor(w.root), name="ana", reason="left the unit") == 1
    with pytest.raises(Unauthenticated, match="revoked"):
        w.actor(token)
    with w.tx() as s:
        assert isinstance(cred.sign_in(s, name="ana", password=ADA_PASSWORD), cred.SignInFailed)
    with w.tx() as s, pytest.raises(LawfulError, match="disabled"):
        people.get_actor(s, name="ana")
    assert w.trail("access.deny", "user:ana")[-1][1]["reason"] == "account disabled"
    assert w.trail("user.disable", "user:ana")[0] == ("root", {"disabled": True, "reason": "left the unit",
                                                               "tokens_revoked": 1})
    with w.tx() as s, pytest.raises(Conflict, match="last enabled admin"):
        people.disable(s, actor=w.actor(w.root), name="root", reason="oops")
    with w.tx() as s:
        people.enable(s, actor=w.actor(w.root), name="ana", reason="back on duty")
    with pytest.raises(Unauthenticated, match="revoked"):  # old tokens stay dead; she signs in afresh
        w.actor(token)
    assert w.actor(w.token("ana", ADA_PASSWORD)).name == "ana"


def test_a_token_of_a_user_disabled_meanwhile_is_refused(w):
    """A token issued before the account was disabled but not revoked (e.g. disabled directly in the database by an
    operator) is refused all the same."""
    w.enrol("ana", w.add("ana", ["analyst"]), ADA_PASSWORD)
    token = w.token("ana", ADA_PASSWORD)
    with w.tx() as s:
        s.execute(text("UPDATE users SET disabled_at = :t WHERE name = 'ana'"), {"t": datetime.now(timezone.utc)})
    with pytest.raises(Unauthenticated, match="disabled"):
        w.actor(token)


def test_reset_revokes_tokens_and_only_the_new_code_sets_a_new_password(w):
    old_code = w.add("ada", ["approver"])
    w.enrol("ada", old_code, ADA_PASSWORD)
    token = w.token("ada", ADA_PASSWORD)
    with w.tx() as s:
        new_code = people.reset(s, actor=w.actor(w.root), name="ada")
    with pytest.raises(Unauthenticated, match="revoked"):
        w.actor(token)
    with w.tx() as s:
        assert isinstance(cred.sign_in(s, name="ada", password=ADA_PASSWORD, code=w.code("ada")), cred.SignInFailed)
    assert isinstance(w.enrol("ada", old_code, "a brand new passphrase"), cred.SignInFailed)
    assert w.enrol("ada", new_code, "a brand new passphrase").uri  # a new seed: the old one is gone too
    assert w.actor(w.token("ada", "a brand new passphrase")).name == "ada"
    assert w.trail("user.reset", "user:ada")[0] == ("root", {"tokens_revoked": 1, "enrolment_hours": 72})


def test_role_changes_are_on_the_trail_and_never_ones_own(w):
    w.enrol("ana", w.add("ana", ["analyst"]), ADA_PASSWORD)
    ana_token = w.token("ana", ADA_PASSWORD)
    with w.tx() as s:
        assert people.set_roles(s, actor=w.actor(w.root), name="ana", roles=["analyst", "supervisor"]) is None
    assert w.actor(ana_token).roles == {"analyst", "supervisor"}  # in force at once, same token
    with w.tx() as s, pytest.raises(AccessDenied, match="grants users.create"):
        people.set_roles(s, actor=w.actor(ana_token), name="ana", roles=["admin"])
    with w.tx() as s, pytest.raises(AccessDenied, match="nobody changes their own roles"):
        people.set_roles(s, actor=w.actor(w.root), name="root", roles=["admin", "approver"])
    with w.tx() as s:  # an approver needs one-time codes ana never set up: she enrols again, herself
        code = people.set_roles(s, actor=w.actor(w.root), name="ana", roles=["approver"])
    assert code and w.user("ana").password_hash is None
    with pytest.raises(Unauthenticated, match="revoked"):
        w.actor(ana_token)
    assert w.enrol("ana", code, ADA_PASSWORD).uri
    assert w.actor(w.token("ana", ADA_PASSWORD)).roles == {"approver"}
    changes = [(who, d["from"], d["to"], d["re_enrol"]) for who, d in w.trail("user.roles", "user:ana")]
    assert changes == [("root", ["analyst"], ["analyst", "supervisor"], False),
                       ("root", ["analyst", "supervisor"], ["approver"], True)]


def test_the_last_enabled_admin_keeps_the_role(w):
    w.enrol("adm2", w.add("adm2", ["admin"]), ADA_PASSWORD)
    adm2 = w.token("adm2", ADA_PASSWORD)
    with w.tx() as s:
        people.set_roles(s, actor=w.actor(adm2), name="root", roles=["auditor"])
    with w.tx() as s, pytest.raises(Conflict, match="last enabled admin"):
        people.disable(s, actor=w.actor(adm2), name="adm2", reason="leaving")
    assert people.state(w.user("adm2")) == "active" and w.user("root").roles == ["auditor"]


def test_a_read_only_token_reads_but_never_writes(w):
    with w.tx() as s:
        reader = cred.create_api_token(s, actor=w.actor(w.root), label="dashboard", days=365, scope="read")
    actor = w.actor(reader)
    assert actor.scope == "read" and w.actor(w.root).scope == "full"
    with pytest.raises(AccessDenied, match="read-only") as refused:
        people.require_write(actor, "models.approve")
    assert refused.value.kind == "denied"
    with w.tx() as s, pytest.raises(AccessDenied, match="read-only"):
        people.create(s, creator=actor, name="eve", roles=["analyst"])
    with w.tx() as s, pytest.raises(AccessDenied, match="read-only"):  # nor mint itself a full token
        cred.create_api_token(s, actor=actor, label="escalate", days=1, scope="full")
    with w.tx() as s, pytest.raises(AccessDenied, match="read-only"):
        people.reset(s, actor=actor, name="root")
    with w.tx() as s:  # but it may end itself
        cred.revoke(s, actor=actor, token=reader)
    with pytest.raises(Unauthenticated, match="revoked"):
        w.actor(reader)
    with w.tx() as s, pytest.raises(LawfulError, match="not a token scope"):
        cred.create_api_token(s, actor=w.actor(w.root), label="x", days=1, scope="admin")


def test_the_users_commands(store, capsys):
    """The users commands as a person meets them, each a client of the server: the admin's token says who acts,
    and enrolment needs no token at all."""
    from tests.conftest import admin, run_cli

    admin("root", capsys)
    code, out, err = run_cli(["users", "add", "ada", "--role", "approver", "--as", "root"], capsys)
    assert code == 0 and "Created ada (approver; clearance internal)." in out, err
    enrolment = out.split("valid 72 h): ")[1].split()[0]
    assert "lawful users enrol ada" in out
    code, out, _ = run_cli(["users", "list", "--as", "root"], capsys)
    assert "ada: approver; clearance internal; enrolment pending" in out
    code, out, err = run_cli(["users", "enrol", "ada", "--code", enrolment, "--password-stdin"], capsys,
                             stdin=ADA_PASSWORD + "\n")
    assert code == 0 and "otpauth://totp/Lawful:ada" in out and "`lawful login ada --code CODE`" in out, err
    code, _, err = run_cli(["users", "enrol", "ada", "--code", enrolment, "--password-stdin"], capsys,
                           stdin=ADA_PASSWORD + "\n")
    assert code == 2 and "enrolment failed" in err
    code, out, err = run_cli(["users", "roles", "ada", "--role", "approver", "--role", "auditor", "--as", "root"],
                             capsys)
    assert code == 0 and "ada now holds: approver, auditor." in out, err
    code, out, err = run_cli(["users", "reset", "ada", "--as", "root"], capsys)
    assert code == 0 and "One-time enrolment code for ada" in out, err
    code, out, err = run_cli(["users", "disable", "ada", "--reason", "left the unit", "--as", "root"], capsys)
    assert code == 0 and "Disabled ada" in out, err
    code, out, _ = run_cli(["users", "list", "--as", "root"], capsys)
    assert "ada: approver, auditor; clearance internal; disabled since" in out
    code, out, err = run_cli(["users", "enable", "ada", "--reason", "back on duty", "--as", "root"], capsys)
    assert code == 0 and "Enabled ada." in out, err
    code, out, _ = run_cli(["users", "list", "--json", "--as", "root"], capsys)
    listed = {u["name"]: u for u in json.loads(out)}
    assert listed["ada"]["roles"] == ["approver", "auditor"] and not listed["ada"]["disabled"]
    code, _, err = run_cli(["users", "disable", "root", "--reason", "oops", "--as", "root"], capsys)
    assert code == 2 and "last enabled admin" in err
    code, _, err = run_cli(["users", "list", "--as", "ada"], capsys)
    assert code == 2 and "grants users.create" in err  # people are listed for those who manage them


def test_the_first_admin_is_an_operator_command(store, capsys):
    """`lawful users create-admin` moved to `lawful admin create-admin`; the old spelling says where."""
    from tests.conftest import run_cli

    code, _, err = run_cli(["users", "create-admin", "root", "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 2 and "lawful admin create-admin root" in err
    code, _, err = run_cli(["users", "list"], capsys)  # no account, so nobody signed in: the server says so
    assert code == 2 and "bearer token" in err and "lawful login NAME" in err
    engine = db.open_store(store)
    with db.transaction(engine, settings=store, readonly=True) as s:
        assert people.get_all(s) == []
    engine.dispose()
