"""The registry: versioned models and rule sets with their cards, and every step of their lifecycle.

draft -> submitted -> sandbox | approved -> active -> suspended -> (reinstated: submitted again) ... -> retired.
Every step is checked against who may take it, recorded as a state change and written to the trail.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lawful.access.service import Actor
from lawful.errors import LawfulError
from lawful.trail import audit
from lawful.governance.card import check_evaluation, check_exposure, check_fria, fria_missing
from lawful.governance.models import Approval, Entry, StateChange
from lawful.orm import as_it_stands
from lawful.access.decide import Resource, require
from lawful.governance.policy import Thresholds

MOVES = {
    "draft": {"submitted", "retired"},
    "submitted": {"draft", "sandbox", "approved", "retired"},
    "sandbox": {"approved", "suspended", "retired"},
    "approved": {"active", "suspended", "retired"},
    "active": {"suspended", "retired"},
    "suspended": {"submitted", "retired"},
    "retired": set(),
}
BREAKER = "lawful:breaker"  # the actor named when the breaker trips by itself


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _may(actor: Actor, step: str, model: str) -> None:
    """Registry steps are governance: the decision point decides, for the purpose 'governance'."""
    require(actor, f"models.{step}", Resource("model", model, "public"), "governance")  # the registry is public


def required_approvals(entry: Entry) -> int:
    return 2 if entry.tier == "high" else 1


def get(session: Session, *, ref: str) -> Entry:
    """'name' (newest version) or 'name:version'."""
    name, _, version = ref.partition(":")
    q = select(Entry).where(Entry.name == name)
    if version:
        if not version.isdigit():
            raise LawfulError(f"{ref!r}: the version after ':' must be a number", "write NAME or NAME:VERSION")
        q = q.where(Entry.version == int(version))
    entry = session.scalar(q.order_by(Entry.version.desc()).limit(1))
    if entry is None:
        raise LawfulError(f"nothing named {ref!r} is registered", "see `lawful models list`")
    return entry


def get_all(session: Session) -> list[Entry]:
    return list(session.scalars(select(Entry).order_by(Entry.name, Entry.version)))


def get_approvals(session: Session, *, entry: Entry, current_round: bool = True) -> list[Approval]:
    q = select(Approval).where(Approval.entry_id == entry.id).order_by(Approval.id)
    if current_round:
        q = q.where(Approval.round == entry.round)
    return list(session.scalars(q))


def _move(session: Session, entry: Entry, to: str, *, actor: str, reason: str, automatic: bool = False,
          action: str) -> None:
    as_it_stands(session, Entry, entry.id)  # two moves at once (a suspension, an activation) judged one by one
    if to not in MOVES[entry.state]:
        raise LawfulError(f"{entry.ref} is {entry.state}; it cannot become {to}",
                          f"from {entry.state} it can become: {', '.join(sorted(MOVES[entry.state])) or 'nothing'}")
    now = _now()
    session.add(StateChange(entry_id=entry.id, from_state=entry.state, to_state=to, actor=actor, reason=reason,
                            automatic=automatic, at=now))
    audit.append(session, actor=actor, action=action, obj=f"model:{entry.ref}", purpose="governance",
                 details={"from": entry.state, "to": to, "reason": reason, "automatic": automatic})
    entry.state, entry.state_reason, entry.updated_at = to, reason, now
    session.flush()


def register(session: Session, *, actor: Actor, card: dict) -> Entry:
    """A new draft entry from a checked card (see card.load_card). Versions count up from 1 per name."""
    _may(actor, "register", card["name"])
    if card["owner"] != actor.name and "admin" not in actor.roles:
        raise LawfulError(f"the card names {card['owner']} as owner, but {actor.name} is registering it",
                          "the owner registers their own entry (or an admin does)")
    newest = session.scalar(select(func.max(Entry.version)).where(Entry.name == card["name"])) or 0
    version = card.get("version", newest + 1)
    if version <= newest:
        raise LawfulError(f"{card['name']} already has version {newest}",
                          f"leave out version (it becomes {newest + 1}) or give a higher one")
    now = _now()
    entry = Entry(name=card["name"], version=version, kind=card["kind"], tier=card["tier"], owner=card["owner"],
                  state="draft", state_reason="", card=card, fria=card.get("fria"), round=1, created_at=now,
                  updated_at=now)
    session.add(entry)
    session.flush()
    audit.append(session, actor=actor.name, action="model.register", obj=f"model:{entry.ref}", purpose="governance",
                 details={"tier": entry.tier, "kind": entry.kind, "legal_basis": card["legal_basis"]})
    return entry


def attach(session: Session, *, actor: Actor, entry: Entry, evaluation: dict | None = None,
           exposure: dict | None = None, fria: dict | None = None) -> None:
    """Attach evaluation results, an exposure audit or an impact assessment to a draft (or refused) entry."""
    if actor.name != entry.owner and "admin" not in actor.roles:
        raise LawfulError(f"only the owner ({entry.owner}) attaches results to {entry.ref}", "ask the owner")
    if entry.state != "draft":
        raise LawfulError(f"{entry.ref} is {entry.state}; results can only be attached to a draft",
                          "register a new version to change what was assessed")
    # Checked before anything changes: finite figures, required keys (a NaN PAI or an empty audit never counts).
    evaluation = check_evaluation(evaluation, _named("evaluation", evaluation)) if evaluation is not None else None
    exposure = check_exposure(exposure, _named("exposure audit", exposure)) if exposure is not None else None
    fria = check_fria(fria) if fria is not None else None
    if evaluation is not None:
        entry.evaluation = evaluation
    if exposure is not None:
        entry.exposure = exposure
    if fria is not None:
        entry.fria = fria
    entry.updated_at = _now()
    session.flush()
    audit.append(session, actor=actor.name, action="model.attach", obj=f"model:{entry.ref}", purpose="governance",
                 details={"evaluation": evaluation is not None, "exposure": exposure is not None,
                          "fria": fria is not None})


def _named(what: str, attachment) -> str:
    source = attachment.get("source") if isinstance(attachment, dict) else None
    return f"{what} {str(source)[:200]}" if isinstance(source, str) and source else what


def threshold_breaches(entry: Entry, thresholds: Thresholds) -> list[str]:
    """Why a high-tier entry's attached results do not allow it to go forward (empty: they do)."""
    problems = []
    if not entry.evaluation:
        problems.append("no evaluation results are attached (`lawful models attach --evaluation`)")
    if not entry.exposure:
        problems.append("no exposure-audit results are attached (`lawful models attach --exposure`)")
    if problems:
        return problems
    if entry.kind == "forecast-model":
        m = entry.card["model"]
        share = float(m.get("top_share", 0.05))
        rec = [r for r in entry.evaluation.get("records", [])
               if r["model"] == m["estimator"] and abs(r["coverage"] - share) < 1e-9]
        if not rec:
            problems.append(f"the evaluation has no result for {m['estimator']} at {share:.0%} of cells")
        elif rec[0]["pai"] < thresholds.min_pai:
            problems.append(f"its PAI at {share:.0%} is {rec[0]['pai']:.2f}, below the required {thresholds.min_pai:g}")
    else:
        rate = entry.evaluation.get("misjudgment_rate")
        if rate is not None and rate > thresholds.max_misjudgment:
            problems.append(f"its misjudgment rate is {rate:.0%}, above the allowed {thresholds.max_misjudgment:.0%}")
    misplaced = entry.exposure.get("misplaced")
    if misplaced is not None and misplaced > thresholds.max_misplaced:
        problems.append(f"its exposure audit puts {misplaced:.0%} of the attention in the wrong areas, above the "
                        f"allowed {thresholds.max_misplaced:.0%}")
    return problems


