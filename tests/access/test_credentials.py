"""Sign-in as a person meets it: no account until made, argon2id hashes, one-time codes for admins (their seeds
sealed at rest), lock-out counted even under parallel guessing, tokens stored hashed, scoped, capped, expiring and
revocable; `lawful login|logout` and the `users` commands, each a client of the server."""

from __future__ import annotations

import json
import re
import stat
import threading
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from alembic import command
from sqlalchemy import select, text

from lawful import db
from lawful.access import credentials
from lawful.access.models import Token, User
from lawful.access.sealing import key_path, unseal
from lawful.access.service import Actor, create
from lawful.errors import LawfulError, StoreError
from lawful.trail.models import TrailEntry
from tests.conftest import PASSWORD, admin, run_cli, unused_code


@pytest.fixture
def signed(store):
    """A store whose people sign in as in production: identities come only from tokens."""
    return store


def rows(store, model):
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True) as s:
        out = list(s.scalars(select(model)))
    engine.dispose()
    return out


def code_for(store, name: str) -> str:
    user = next(u for u in rows(store, User) if u.name == name)
    return unused_code(store, name, unseal(store, user.totp_secret))


def login(name: str, capsys, password: str = PASSWORD, code: str | None = None) -> tuple[int, str, str]:
    args = ["login", name, "--password-stdin"] + (["--code", code] if code else [])
    return run_cli(args, capsys, stdin=password + "\n")


def kept_token() -> str:
    """The session token `lawful login` kept for this server (0600, under the config directory)."""
    from lawful import client

    path = client.token_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())[client.server_url()]


def enrolment_code(out: str) -> str:
    return re.search(r"enrolment code for \S+ \(shown once, valid 72 h\): (\S+)", out).group(1)


def deny_reasons(store, name: str) -> list[str]:
    return [json.loads(e.details)["reason"] for e in rows(store, TrailEntry)
            if e.action == "access.deny" and e.object == f"user:{name}"]


