"""The gate: the one function through which every operational output leaves Lawful.

It checks the entry's state, the purpose and area against its unexpired approvals, and the caller's role; stores
the output with its explanation; opens the review task (the output is a recommendation until a person decides);
and writes the trail. A refusal is written to the trail too and returned, so the caller commits it and then tells
the user; nothing is stored for a refused output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from lawful.access.service import Actor
from lawful.trail import audit
from lawful.governance.models import Entry, Output
from lawful.orm import as_it_stands
from lawful.access.decide import Resource, decide, load_policy, purpose_matches
from lawful.governance.registry import get_approvals, required_approvals


@dataclass(frozen=True)
class GateResult:
    output: Output | None
    refused: str | None = None

    @property
    def allowed(self) -> bool:
        return self.output is not None


# The kind of registry entry each kind of output must come from: a forecast only from a forecast model, which is
# registered and reviewed as one (its evaluation, exposure audit and tier); a rule set's card carrying a [model]
# table would otherwise let a forecast out with a rule set's lighter review.
OUTPUT_FROM = {"forecast": "forecast-model"}


def check(session: Session, *, actor: Actor, entry: Entry, purpose: str, area: str | None,
          now: datetime, kind: str | None = None) -> str | None:
    """Why the gate refuses (None: it lets the output out)."""
    if kind in OUTPUT_FROM and entry.kind != OUTPUT_FROM[kind]:
        return f"{entry.ref} is a {entry.kind}; a {kind} comes only from a {OUTPUT_FROM[kind]}"
    if entry.state == "suspended":
        return f"{entry.ref} is suspended: {entry.state_reason}"
    if entry.state not in ("active", "sandbox"):
        return f"{entry.ref} is {entry.state}, not approved and active; it cannot issue outputs"
    sandbox = entry.state == "sandbox"
    if not purpose.strip():
        return "every output needs a stated purpose"
    action = "outputs.issue-sandbox" if sandbox else "outputs.issue"
    access = decide(actor, action, Resource("model", entry.name, "public"), purpose, load_policy())
    if not access.allowed:
        return access.reason
    valid = [a for a in get_approvals(session, entry=entry) if a.expires_at > now
             and (sandbox or a.mode == "approved")]
    for_purpose = [a for a in valid if any(purpose_matches(p, purpose, load_policy()) for p in a.purposes)]
    if not for_purpose:
        expired = [a for a in get_approvals(session, entry=entry) if a.expires_at <= now]
        if expired and not valid:
            return f"the approval of {entry.ref} expired on {max(a.expires_at for a in expired):%Y-%m-%d}"
        approved = sorted({p for a in valid for p in a.purposes})
        return f"{entry.ref} is not approved for the purpose {purpose!r} (approved for: {', '.join(approved) or 'nothing'})"
    for_area = [a for a in for_purpose if not a.areas or (area is not None and area in a.areas)]
    if not for_area:
        return f"{entry.ref} is not approved for area {area!r} (approved for: " \
               f"{', '.join(sorted({x for a in for_purpose for x in a.areas}))})"
    if not sandbox and len({a.approver for a in for_area}) < required_approvals(entry):
        return f"{entry.ref} is {entry.tier} tier and needs {required_approvals(entry)} unexpired approvals " \
               f"covering this purpose and area; it has {len({a.approver for a in for_area})}"
    return None


def digest(payload: dict, explanation: list) -> str:
    text = json.dumps({"payload": payload, "explanation": explanation}, sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def precheck(session: Session, *, actor: Actor, entry: Entry, purpose: str, kind: str,
             area: str | None = None) -> str | None:
    """Would the gate let this entry's outputs out? Ask before spending seconds computing one. A refusal is written
    to the trail here (the caller commits it); issue() checks again when the output exists."""
    why = check(session, actor=actor, entry=entry, purpose=purpose, area=area, now=datetime.now(timezone.utc),
                kind=kind)
    if why:
        refuse(session, actor=actor, entry=entry, purpose=purpose, kind=kind, subject="", area=area, why=why)
    return why


def refuse(session: Session, *, actor: Actor, entry: Entry, purpose: str, kind: str, subject: str,
           area: str | None, why: str) -> None:
    """Put the gate's refusal of one output on the trail (the caller commits it)."""
    audit.append(session, actor=actor.name, action="gate.refuse", obj=f"model:{entry.ref}", purpose=purpose,
                 details={"kind": kind, "subject": subject, "area": area, "reason": why})


def issue(session: Session, *, actor: Actor, entry: Entry, purpose: str, kind: str, subject: str, payload: dict,
          explanation: list, area: str | None = None, classification: str = "internal") -> GateResult:
    """Let one output out, or refuse it. The caller commits either way (a refusal is on the trail).
    `classification`: that of the data the output was made from; reading or deciding it needs that clearance."""
    # a suspension that committed while this output was computed is seen; one that comes after waits for this commit
    as_it_stands(session, Entry, entry.id, shared=True)
    now = datetime.now(timezone.utc)
    why = check(session, actor=actor, entry=entry, purpose=purpose, area=area, now=now, kind=kind)
    if why is None and not explanation:
        why = "an output must carry its explanation"
    if why:
        refuse(session, actor=actor, entry=entry, purpose=purpose, kind=kind, subject=subject, area=area, why=why)
        return GateResult(None, why)
    out = Output(entry_id=entry.id, kind=kind, purpose=purpose, area=area, subject=subject, issued_by=actor.name,
                 issued_at=now, sandbox=entry.state == "sandbox", payload=payload, explanation=explanation,
                 status="open", classification=classification)
    session.add(out)
    session.flush()
    audit.append(session, actor=actor.name, action="output.issue", obj=f"output:{out.id}", purpose=purpose,
                 details={"model": entry.ref, "kind": kind, "subject": subject, "area": area, "sandbox": out.sandbox,
                          "classification": classification, "digest": digest(payload, explanation)})
    return GateResult(out)
