"""Signing in and out, who am I, and the status of long jobs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from lawful.access import credentials
from lawful.web.deps import CallDep, Call, bearer

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    code: str | None = Field(default=None, max_length=20)
    hours: float = Field(default=12.0, gt=0, le=168)


class SessionToken(BaseModel):
    token: str
    name: str
    hours: float


class Me(BaseModel):
    name: str
    roles: list[str]
    clearance: str


@router.post("/session", response_model=SessionToken)
def sign_in(body: SignIn, c: Call = CallDep) -> SessionToken:
    """Sign in with name, password and (admins, approvers, DPOs) a one-time code; returns a session token."""
    result = c.open(credentials.sign_in, name=body.name, password=body.password, code=body.code, hours=body.hours)
    if isinstance(result, credentials.SignInFailed):
        raise result  # after the commit: the failure counts toward the lock-out and is on the trail
    return SessionToken(token=result, name=body.name, hours=body.hours)


@router.delete("/session", status_code=204)
def sign_out(request: Request, c: Call = CallDep) -> None:
    """Revoke the token this request carries."""
    # the token is read inside the call, after the door authenticated it: a missing or malformed one is refused
    # (and recorded) there like on every other route
    c.run(lambda session, *, actor: credentials.revoke(session, actor=actor, token=bearer(request)))


@router.get("/me", response_model=Me)
def me(c: Call = CallDep) -> Me:
    """Who the token belongs to: name, roles, clearance."""
    return c.run(lambda session, *, actor: Me(name=actor.name, roles=sorted(actor.roles), clearance=actor.clearance))


@router.get("/jobs/{job_id}")
def job(job_id: str, c: Call = CallDep) -> dict:
    """A long job's state (queued, running, done, failed), stage and progress; its result when done. Only its owner's:
    a result was computed under the owner's roles, clearance and purpose, so nobody else (an admin neither) reads it."""
    actor = c.actor()
    return c.door.jobs.get(job_id, owner=actor.name).view()