def test_no_account_exists_until_the_first_admin_is_created_with_a_password(signed, capsys):
    assert rows(signed, User) == []
    code, _, err = run_cli(["admin", "create-admin", "root", "--password-stdin"], capsys, stdin="short\n")
    assert code == 2 and "shorter than 12 characters" in err
    code, out, _ = run_cli(["admin", "create-admin", "root", "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 0 and "otpauth://totp/Lawful:root" in out
    code, _, err = run_cli(["admin", "create-admin", "second", "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 2 and "an admin exists already" in err
    assert [u.name for u in rows(signed, User)] == ["root"]


def test_sign_in_with_password_and_code_then_act_with_the_token(signed, capsys, monkeypatch):
    admin("root", capsys)
    code, _, err = login("root", capsys)
    assert code == 2 and "sign-in failed" in err  # an admin needs the one-time code too
    code, out, err = login("root", capsys, code=code_for(signed, "root"))
    assert code == 0 and "signed in" in err and "as root" in err, err
    token = kept_token()
    assert token not in out + err  # kept in the 0600 file, never printed
    code, out, err = run_cli(["users", "add", "ana", "--role", "analyst"], capsys)  # the kept token says who
    assert code == 0, err
    ana_code = enrolment_code(out)
    code, out, err = run_cli(["whoami"], capsys)
    assert code == 0 and out.startswith("root: admin"), err
    code, out, err = run_cli(["users", "enrol", "ana", "--code", ana_code.lower(), "--password-stdin"], capsys,
                             stdin="another long password\n")
    assert code == 0 and "Enrolled ana" in out and "otpauth" not in out, err  # an analyst needs no codes
    assert login("ana", capsys, password="another long password")[0] == 0
    assert run_cli(["whoami"], capsys)[1].startswith("ana: analyst")
    users = {u.name: u for u in rows(signed, User)}
    for u in users.values():
        assert u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash
    assert all(t.token_hash != token and len(t.token_hash) == 64 for t in rows(signed, Token))
    monkeypatch.setenv("LAWFUL_TOKEN", token)
    code, out, err = run_cli(["users", "logout"], capsys)  # the old spelling of `lawful logout`
    assert code == 0 and "the token is revoked" in out, err
    code, _, err = run_cli(["users", "tokens"], capsys)
    assert code == 2 and "revoked" in err and "lawful login NAME" in err


def test_five_failures_lock_the_account_and_each_is_on_the_trail(signed, capsys, monkeypatch):
    admin("root", capsys)
    for _ in range(5):
        assert login("root", capsys, password="wrong password!!", code=code_for(signed, "root"))[0] == 2
    code, _, err = login("root", capsys, code=code_for(signed, "root"))
    assert code == 2 and "sign-in failed" in err  # right password, but locked
    locked = next(u for u in rows(signed, User) if u.name == "root").locked_until
    assert locked > datetime.now(timezone.utc) + timedelta(minutes=14)
    assert deny_reasons(signed, "root")[-1].startswith("locked until")
    assert deny_reasons(signed, "root")[:5] == ["wrong password or code"] * 5


def test_thirty_parallel_wrong_guesses_lock_the_account_after_five(store):
    """Each guess in its own thread and session: the row lock makes them count one after another, so only five
    passwords are ever checked and the account locks (before, all 30 were checked and none locked it)."""
    if store.database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writing transaction at a time anyway (BEGIN IMMEDIATE); the race is PostgreSQL's")
    engine = db.make_engine(store.database_url)
    with db.transaction(engine, settings=store) as s:
        create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    start, results, errors = threading.Barrier(30), [], []

    def guess(i: int) -> None:
        try:
            start.wait()
            with db.transaction(engine, settings=store) as s:
                results.append(credentials.sign_in(s, name="root", password=f"wrong guess number {i}", code="000000"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == [] and len(results) == 30
    assert all(isinstance(r, credentials.SignInFailed) for r in results)
    reasons = deny_reasons(store, "root")
    assert reasons.count("wrong password or code") == 5
    assert sum(r.startswith("locked until") for r in reasons) == 25
    user = next(u for u in rows(store, User) if u.name == "root")
    assert user.locked_until > datetime.now(timezone.utc) + timedelta(minutes=14)


def test_expired_read_only_and_api_tokens(signed, capsys, monkeypatch):
    admin("root", capsys)
    assert login("root", capsys, code=code_for(signed, "root"))[0] == 0
    session_token = kept_token()
    monkeypatch.setenv("LAWFUL_TOKEN", session_token)
    code, api, err = run_cli(["users", "token", "--label", "nightly rules job", "--days", "7"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["users", "token", "--label", "too long", "--days", "366"], capsys)
    assert code == 2 and "days" in err and "365" in err
    code, reader, err = run_cli(["users", "token", "--label", "dashboard", "--scope", "read"], capsys)
    assert code == 0, err
    monkeypatch.setenv("LAWFUL_TOKEN", reader.strip())
    code, out, _ = run_cli(["users", "tokens"], capsys)
    assert code == 0 and "dashboard" in out and "read" in out
    code, _, err = run_cli(["users", "add", "ana", "--role", "analyst"], capsys)
    assert code == 2 and re.search("read-only|may only read", err)  # a read token never writes, whatever its roles
    code, _, err = run_cli(["users", "token", "--label", "escalate", "--scope", "full"], capsys)
    assert code == 2 and re.search("read-only|may only read", err)
    assert "ana" not in {u.name for u in rows(signed, User)}
    monkeypatch.setenv("LAWFUL_TOKEN", api.strip())
    code, out, _ = run_cli(["users", "tokens"], capsys)
    assert code == 0 and "nightly rules job" in out and "api" in out
    engine = db.make_engine(signed.database_url)
    with engine.begin() as conn:  # time passes
        conn.execute(text("UPDATE tokens SET expires_at = :t"), {"t": datetime.now(timezone.utc) - timedelta(minutes=1)})
    engine.dispose()
    code, _, err = run_cli(["users", "tokens"], capsys)
    assert code == 2 and "the token expired" in err


@pytest.mark.parametrize("hours,days", [(float("nan"), float("nan")), (float("inf"), float("inf")), (-1.0, -1),
                                        (0.0, 0), (7 * 24 + 1, 366), (1e300, 10**400)],
                         ids=["nan", "inf", "negative", "zero", "just-over", "huge"])
def test_lifetimes_outside_the_caps_are_refused_before_anything_is_checked(store, hours, days):
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    with pytest.raises(LawfulError, match="not an allowed lifetime"):
        with db.transaction(engine, settings=store) as s:
            credentials.sign_in(s, name="root", password=PASSWORD, hours=hours)
    with pytest.raises(LawfulError, match="give 1 to 365 days"):
        with db.transaction(engine, settings=store) as s:
            credentials.create_api_token(s, actor=Actor("root", frozenset({"admin"})), label="x", days=days)
    engine.dispose()
    assert deny_reasons(store, "root") == []  # refused as bad input, not counted as a failed sign-in


def test_a_week_is_the_longest_session_and_twelve_hours_the_default(store):
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        _, uri = create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    seed = pyotp.parse_uri(uri).secret
    with db.transaction(engine, settings=store) as s:
        credentials.sign_in(s, name="root", password=PASSWORD, code=pyotp.TOTP(seed).now())
    with db.transaction(engine, settings=store) as s:
        credentials.sign_in(s, name="root", password=PASSWORD, code=unused_code(store, "root", seed), hours=7 * 24)
    engine.dispose()
    lengths = sorted(t.expires_at - t.created_at for t in rows(store, Token))
    assert [round(d.total_seconds() / 3600) for d in lengths] == [12, 168]


def test_one_time_code_seeds_are_sealed_with_a_key_kept_apart(store):
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        _, uri = create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    engine.dispose()
    seed = pyotp.parse_uri(uri).secret
    stored = next(u for u in rows(store, User) if u.name == "root").totp_secret
    assert seed not in stored and unseal(store, stored) == seed  # a dump of the database alone yields no seed
    assert stat.S_IMODE(key_path(store).stat().st_mode) == 0o600
    key_path(store).write_bytes(b"Zm9yZ2VkIGtleSBmb3JnZWQga2V5IGZvcmdlZCBrZXk=")  # another key: the seed does not open
    engine = db.open_store(store)
    with pytest.raises(StoreError, match="does not open with the key"):
        with db.transaction(engine, settings=store) as s:
            credentials.sign_in(s, name="root", password=PASSWORD, code=pyotp.TOTP(seed).now())
    engine.dispose()


def test_the_migration_seals_seeds_stored_in_plain_text(store):
    """A store from before 0007 kept seeds in plain text; upgrading seals them and their owners sign in as before."""
    engine = db.make_engine(store.database_url)
    cfg = db.alembic_config(store.database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    seed = pyotp.random_base32()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, roles, clearance, created_at, created_by, password_hash, "
                          "totp_secret, failed_logins) VALUES ('old', :roles, 'internal', :t, 'old', :h, :s, 0)"),
                     {"roles": json.dumps(["admin"]), "t": datetime.now(timezone.utc),
                      "h": credentials._HASHER.hash(PASSWORD), "s": seed})
    engine.dispose()
    db.upgrade(store)
    user = next(u for u in rows(store, User) if u.name == "old")
    assert seed not in user.totp_secret and unseal(store, user.totp_secret) == seed
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        token = credentials.sign_in(s, name="old", password=PASSWORD, code=pyotp.TOTP(seed).now())
    with db.transaction(engine, settings=store) as s:
        assert credentials.authenticate(s, token=token).name == "old"
    engine.dispose()


def test_a_one_time_code_opens_one_session_only(store):
    """RFC 6238 5.2: a code seen over someone's shoulder (or logged on its way) opens no second session, in its own
    30 seconds or the next; the person's next code does; and the replay counts toward the lock-out like any miss."""
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        _, uri = create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    totp = pyotp.TOTP(pyotp.parse_uri(uri).secret)
    now = datetime.now(timezone.utc)
    code, following = totp.at(now), totp.at(now + timedelta(seconds=totp.interval))
    with db.transaction(engine, settings=store) as s:
        assert isinstance(credentials.sign_in(s, name="root", password=PASSWORD, code=code), str)
    with db.transaction(engine, settings=store) as s:
        replayed = credentials.sign_in(s, name="root", password=PASSWORD, code=code)
    assert isinstance(replayed, credentials.SignInFailed)
    assert next(u for u in rows(store, User) if u.name == "root").failed_logins == 1
    with db.transaction(engine, settings=store) as s:  # the next step's code (one step of drift is allowed)
        assert isinstance(credentials.sign_in(s, name="root", password=PASSWORD, code=following), str)
    with db.transaction(engine, settings=store) as s:  # and now the earlier one is behind: refused
        assert isinstance(credentials.sign_in(s, name="root", password=PASSWORD, code=code), credentials.SignInFailed)
    engine.dispose()


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "12345\u00e9", "\x00" * 6, ""])
def test_a_code_in_other_digits_or_bytes_is_a_plain_refusal(store, code):
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        create(s, creator=None, name="root", roles=["admin"], first_admin=True, password=PASSWORD)
    with db.transaction(engine, settings=store) as s:
        assert isinstance(credentials.sign_in(s, name="root", password=PASSWORD, code=code), credentials.SignInFailed)
    engine.dispose()
