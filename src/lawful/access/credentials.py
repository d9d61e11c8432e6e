"""Sign-in: one-time enrolment codes (a person sets their own password and one-time-code seed, so whoever created
the account knows neither), argon2id password hashes, one-time codes (TOTP, RFC 6238) for admin, approver and
data-protection officer with their seeds sealed at rest, lock-out after repeated failures counted under a row lock,
and opaque session and API tokens stored only as SHA-256 hashes, with a scope, a capped lifetime and revocation.
Every sign-in, enrolment, failure, lock-out and revocation is on the trail."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lawful.access.models import Token, User
from lawful.access.service import Actor, require_write
from lawful.errors import LawfulError, NotFound, Unauthenticated
from lawful.settings import Settings

NEEDS_CODE = frozenset({"admin", "approver", "dpo"})
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
MAX_FAILURES = 5
LAST_USED_STEP = timedelta(minutes=1)
LOCK_MINUTES = 15
SESSION_HOURS, MAX_SESSION_HOURS = 12.0, 7 * 24.0
MAX_API_DAYS = 365
ENROL_HOURS = 72
SCOPES = ("read", "full")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied by hand without doubt
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _HASHER.hash("no such user; this only makes a refusal take as long as a real check")


class SignInFailed(Unauthenticated):
    """Wrong name, password or code, or a locked or disabled account: said the same way, so it tells an attacker
    nothing."""


@dataclass(frozen=True)
class Enrolment:
    name: str
    uri: str | None  # otpauth:// for an authenticator app, when the person's roles need one-time codes


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _settings(session: Session) -> Settings:
    return session.info.get("settings") or Settings.from_env()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise LawfulError(f"the password is shorter than {MIN_PASSWORD} characters",
                          "choose a longer one; a few unrelated words make a good password")
    if len(password) > MAX_PASSWORD:
        raise LawfulError(f"the password is longer than {MAX_PASSWORD} characters", "choose a shorter one")


def set_password(user: User, password: str) -> None:
    check_password(password)
    user.password_hash = _HASHER.hash(password)


def needs_code(user: User) -> bool:
    return bool(NEEDS_CODE & set(user.roles))


def new_seed(session: Session, user: User) -> str:
    """Give the user a new one-time-code seed, sealed at rest, not yet confirmed; returns the otpauth:// URI for an
    authenticator app (shown once, to the person)."""
    seed = pyotp.random_base32()
    from lawful.access.sealing import seal

    user.totp_secret, user.totp_confirmed_at = seal(_settings(session), seed), None
    return pyotp.TOTP(seed).provisioning_uri(name=user.name, issuer_name="Lawful")


def _code_ok(session: Session, user: User, code: str | None) -> bool:
    from lawful.access.sealing import unseal

    if user.totp_secret is None or not code:
        return False
    totp, code = pyotp.TOTP(unseal(_settings(session), user.totp_secret)), code.strip()
    now = totp.timecode(datetime.now(timezone.utc))
    for step in (now - 1, now, now + 1):  # one step of clock drift either way
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):  # bytes: any text compares
            # Used once only (RFC 6238 5.2): a code seen over someone's shoulder, or logged on the way, opens no
            # second session. The caller holds the person's row locked, so two sign-ins cannot both take it.
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def _normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def new_enrolment(user: User, *, hours: float = ENROL_HOURS) -> str:
    """A fresh one-time enrolment code (about 99 random bits, shown once), stored only as its SHA-256 with an
    expiry. Whatever the person signed in with before (password, one-time-code seed) stops working."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    user.enrol_hash, user.enrol_expires_at = _digest(_normalise_code(code)), _now() + timedelta(hours=hours)
    user.password_hash = user.totp_secret = user.totp_confirmed_at = None
    user.failed_logins, user.locked_until = 0, None
    return "-".join(code[i:i + 4] for i in range(0, 20, 4))


def _locked(session: Session, name: str) -> User | None:
    """The user row, locked until this transaction ends (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the writing
    transaction holds the database's write lock already), read fresh: concurrent attempts on one account are
    checked one after another, each seeing the failures and lock-out the ones before it committed."""
    return session.scalar(select(User).where(User.name == name).with_for_update()
                          .execution_options(populate_existing=True))


