"""People: create them (the first admin with a password, everyone else with a one-time enrolment code so that they
set their own), disable and enable them, reset their sign-in, change their roles, look them up, check a scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.models import ROLES, User
from lawful.errors import Conflict, LawfulError, NotFound

SCOPE_READ, SCOPE_FULL = "read", "full"


@dataclass(frozen=True)
class Actor:
    name: str
    roles: frozenset[str]
    clearance: str = "internal"
    scope: str = SCOPE_FULL  # "read": an API token that may only read; sessions and full tokens: "full"

    def has(self, allowed: set[str]) -> bool:
        return bool(self.roles & allowed)


def require_write(actor: Actor, action: str = "write") -> None:
    """Refuse a read-only token anything that writes. Services that change state call it; the server may call it
    before any request that is not a read."""
    from lawful.access.decide import AccessDenied, Resource

    if actor.scope != SCOPE_FULL:
        raise AccessDenied(actor.name, action, Resource("token", actor.scope), "",
                           f"{actor.name}'s token is read-only ({actor.scope}) and {action} writes")


def get_actor(session: Session, *, name: str | None) -> Actor:
    """The named user, or an error saying how to name one. A disabled account is no actor."""
    if not name:
        raise LawfulError("no user name was given", "name an existing user (see `lawful users list`)")
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"there is no user named {name!r}", "an admin creates users with `lawful users add`")
    if user.disabled_at is not None:
        raise LawfulError(f"{name}'s account is disabled", "an admin may enable it with `lawful users enable`",
                          kind="unauthenticated")
    return Actor(user.name, frozenset(user.roles), user.clearance)


def get_all(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def state(user: User, now: datetime | None = None) -> str:
    """How the account stands, in words: disabled, enrolment pending (until when), locked, one-time codes not yet
    confirmed, or active."""
    now = now or datetime.now(timezone.utc)
    if user.disabled_at is not None:
        return f"disabled since {user.disabled_at:%Y-%m-%d %H:%M} UTC"
    if user.enrol_hash is not None:
        if user.enrol_expires_at <= now:
            return "enrolment code expired"
        return f"enrolment pending (code valid until {user.enrol_expires_at:%Y-%m-%d %H:%M} UTC)"
    if user.password_hash is None:
        return "cannot sign in (no password; reset to issue an enrolment code)"
    if user.locked_until is not None and user.locked_until > now:
        return f"locked until {user.locked_until:%Y-%m-%d %H:%M} UTC"
    if user.totp_secret is not None and user.totp_confirmed_at is None:
        return "one-time codes not yet confirmed (first sign-in completes enrolment)"
    return "active"


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise LawfulError(f"unknown role(s): {', '.join(unknown) or '(none given)'}",
                          f"use one or more of {', '.join(ROLES)}")
    return sorted(set(roles))


def create(session: Session, *, creator: Actor | None, name: str, roles: list[str], first_admin: bool = False,
           clearance: str = "internal", password: str | None = None) -> tuple[User, str | None]:
    """A new user. The first admin needs no one's say-so and sets a password here; the second value is then the
    otpauth:// URI of their one-time-code seed. Everyone after is created by someone the policy allows, without a
    password: the second value is their one-time enrolment code (valid 72 hours), with which the person sets their
    own password and, for roles that need them, one-time codes (`credentials.enrol`)."""
    from lawful.access.credentials import ENROL_HOURS, new_enrolment, new_seed, set_password
    from lawful.access.decide import LEVELS, AccessDenied, Resource, require
    from lawful.trail import audit

    if clearance not in LEVELS:
        raise LawfulError(f"{clearance!r} is not a clearance level", f"use one of {', '.join(LEVELS)}")
    roles = _check_roles(roles)
    if not name or any(ord(c) < 33 for c in name) or len(name) > 100:
        raise LawfulError(f"{name!r} is not a user name", "use up to 100 characters without spaces")
    if session.scalar(select(User).where(User.name == name)):
        raise Conflict(f"user {name!r} exists already", "choose another name")
    if first_admin:
        if any("admin" in u.roles for u in get_all(session)):
            raise Conflict("an admin exists already", "ask an admin to add you with `lawful users add`")
        roles = sorted({"admin", *roles})
        if not password:
            raise LawfulError("the first admin needs a password", "give one (at least 12 characters)")
    else:
        if creator is None:
            raise LawfulError("only a signed-in admin creates users", "sign in with `lawful login NAME`",
                              kind="unauthenticated")
        if password is not None:
            raise LawfulError("an admin does not set other people's passwords",
                              "add the user without one; they set their own with the enrolment code")
        require(creator, "users.create", Resource("user", name), "administration")
        require_write(creator, "users.create")
        if LEVELS.index(clearance) > LEVELS.index(creator.clearance):  # else an admin could enrol as the new person
            raise AccessDenied(creator.name, "users.create", Resource("user", name, clearance), "administration",
                               f"{creator.name} (clearance {creator.clearance}) cannot grant clearance {clearance}")
    actor = name if first_admin else creator.name
    user = User(name=name, roles=roles, clearance=clearance, created_at=datetime.now(timezone.utc),
                created_by=actor, failed_logins=0)
    session.add(user)
    if first_admin:
        set_password(user, password)
        secret = new_seed(session, user)
    else:
        secret = new_enrolment(user)
    session.flush()
    audit.append(session, actor=actor, action="user.create", obj=f"user:{name}", purpose="administration",
                 details={"roles": user.roles, "clearance": clearance, "password": first_admin,
                          "enrolment_hours": None if first_admin else ENROL_HOURS})
    return user, secret


def _managed(session: Session, actor: Actor, name: str, action: str, *, takes_over: bool = False) -> User:
    """The user an admin acts on, after the policy and the token's scope allow it (people are managed under the
    policy's users.create). `takes_over`: the action can hand the admin a way into the account (a new enrolment
    code), so, as for create, it is refused on a person cleared above the admin."""
    from lawful.access.credentials import _locked
    from lawful.access.decide import LEVELS, AccessDenied, Resource, require

    require(actor, "users.create", Resource("user", name), "administration")
    require_write(actor, action)
    user = _locked(session, name)
    if user is None:
        raise NotFound(f"there is no user named {name!r}", "see `lawful users list`")
    if takes_over and LEVELS.index(user.clearance) > LEVELS.index(actor.clearance):
        raise AccessDenied(actor.name, action, Resource("user", name, user.clearance), "administration",
                           f"{name} is cleared {user.clearance}, above {actor.name}'s {actor.clearance}: an admin "
                           "cleared at least as high must do this (it would hand you a way into the account)")
    return user


def _other_admins(session: Session, user: User) -> bool:
    return any("admin" in u.roles and u.disabled_at is None and u.id != user.id for u in get_all(session))


def _reason(reason: str) -> str:
    if not reason.strip() or len(reason) > 500:
        raise LawfulError("a reason is 1 to 500 characters", "say why; it is kept in the trail")
    return reason.strip()


def disable(session: Session, *, actor: Actor, name: str, reason: str) -> int:
    """Disable an account: it cannot sign in, enrol or use any token, and its tokens are revoked. Refused for the
    last enabled admin. Returns how many tokens were revoked."""
    from lawful.access.credentials import revoke_all
    from lawful.trail import audit

    reason = _reason(reason)
    user = _managed(session, actor, name, "users.disable")
    if user.disabled_at is not None:
        raise Conflict(f"{name} is disabled already", "see `lawful users list`")
    if "admin" in user.roles and not _other_admins(session, user):
        raise Conflict(f"{name} is the last enabled admin", "make another admin first")
    user.disabled_at = datetime.now(timezone.utc)
    revoked = revoke_all(session, user=user)
    audit.append(session, actor=actor.name, action="user.disable", obj=f"user:{name}", purpose="administration",
                 details={"disabled": True, "reason": reason, "tokens_revoked": revoked})
    return revoked


def enable(session: Session, *, actor: Actor, name: str, reason: str) -> None:
    """Enable a disabled account again (its revoked tokens stay revoked: the person signs in afresh)."""
    from lawful.trail import audit

    reason = _reason(reason)
    user = _managed(session, actor, name, "users.enable")
    if user.disabled_at is None:
        raise Conflict(f"{name} is not disabled", "see `lawful users list`")
    user.disabled_at = None
    audit.append(session, actor=actor.name, action="user.disable", obj=f"user:{name}", purpose="administration",
                 details={"disabled": False, "reason": reason})


def reset(session: Session, *, actor: Actor, name: str) -> str:
    """Reset a person's sign-in: their password and one-time-code seed stop working, their tokens are revoked, the
    lock-out is lifted, and a new one-time enrolment code (returned, shown once) lets them set new ones themselves."""
    from lawful.access.credentials import ENROL_HOURS, new_enrolment, revoke_all
    from lawful.trail import audit

    user = _managed(session, actor, name, "users.reset", takes_over=True)
    code = new_enrolment(user)
    revoked = revoke_all(session, user=user)
    audit.append(session, actor=actor.name, action="user.reset", obj=f"user:{name}", purpose="administration",
                 details={"tokens_revoked": revoked, "enrolment_hours": ENROL_HOURS})
    return code


def set_roles(session: Session, *, actor: Actor, name: str, roles: list[str]) -> str | None:
    """Give a person these roles (replacing theirs). Nobody changes their own roles, and the last enabled admin
    keeps theirs. When the new roles need one-time codes the person has not set up, their sign-in is reset: the
    returned enrolment code lets them set a password and codes themselves (None otherwise)."""
    from lawful.access.credentials import ENROL_HOURS, NEEDS_CODE, new_enrolment, revoke_all
    from lawful.access.decide import AccessDenied, Resource
    from lawful.trail import audit

    roles = _check_roles(roles)
    user = _managed(session, actor, name, "users.roles", takes_over=True)
    if user.name == actor.name:
        raise AccessDenied(actor.name, "users.roles", Resource("user", name), "administration",
                           "nobody changes their own roles; ask another admin")
    if "admin" in user.roles and "admin" not in roles and user.disabled_at is None \
            and not _other_admins(session, user):
        raise Conflict(f"{name} is the last enabled admin", "make another admin first")
    before = list(user.roles)
    code = None
    if NEEDS_CODE & set(roles) and user.totp_secret is None and user.enrol_hash is None:
        code = new_enrolment(user)
        revoke_all(session, user=user)
    user.roles = roles
    audit.append(session, actor=actor.name, action="user.roles", obj=f"user:{name}", purpose="administration",
                 details={"from": before, "to": roles, "re_enrol": code is not None,
                          "enrolment_hours": ENROL_HOURS if code else None})
    return code


@dataclass(frozen=True)
class Denial:
    seq: int
    actor: str
    what: str  # the action refused, or the gate and the model it guards
    reason: str
    purpose: str


def get_denials(session: Session) -> list[Denial]:
    """Every refusal on the trail, by the decision point (access.deny) and by the gate (gate.refuse), newest first."""
    import json

    from lawful.trail.models import TrailEntry

    rows = session.scalars(select(TrailEntry).where(TrailEntry.action.in_(("access.deny", "gate.refuse")))
                           .order_by(TrailEntry.seq.desc()))
    out = []
    for e in rows:
        d = json.loads(e.details)
        out.append(Denial(e.seq, e.actor, d.get("action") or f"gate: {e.object}", d.get("reason", ""), e.purpose))
    return out


def people_view(session: Session, *, actor: Actor, purpose: str = "administration") -> list[dict]:
    """Every user with roles, clearance and how the account stands, for whoever manages people (the policy's
    users.create: admins). Reading the list is a consultation in the reader's name."""
    from lawful.access.decide import Resource, require
    from lawful.trail import audit

    require(actor, "users.create", Resource("user", "*"), purpose)
    now = datetime.now(timezone.utc)
    rows = [{"name": u.name, "roles": list(u.roles), "clearance": u.clearance,
             "created_at": u.created_at.isoformat(), "created_by": u.created_by, "state": state(u, now),
             "disabled": u.disabled_at is not None} for u in get_all(session)]
    audit.append(session, actor=actor.name, action="consultation", obj="users:list", purpose=purpose,
                 details={"users": len(rows)})
    return rows