def submit(session: Session, *, actor: Actor, entry: Entry, thresholds: Thresholds) -> None:
    """Ask for approval. High tier: refused, with the reasons, unless its results are attached and within bounds."""
    if actor.name != entry.owner and "admin" not in actor.roles:
        raise LawfulError(f"only the owner ({entry.owner}) submits {entry.ref}", "ask the owner")
    if entry.tier == "high":
        problems = threshold_breaches(entry, thresholds)
        if problems:
            raise LawfulError(f"{entry.ref} is high tier and cannot be submitted: {'; '.join(problems)}",
                              "attach passing results to the draft, or register a better version")
    entry.submitted_by = actor.name
    _move(session, entry, "submitted", actor=actor.name, reason="submitted for approval", action="model.submit")


def approve(session: Session, *, actor: Actor, entry: Entry, reason: str, purposes: list[str], areas: list[str],
            expires: date | None, thresholds: Thresholds, sandbox: bool = False) -> Approval:
    """One approver's approval (or sandbox decision). High tier becomes approved only with two distinct approvers."""
    _may(actor, "approve", entry.name)
    if entry.state not in ("submitted", "sandbox"):
        raise LawfulError(f"{entry.ref} is {entry.state}; only a submitted entry (or one in sandbox) can be approved",
                          "the owner submits it first with `lawful models submit`")
    if actor.name in (entry.owner, entry.submitted_by):
        raise LawfulError(f"{actor.name} submitted or owns {entry.ref} and cannot approve it",
                          "approval must come from someone else (no self-approval)")
    if not reason.strip():
        raise LawfulError("an approval needs a reason", "give --reason")
    allowed = entry.card["purposes"]
    outside = [p for p in purposes if p not in allowed]
    if not purposes or outside:
        raise LawfulError(f"purposes {outside or '(none)'} are not among the card's purposes {allowed}",
                          "approve for one or more of the purposes the card declares")
    if entry.tier == "high" and not sandbox:
        missing = fria_missing(entry.fria)
        if missing:
            raise LawfulError(f"{entry.ref} is high tier and its fundamental-rights impact assessment is incomplete: "
                              f"missing {', '.join(missing)}",
                              "the owner attaches a complete assessment (`lawful models attach --fria FILE`)")
        problems = threshold_breaches(entry, thresholds)
        if problems:
            raise LawfulError(f"{entry.ref} cannot be approved: {'; '.join(problems)}", "refuse it with a reason")
    mode = "sandbox" if sandbox else "approved"
    if any(a.approver == actor.name and a.mode == mode for a in get_approvals(session, entry=entry)):
        raise LawfulError(f"{actor.name} has already approved {entry.ref} ({mode})",
                          "a second approval must come from a different approver")
    now = _now()
    until = expires or (now + timedelta(days=thresholds.approval_days)).date()
    expires_at = datetime.combine(until, time(23, 59, 59), timezone.utc)
    if expires_at <= now:
        raise LawfulError(f"the expiry {until} has passed", "give a future date with --expires")
    approval = Approval(entry_id=entry.id, approver=actor.name, mode=mode, reason=reason, purposes=purposes,
                        areas=areas, expires_at=expires_at, created_at=now, round=entry.round)
    session.add(approval)
    session.flush()
    audit.append(session, actor=actor.name, action="model.approve", obj=f"model:{entry.ref}", purpose="governance",
                 details={"mode": mode, "reason": reason, "purposes": purposes, "areas": areas,
                          "expires": until.isoformat(), "round": entry.round})
    if sandbox:
        if entry.state != "sandbox":
            _move(session, entry, "sandbox", actor=actor.name, reason=reason, action="model.approve")
    else:
        approvers = {a.approver for a in get_approvals(session, entry=entry) if a.mode == "approved"}
        if len(approvers) >= required_approvals(entry):
            _move(session, entry, "approved", actor=actor.name, reason=f"approved by {', '.join(sorted(approvers))}",
                  action="model.approve")
    return approval


