"""Sign-in as a person meets it: no account until made, argon2id hashes, one-time codes for admins, lock-out,
tokens stored hashed, expiring and revocable; the CLI refuses an unsigned --as."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select, text

from lawful import db
from lawful.access.models import Token, User
from tests.conftest import PASSWORD, admin, run_cli


@pytest.fixture
def signed(store, monkeypatch):
    """The real mode: identities come from tokens, --as alone is refused."""
    monkeypatch.setenv("LAWFUL_AUTH", "required")
    return store


def rows(store, model):
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True) as s:
        out = list(s.scalars(select(model)))
    engine.dispose()
    return out


def code_for(store, name: str) -> str:
    user = next(u for u in rows(store, User) if u.name == name)
    return pyotp.TOTP(user.totp_secret).now()


def login(name: str, capsys, password: str = PASSWORD, code: str | None = None) -> tuple[int, str, str]:
    args = ["users", "login", name, "--password-stdin"] + (["--code", code] if code else [])
    return run_cli(args, capsys, stdin=password + "\n")


def test_no_account_exists_until_created_and_an_unsigned_as_is_refused(signed, capsys):
    code, out, _ = run_cli(["users", "list"], capsys)
    assert "No users yet" in out
    code, _, err = run_cli(["users", "create-admin", "root", "--password-stdin"], capsys, stdin="short\n")
    assert code == 2 and "shorter than 12 characters" in err
    code, out, _ = run_cli(["users", "create-admin", "root", "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 0 and "otpauth://totp/Lawful:root" in out
    code, _, err = run_cli(["users", "add", "ana", "--role", "analyst", "--no-password", "--as", "root"], capsys)
    assert code == 2 and "needs you to be signed in" in err


def test_sign_in_with_password_and_code_then_act_with_the_token(signed, capsys, monkeypatch):
    admin("root", capsys)
    code, _, err = login("root", capsys)
    assert code == 2 and "sign-in failed" in err  # an admin needs the one-time code too
    code, out, err = login("root", capsys, code=code_for(signed, "root"))
    assert code == 0, err
    token = out.strip().split("=", 1)[1]
    monkeypatch.setenv("LAWFUL_TOKEN", token)
    code, out, err = run_cli(["users", "add", "ana", "--role", "analyst", "--password-stdin"], capsys,
                             stdin="another long password\n")
    assert code == 0, err
    code, _, err = run_cli(["users", "add", "eve", "--role", "admin", "--no-password", "--as", "mallory"], capsys)
    assert code == 2 and "signed in as root, not mallory" in err
    users = {u.name: u for u in rows(signed, User)}
    assert users["root"].password_hash.startswith("$argon2id$") and PASSWORD not in users["root"].password_hash
    assert all(t.token_hash != token and len(t.token_hash) == 64 for t in rows(signed, Token))
    code, _, _ = run_cli(["users", "logout"], capsys)
    code, _, err = run_cli(["users", "tokens"], capsys)
    assert code == 2 and "revoked" in err


def test_five_failures_lock_the_account_and_each_is_on_the_trail(signed, capsys, monkeypatch):
    admin("root", capsys)
    for _ in range(5):
        assert login("root", capsys, password="wrong password!!", code=code_for(signed, "root"))[0] == 2
    code, _, err = login("root", capsys, code=code_for(signed, "root"))
    assert code == 2 and "sign-in failed" in err  # right password, but locked
    locked = next(u for u in rows(signed, User) if u.name == "root").locked_until
    assert locked > datetime.now(timezone.utc) + timedelta(minutes=14)
    monkeypatch.setenv("LAWFUL_AUTH", "asserted")
    code, out, _ = run_cli(["audit", "log", "--action", "access.deny", "--limit", "10"], capsys)
    assert out.count("sign-in") >= 6


def test_expired_and_api_tokens(signed, capsys, monkeypatch):
    admin("root", capsys)
    _, out, _ = login("root", capsys, code=code_for(signed, "root"))
    monkeypatch.setenv("LAWFUL_TOKEN", out.strip().split("=", 1)[1])
    code, api, err = run_cli(["users", "token", "--label", "nightly rules job", "--days", "7"], capsys)
    assert code == 0, err
    monkeypatch.setenv("LAWFUL_TOKEN", api.strip())
    code, out, _ = run_cli(["users", "tokens"], capsys)
    assert code == 0 and "nightly rules job" in out and "api" in out
    engine = db.make_engine(signed.database_url)
    with engine.begin() as conn:  # time passes
        conn.execute(text("UPDATE tokens SET expires_at = :t"), {"t": datetime.now(timezone.utc) - timedelta(minutes=1)})
    engine.dispose()
    code, _, err = run_cli(["users", "tokens"], capsys)
    assert code == 2 and "the token expired" in err