def denials_view(session: Session, *, actor: Actor, limit: int = 20, purpose: str = "governance") -> dict:
    """The refusals on the trail counted per person and what they were refused, and the newest `limit` of them,
    for whoever may read the trail (audit.read: DPOs, auditors). The reading is a consultation."""
    from collections import Counter

    from lawful.access.decide import Resource, require
    from lawful.trail import audit

    require(actor, "audit.read", Resource("trail", "denials"), purpose)
    denials = get_denials(session)
    counts = Counter((d.actor, d.what) for d in denials).most_common()
    audit.append(session, actor=actor.name, action="consultation", obj="trail:denials", purpose=purpose,
                 details={"denials": len(denials)})
    return {"total": len(denials),
            "counts": [{"actor": who, "what": what, "denials": n} for (who, what), n in counts],
            "newest": [{"seq": d.seq, "actor": d.actor, "what": d.what, "reason": d.reason, "purpose": d.purpose}
                       for d in denials[:max(0, limit)]]}


def try_decision(session: Session, *, actor: Actor, policy, action: str, purpose: str, kind: str = "model",
                 name: str = "", classification: str = "internal") -> dict:
    """What the decision point would say to this actor, by `policy` (the server's, read at start: never a file a
    client names), without doing anything. The question is a consultation on the trail, not a denial."""
    from lawful.access.decide import LEVELS, Resource, decide
    from lawful.trail import audit

    if classification not in LEVELS:
        raise LawfulError(f"{classification!r} is not a classification", f"use one of {', '.join(LEVELS)}")
    d = decide(actor, action, Resource(kind, name, classification), purpose, policy)
    audit.append(session, actor=actor.name, action="consultation", obj="policy:check", purpose=purpose,
                 details={"action": action, "resource": f"{kind}:{name}", "classification": classification,
                          "allowed": d.allowed})
    return {"allowed": d.allowed, "reason": d.reason, "actor": actor.name, "action": action,
            "resource": f"{kind}:{name}", "classification": classification, "purpose": purpose}


def policy_view(policy, sha256: str) -> dict:
    """The policy as data: each role's actions and purposes, each model's and action's purposes, the purposes'
    sub-purposes, where it was read from and its SHA-256 (as `server.start` put it on the trail)."""
    return {"source": policy.source, "sha256": sha256,
            "roles": {r: {"actions": sorted(a), "purposes": list(p)} for r, (a, p) in sorted(policy.roles.items())},
            "models": {m: list(p) for m, p in sorted(policy.models.items())},
            "actions": {a: list(p) for a, p in sorted(policy.actions.items())},
            "purposes": {n: {"sub": list(sub), "reference": ref} for n, (sub, ref) in sorted(policy.purposes.items())}}