def refuse(session: Session, *, actor: Actor, entry: Entry, reason: str) -> None:
    """An approver sends a submission back to its owner as a draft, with the reason."""
    _may(actor, "approve", entry.name)
    if not reason.strip():
        raise LawfulError("a refusal needs a reason", "give --reason")
    _move(session, entry, "draft", actor=actor.name, reason=f"refused: {reason}", action="model.refuse")
    # A refusal ends the approval round: what comes back may carry other attachments, so approvals given before
    # it count no more (else one new approver could carry a resubmission the others never saw).
    entry.round += 1


def activate(session: Session, *, actor: Actor, entry: Entry) -> None:
    _may(actor, "activate", entry.name)
    if actor.name != entry.owner and not actor.has({"approver", "admin"}):
        raise LawfulError(f"{actor.name} may not activate {entry.ref}", "the owner or an approver activates it")
    _move(session, entry, "active", actor=actor.name, reason="put into use", action="model.activate")


def suspend(session: Session, *, actor: Actor | None, entry: Entry, reason: str) -> None:
    """The circuit breaker. actor None: tripped by a monitored figure."""
    if actor is not None:
        _may(actor, "suspend", entry.name)
    if not reason.strip():
        raise LawfulError("a suspension needs a reason", "give --reason")
    _move(session, entry, "suspended", actor=actor.name if actor else BREAKER, reason=reason,
          automatic=actor is None, action="model.suspend")


def reinstate(session: Session, *, actor: Actor, entry: Entry, reason: str) -> None:
    """Back to submitted, in a new approval round: it is used again only once approved again."""
    _may(actor, "reinstate", entry.name)
    if not reason.strip():
        raise LawfulError("reinstating needs a reason", "give --reason")
    entry.round += 1
    entry.submitted_by = actor.name
    _move(session, entry, "submitted", actor=actor.name, reason=f"reinstatement asked: {reason}",
          action="model.reinstate")


def retire(session: Session, *, actor: Actor, entry: Entry, reason: str) -> None:
    _may(actor, "retire", entry.name)
    _move(session, entry, "retired", actor=actor.name, reason=reason or "retired", action="model.retire")


def get_state_changes(session: Session, *, entry: Entry | None = None, since: datetime | None = None) -> list[StateChange]:
    q = select(StateChange).order_by(StateChange.id)
    if entry is not None:
        q = q.where(StateChange.entry_id == entry.id)
    if since is not None:
        q = q.where(StateChange.at >= since)
    return list(session.scalars(q))
