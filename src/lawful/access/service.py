"""Users and roles: create them, look them up, check a role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.models import ROLES, User
from lawful.errors import LawfulError


@dataclass(frozen=True)
class Actor:
    name: str
    roles: frozenset[str]
    clearance: str = "internal"

    def has(self, allowed: set[str]) -> bool:
        return bool(self.roles & allowed)


def get_actor(session: Session, *, name: str | None) -> Actor:
    """The named user, or an error saying how to name one."""
    if not name:
        raise LawfulError("this command needs to know who you are", "pass --as NAME or set LAWFUL_USER")
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise LawfulError(f"there is no user named {name!r}", "an admin creates users with `lawful users add`")
    return Actor(user.name, frozenset(user.roles), user.clearance)


def get_all(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def create(session: Session, *, creator: Actor | None, name: str, roles: list[str], first_admin: bool = False,
           clearance: str = "internal", password: str | None = None) -> tuple[User, str | None]:
    """A new user, and the otpauth:// URI of their one-time-code secret when their roles need one. The first admin
    needs no one's say-so; everyone after is created by someone the policy allows."""
    from lawful.access.credentials import enrol_code, needs_code, set_password
    from lawful.access.decide import LEVELS, Resource, require
    from lawful.trail import audit

    if clearance not in LEVELS:
        raise LawfulError(f"{clearance!r} is not a clearance level", f"use one of {', '.join(LEVELS)}")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise LawfulError(f"unknown role(s): {', '.join(unknown) or '(none given)'}",
                          f"use one or more of {', '.join(ROLES)}")
    if not name or any(ord(c) < 33 for c in name) or len(name) > 100:
        raise LawfulError(f"{name!r} is not a user name", "use up to 100 characters without spaces")
    if session.scalar(select(User).where(User.name == name)):
        raise LawfulError(f"user {name!r} exists already", "choose another name")
    admins = [u for u in get_all(session) if "admin" in u.roles]
    if first_admin:
        if admins:
            raise LawfulError("an admin exists already", "ask an admin to add you with `lawful users add`")
        if "admin" not in roles:
            roles = ["admin", *roles]
        if not password:
            raise LawfulError("the first admin needs a password", "give one (at least 12 characters)")
    else:
        if creator is None:
            raise LawfulError("only a signed-in admin creates users", "sign in with `lawful login NAME`")
        require(creator, "users.create", Resource("user", name), "administration")
    actor = name if first_admin else creator.name
    user = User(name=name, roles=sorted(set(roles)), clearance=clearance, created_at=datetime.now(timezone.utc),
                created_by=actor, failed_logins=0)
    if password:
        set_password(user, password)
    uri = enrol_code(user) if needs_code(user) else None
    session.add(user)
    session.flush()
    audit.append(session, actor=actor, action="user.create", obj=f"user:{name}", purpose="administration",
                 details={"roles": user.roles, "clearance": clearance, "password": bool(password),
                          "one_time_codes": uri is not None})
    return user, uri


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
