"""The access policy as the server holds it (read once at start): show it with its SHA-256, try a decision with
it, and read the refusals on the trail (audit.read). Nothing a client sets chooses the policy."""

from __future__ import annotations

from fastapi import APIRouter, Query

from lawful.access import service
from lawful.web.deps import Call, CallDep

router = APIRouter(prefix="/access", tags=["access"])


@router.get("/policy")
def policy(c: Call = CallDep) -> dict:
    """The server's policy: each role's actions and purposes, each model's and action's purposes, its source and
    SHA-256 (the one `server.start` recorded). Anyone signed in may read it."""
    return c.run(lambda session, *, actor: service.policy_view(c.door.policy, c.door.policy_sha256))


@router.get("/check")
def check(action: str = Query(min_length=1, max_length=60, description="e.g. models.approve"),
          purpose: str = Query(min_length=1, max_length=200, description="why, e.g. 'patrol planning'"),
          resource: str = Query("model:", max_length=300, pattern=r"^[a-z-]+:.*$", description="KIND:NAME"),
          classification: str = Query("internal", max_length=20), c: Call = CallDep) -> dict:
    """What the server's decision point would say to you, without doing anything (it is not a denial)."""
    kind, _, name = resource.partition(":")
    return c.run(service.try_decision, policy=c.door.policy, action=action, purpose=purpose, kind=kind, name=name,
                 classification=classification)


@router.get("/denials")
def denials(limit: int = Query(20, ge=0, le=1000, description="how many of the newest to list"),
            c: Call = CallDep) -> dict:
    """Refusals on the trail (the decision point's and the gate's), counted per person and action, and the
    newest of them (audit.read: DPOs, auditors)."""
    return c.run(service.denials_view, limit=limit)