def enrol(session: Session, *, name: str, code: str, password: str) -> Enrolment | SignInFailed:
    """The person sets their own password with the one-time code an admin gave them (the code then stops working).
    For roles that need one-time codes it returns the otpauth:// URI of their new seed, and their first sign-in with
    a valid code completes the enrolment (`confirm_totp`, or `sign_in`, which does the same). A wrong, used or
    expired code is returned as a SignInFailed, to raise once the caller has committed its trail entry."""
    from lawful.trail import audit

    check_password(password)
    user = _locked(session, name)
    now = _now()
    reason = None
    if user is None or user.enrol_hash is None:
        reason = "no enrolment code outstanding"
    elif user.disabled_at is not None:
        reason = "account disabled"
    elif not hmac.compare_digest(user.enrol_hash, _digest(_normalise_code(code))):
        reason = "wrong enrolment code"
    elif user.enrol_expires_at <= now:
        reason = f"enrolment code expired at {user.enrol_expires_at.isoformat()}"
    if reason:
        audit.append(session, actor=name, action="access.deny", obj=f"user:{name}", purpose="enrolment",
                     details={"reason": reason})
        return SignInFailed("enrolment failed: wrong name or code, or the code was used or has expired",
                            "ask an admin for a new code (`lawful users reset NAME`)")
    set_password(user, password)
    user.enrol_hash = user.enrol_expires_at = None
    uri = new_seed(session, user) if needs_code(user) else None
    audit.append(session, actor=name, action="user.enrol", obj=f"user:{name}", purpose="enrolment",
                 details={"step": "password set", "one_time_codes": uri is not None})
    return Enrolment(name, uri)


def _failed() -> SignInFailed:
    return SignInFailed("sign-in failed: wrong name, password or code, or the account is locked or disabled",
                        f"check them; after {MAX_FAILURES} failures an account is locked for {LOCK_MINUTES} minutes")


def _check(session: Session, name: str, password: str, code: str | None) -> User | SignInFailed:
    """The user, if the password (and the code, for roles that need one) is right and the account is open;
    otherwise the failure, counted and on the trail."""
    from lawful.trail import audit

    user = _locked(session, name)
    now = _now()

    def deny(reason: str, **more) -> SignInFailed:
        audit.append(session, actor=name, action="access.deny", obj=f"user:{name}", purpose="sign-in",
                     details={"reason": reason, **more})
        return _failed()

    if user is None or user.password_hash is None:
        _HASHER.verify(_DUMMY_HASH, "no such user; this only makes a refusal take as long as a real check")
        return deny("unknown user or not enrolled")
    if user.disabled_at is not None:
        return deny("account disabled")
    if user.locked_until is not None and user.locked_until > now:
        return deny(f"locked until {user.locked_until.isoformat()}")
    ok = _password_ok(user, password)
    if ok and needs_code(user):
        ok = _code_ok(session, user, code)
    if not ok:
        user.failed_logins += 1
        more = {"failures": user.failed_logins}
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            more["locked_until"] = user.locked_until.isoformat()
        return deny("wrong password or code", **more)
    user.failed_logins, user.locked_until = 0, None
    if needs_code(user) and user.totp_confirmed_at is None:
        user.totp_confirmed_at = now
        audit.append(session, actor=name, action="user.enrol", obj=f"user:{name}", purpose="enrolment",
                     details={"step": "one-time codes confirmed"})
    return user


def confirm_totp(session: Session, *, name: str, password: str, code: str) -> SignInFailed | None:
    """Complete an enrolment that needs one-time codes without opening a session: the person shows they hold the
    new seed. None when done; a SignInFailed (counted toward the lock-out) to raise after the commit otherwise."""
    result = _check(session, name, password, code)
    return result if isinstance(result, SignInFailed) else None


