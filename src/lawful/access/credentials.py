"""Sign-in: argon2id password hashes, one-time codes (TOTP, RFC 6238) for admin, approver and data-protection
officer, lock-out after repeated failures, and opaque session and API tokens stored only as SHA-256 hashes, with
expiry and revocation. Every sign-in, failure, lock-out and revocation is on the trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.models import Token, User
from lawful.access.service import Actor
from lawful.errors import LawfulError

NEEDS_CODE = frozenset({"admin", "approver", "dpo"})
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class SignInFailed(LawfulError):
    """Wrong name, password or code, or a locked account: said the same way, so it tells an attacker nothing."""

    kind = "unauthenticated"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise LawfulError(f"the password is shorter than {MIN_PASSWORD} characters",
                          "choose a longer one; a few unrelated words make a good password")


def set_password(user: User, password: str) -> None:
    check_password(password)
    user.password_hash = _HASHER.hash(password)


def enrol_code(user: User) -> str:
    """Give the user a new one-time-code secret; returns the otpauth:// URI for an authenticator app."""
    user.totp_secret = pyotp.random_base32()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.name, issuer_name="Lawful")


def needs_code(user: User) -> bool:
    return bool(NEEDS_CODE & set(user.roles))


def sign_in(session: Session, *, name: str, password: str, code: str | None = None,
            hours: float = SESSION_HOURS) -> str | SignInFailed:
    """A new session token, or a SignInFailed to raise once the caller has committed: failures must be kept (they
    count toward the lock-out and go on the trail), so they are returned, not raised."""
    from lawful.trail import audit

    user = session.scalar(select(User).where(User.name == name))
    now = _now()
    failed = SignInFailed("sign-in failed: wrong name, password or code, or the account is locked",
                          f"check them; after {MAX_FAILURES} failures an account is locked for {LOCK_MINUTES} minutes")
    if user is None or user.password_hash is None:
        audit.append(session, actor=name, action="access.deny", obj=f"user:{name}", purpose="sign-in",
                     details={"reason": "unknown user or no password set"})
        return failed
    if user.locked_until is not None and user.locked_until > now:
        audit.append(session, actor=name, action="access.deny", obj=f"user:{name}", purpose="sign-in",
                     details={"reason": f"locked until {user.locked_until.isoformat()}"})
        return failed
    ok = _password_ok(user, password)
    if ok and needs_code(user):
        ok = user.totp_secret is not None and code is not None and pyotp.TOTP(user.totp_secret).verify(
            code, valid_window=1)
    if not ok:
        user.failed_logins += 1
        details = {"reason": "wrong password or code", "failures": user.failed_logins}
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            details["locked_until"] = user.locked_until.isoformat()
        audit.append(session, actor=name, action="access.deny", obj=f"user:{name}", purpose="sign-in", details=details)
        return failed
    user.failed_logins, user.locked_until = 0, None
    token = _issue(session, user, "session", "sign-in", hours)
    audit.append(session, actor=name, action="user.sign-in", obj=f"user:{name}", purpose="sign-in", details={})
    return token


def _password_ok(user: User, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _issue(session: Session, user: User, kind: str, label: str, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, kind=kind, label=label, token_hash=_digest(token), created_at=_now(),
                      expires_at=_now() + timedelta(hours=hours)))
    session.flush()
    return token


def create_api_token(session: Session, *, actor: Actor, label: str, days: int) -> str:
    """An API token for the signed-in user (shown once)."""
    from lawful.trail import audit

    if not 1 <= days <= 366:
        raise LawfulError(f"{days} days is not a token lifetime", "give 1 to 366 days")
    user = session.scalar(select(User).where(User.name == actor.name))
    token = _issue(session, user, "api", label, days * 24)
    audit.append(session, actor=actor.name, action="user.token", obj=f"user:{actor.name}", purpose="administration",
                 details={"label": label, "days": days})
    return token


def authenticate(session: Session, *, token: str) -> Actor:
    """The actor a token belongs to, or an error saying why not (expired, revoked, unknown)."""
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    now = _now()
    if row is None:
        raise LawfulError("the token is not valid", "sign in again with `lawful login NAME`")
    if row.revoked_at is not None:
        raise LawfulError("the token was revoked", "sign in again with `lawful login NAME`")
    if row.expires_at <= now:
        raise LawfulError(f"the token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC", "sign in again")
    user = session.get(User, row.user_id)
    if user.locked_until is not None and user.locked_until > now:
        raise LawfulError("the account is locked", f"wait {LOCK_MINUTES} minutes or ask an admin")
    if not session.info.get("readonly"):
        row.last_used_at = now
    return Actor(user.name, frozenset(user.roles), user.clearance)


def revoke(session: Session, *, actor: Actor, token: str | None = None, token_id: int | None = None) -> None:
    """Revoke a token by its text (your own) or by id (yours, or anyone's for an admin)."""
    from lawful.trail import audit

    row = session.scalar(select(Token).where(Token.token_hash == _digest(token))) if token else \
        session.get(Token, token_id)
    owner = session.get(User, row.user_id) if row else None
    if row is None or (owner.name != actor.name and "admin" not in actor.roles):
        raise LawfulError("no such token of yours", "see `lawful tokens list`")
    row.revoked_at = _now()
    audit.append(session, actor=actor.name, action="user.revoke", obj=f"token:{row.id}", purpose="administration",
                 details={"owner": owner.name})


def get_tokens(session: Session, *, actor: Actor) -> list[Token]:
    user = session.scalar(select(User).where(User.name == actor.name))
    return list(session.scalars(select(Token).where(Token.user_id == user.id).order_by(Token.id)))
