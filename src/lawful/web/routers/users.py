"""People and their tokens: add, list, disable, enable, reset, change roles (admins, under the policy's
`users.create`), enrol with a one-time code (open, like signing in), and each person's own API tokens. Parse, call
an access service, return JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from lawful.access import credentials
from lawful.access import service as people
from lawful.web.deps import Call, CallDep

router = APIRouter(tags=["users"])

UserName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00-\x20\x7f]+$",
                               description="a user name")]
TokenId = Annotated[int, Path(ge=1, le=2**62)]
Role = Annotated[str, Field(min_length=1, max_length=40)]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="why; kept in the trail")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(Strict):
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1, max_length=8)
    clearance: str = Field("internal", min_length=1, max_length=20,
                           description="public, internal, confidential or secret")


class Because(Strict):
    reason: Reason


class Roles(Strict):
    roles: list[Role] = Field(min_length=1, max_length=8)


class Enrolment(Strict):
    name: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, max_length=100, description="the one-time enrolment code an admin gave you")
    password: str = Field(min_length=1, max_length=2000, description="your new password (12 to 1,024 characters)")


class NewToken(Strict):
    label: str = Field(min_length=1, max_length=200, description="what it is for")
    days: int = Field(30, ge=1, le=credentials.MAX_API_DAYS)
    scope: Literal["read", "full"] = "full"


def _code(name: str, code: str | None) -> dict:
    return {"name": name, "enrolment_code": code, "enrolment_hours": credentials.ENROL_HOURS if code else None}


@router.get("/users")
def list_users(c: Call = CallDep) -> list[dict]:
    """Every user: roles, clearance, how the account stands (enrolment pending, locked, disabled), who created it."""
    return c.run(people.people_view)


@router.post("/users", status_code=201)
def add_user(body: NewUser, c: Call = CallDep) -> dict:
    """Add a user without a password: the answer carries their one-time enrolment code (shown once)."""
    def add(session, *, actor):
        user, code = people.create(session, creator=actor, name=body.name, roles=body.roles,
                                   clearance=body.clearance)
        return {**_code(user.name, code), "roles": list(user.roles), "clearance": user.clearance}

    return c.run(add)


@router.post("/users/{name}/disable")
def disable_user(name: UserName, body: Because, c: Call = CallDep) -> dict:
    """Disable an account: no sign-in, no enrolment, every token revoked. Not the last enabled admin."""
    revoked = c.run(people.disable, name=name, reason=body.reason)
    return {"name": name, "disabled": True, "tokens_revoked": revoked}


@router.post("/users/{name}/enable")
def enable_user(name: UserName, body: Because, c: Call = CallDep) -> dict:
    """Enable a disabled account; its old tokens stay revoked."""
    c.run(people.enable, name=name, reason=body.reason)
    return {"name": name, "disabled": False}


@router.post("/users/{name}/reset")
def reset_user(name: UserName, c: Call = CallDep) -> dict:
    """Reset a person's sign-in: password, one-time codes and tokens stop working; a new enrolment code (once)."""
    return _code(name, c.run(people.reset, name=name))


@router.put("/users/{name}/roles")
def set_roles(name: UserName, body: Roles, c: Call = CallDep) -> dict:
    """Replace a person's roles (never your own). When the new roles need one-time codes the person has not set
    up, their sign-in is reset and the answer carries a new enrolment code."""
    code = c.run(people.set_roles, name=name, roles=body.roles)
    return {**_code(name, code), "roles": sorted(set(body.roles))}


@router.post("/enrolment")
def enrol(body: Enrolment, c: Call = CallDep) -> dict:
    """Open, like signing in: set your own password with the one-time code an admin gave you. For roles that need
    one-time codes the answer carries the otpauth:// URI for an authenticator app; the first sign-in with a code
    from it completes the enrolment. A wrong, used or expired code is a 401, on the trail."""
    result = c.open(credentials.enrol, name=body.name, code=body.code, password=body.password)
    if isinstance(result, credentials.SignInFailed):
        raise result  # after the commit: the failed attempt is on the trail
    return {"name": result.name, "otpauth_uri": result.uri}


@router.get("/tokens")
def list_tokens(c: Call = CallDep) -> list[dict]:
    """Your tokens: kind, scope, label, created, expires, revoked, last used (never the token itself)."""
    return c.run(credentials.tokens_view)


@router.post("/tokens", status_code=201)
def create_token(body: NewToken, c: Call = CallDep) -> dict:
    """A new API token for yourself, shown once ("read": it may only read); 1 to 365 days."""
    def mint(session, *, actor):
        token = credentials.create_api_token(session, actor=actor, label=body.label, days=body.days,
                                             scope=body.scope)
        return {"token": token, "name": actor.name, "label": body.label, "days": body.days, "scope": body.scope}

    return c.run(mint)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: TokenId, c: Call = CallDep) -> None:
    """Revoke one of your tokens by id (an admin: anyone's)."""
    c.run(credentials.revoke, token_id=token_id)