def _lifetime(value, *, unit: str, low: float, high: float) -> float:
    """A token lifetime: a finite number within [low, high]; NaN, infinities, negatives and huge values refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:  # NaN compares false
        raise LawfulError(f"{value!r} {unit} is not an allowed lifetime", f"give {low:g} to {high:g} {unit}")
    return float(value)


def sign_in(session: Session, *, name: str, password: str, code: str | None = None,
            hours: float = SESSION_HOURS) -> str | SignInFailed:
    """A new session token (full scope, at most 7 days), or a SignInFailed to raise once the caller has committed:
    failures must be kept (they count toward the lock-out and go on the trail), so they are returned, not raised.
    The first sign-in of a person whose roles need one-time codes also completes their enrolment."""
    from lawful.trail import audit

    hours = _lifetime(hours, unit="hours", low=1 / 60, high=MAX_SESSION_HOURS)
    user = _check(session, name, password, code)
    if isinstance(user, SignInFailed):
        return user
    token = _issue(session, user, "session", "sign-in", hours, "full")
    audit.append(session, actor=name, action="user.sign-in", obj=f"user:{name}", purpose="sign-in",
                 details={"hours": hours})
    return token


def _password_ok(user: User, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _issue(session: Session, user: User, kind: str, label: str, hours: float, scope: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, kind=kind, label=label, scope=scope, token_hash=_digest(token),
                      created_at=_now(), expires_at=_now() + timedelta(hours=hours)))
    session.flush()
    return token


def create_api_token(session: Session, *, actor: Actor, label: str, days: int, scope: str = "full") -> str:
    """An API token for the signed-in user (shown once): "read" tokens may only read; at most a year."""
    from lawful.trail import audit

    require_write(actor, "users.token")
    days = _lifetime(days, unit="days", low=1, high=MAX_API_DAYS)
    if scope not in SCOPES:
        raise LawfulError(f"{scope!r} is not a token scope", f"use one of {', '.join(SCOPES)}")
    if not label.strip() or len(label) > 200 or any(ord(c) < 32 for c in label):
        raise LawfulError("a token label is 1 to 200 printable characters", "say what the token is for")
    user = session.scalar(select(User).where(User.name == actor.name))
    token = _issue(session, user, "api", label, days * 24, scope)
    audit.append(session, actor=actor.name, action="user.token", obj=f"user:{actor.name}", purpose="administration",
                 details={"label": label, "days": days, "scope": scope})
    return token


def authenticate(session: Session, *, token: str) -> Actor:
    """The actor a token belongs to, with the token's scope, or an Unauthenticated saying why not (unknown, revoked,
    expired, the account locked or disabled)."""
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token)))
    now = _now()
    if row is None:
        raise Unauthenticated("the token is not valid", "sign in again with `lawful login NAME`")
    if row.revoked_at is not None:
        raise Unauthenticated("the token was revoked", "sign in again with `lawful login NAME`")
    if row.expires_at <= now:
        raise Unauthenticated(f"the token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC", "sign in again")
    user = session.get(User, row.user_id)
    if user.disabled_at is not None:
        raise Unauthenticated("the account is disabled", "ask an admin")
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthenticated("the account is locked", f"wait {LOCK_MINUTES} minutes or ask an admin")
    if not session.info.get("readonly") and (row.last_used_at is None or now - row.last_used_at > LAST_USED_STEP):
        row.last_used_at = now  # to the minute: an UPDATE on every request would cost more than the request
        # Now, not at commit: the row lock must come before the trail's lock, in every transaction, or two requests
        # with one token deadlock on PostgreSQL (one holds the row, the other the trail's advisory lock).
        session.flush()
    return Actor(user.name, frozenset(user.roles), user.clearance, row.scope)


def revoke_all(session: Session, *, user: User) -> int:
    """Revoke every live token of a user (reset, disable, a role change that needs a new enrolment); returns how many."""
    done = session.execute(update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
                           .values(revoked_at=_now()).execution_options(synchronize_session=False))
    return done.rowcount


def revoke(session: Session, *, actor: Actor, token: str | None = None, token_id: int | None = None) -> None:
    """Revoke a token by its text (your own; allowed even to a read-only token, to end itself) or by id (yours, or
    anyone's for an admin)."""
    from lawful.trail import audit

    if token is None:
        require_write(actor, "users.revoke")
    row = session.scalar(select(Token).where(Token.token_hash == _digest(token))) if token else \
        session.get(Token, token_id)
    owner = session.get(User, row.user_id) if row else None
    if row is None or (owner.name != actor.name and "admin" not in actor.roles):
        raise NotFound("no such token of yours", "see `lawful users tokens`")
    row.revoked_at = _now()
    audit.append(session, actor=actor.name, action="user.revoke", obj=f"token:{row.id}", purpose="administration",
                 details={"owner": owner.name})


def get_tokens(session: Session, *, actor: Actor) -> list[Token]:
    user = session.scalar(select(User).where(User.name == actor.name))
    return list(session.scalars(select(Token).where(Token.user_id == user.id).order_by(Token.id)))


def tokens_view(session: Session, *, actor: Actor) -> list[dict]:
    """The signed-in user's tokens as data (never the token itself, which is not stored): id, kind, scope, label,
    created, expires, revoked, last used."""
    def at(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return [{"id": t.id, "kind": t.kind, "scope": t.scope, "label": t.label, "created_at": at(t.created_at),
             "expires_at": at(t.expires_at), "revoked_at": at(t.revoked_at), "last_used_at": at(t.last_used_at)}
            for t in get_tokens(session, actor=actor)]
