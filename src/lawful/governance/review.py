"""Human review: every output is a recommendation until a named, authorised person accepts, rejects or amends it
with a reason; and the watch for automation bias (accepting nearly everything, in seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from lawful.access.service import Actor
from lawful.errors import Conflict, InputError, LawfulError, NotFound
from lawful.trail import audit
from lawful.governance.models import Entry, Output, OutputRead, Review
from lawful.access.decide import AccessDenied, Resource, load_policy, require
from lawful.access.decide import decide as access_decide
from lawful.governance.policy import Thresholds
from lawful.orm import as_it_stands

# What a person may decide, by kind of output. Alerts get the officers' verdicts the rules learn from.
DECISIONS = {"forecast": ("accepted", "rejected", "amended"), "alert": ("confirmed", "false-alarm", "unclear")}
AGREED = frozenset({"accepted", "confirmed"})
MISJUDGED = frozenset({"rejected", "false-alarm"})  # the output was wrong: what misjudgment rates count
UNDECIDED = frozenset({"unclear"})  # counted, but neither right nor wrong


def _sees_sandbox(actor: Actor) -> bool:
    return access_decide(actor, "outputs.read-sandbox", Resource("output"), "governance", load_policy()).allowed


READS = frozenset({"outputs.read", "outputs.read-sandbox"})
PLAN = "plan"  # patrol plans (patrol.service)
CASEFILE = "casefile"  # suggestions about one case: they quote its statements, so they are as closed as the case


def _case_resource(session: Session, out: Output) -> Resource:
    """The case a case-file suggestion belongs to, with the case's classification (secret if it is gone)."""
    from lawful.casefiles.models import Case

    ref = str((out.payload or {}).get("case", ""))
    level = session.scalar(select(Case.classification).where(Case.ref == ref))
    return Resource("casefile", ref, level or "secret")


def _require_case(session: Session, actor: Actor, out: Output) -> None:
    """Reading or deciding a case-file suggestion needs what reading its case needs (casefiles.read, at the
    case's classification): the model's own check is at the default classification and would let an officer
    cleared below the case read quotes from it, or put a suggestion into it."""
    if out.kind == CASEFILE:
        require(actor, "casefiles.read", _case_resource(session, out), out.purpose)


def get_open(session: Session, *, actor: Actor) -> list[tuple[Output, Entry]]:
    """Outputs waiting for a decision that this person may read: operational ones where the policy grants them
    outputs.read for the output's purpose; sandbox ones only for the model's owner and reviewers of models. A
    person none of whose roles reads outputs at all is refused (and the refusal is on the trail)."""
    policy = load_policy()
    if not any(policy.granted(r) & READS for r in actor.roles):
        require(actor, "outputs.read", Resource("output", "open"), "governance", policy)
    # payloads and explanations stay in the database until someone reads them (hundreds of kB of JSON each)
    rows = session.execute(select(Output, Entry).join(Entry, Output.entry_id == Entry.id)
                           .options(defer(Output.payload), defer(Output.explanation))
                           .where(Output.status == "open").order_by(Output.id)).all()
    sees_sandbox = _sees_sandbox(actor)

    def readable(o: Output, e: Entry) -> bool:
        if o.sandbox:
            return sees_sandbox or e.owner == actor.name
        if not access_decide(actor, "outputs.read", Resource("model", e.name, o.classification), o.purpose,
                             policy).allowed:
            return False
        return o.kind != CASEFILE or access_decide(actor, "casefiles.read", _case_resource(session, o), o.purpose,
                                                   policy).allowed

    return [(o, e) for o, e in rows if readable(o, e)]


def read_output(session: Session, *, actor: Actor, output_id: int) -> tuple[Output, Entry]:
    """One output for reading: operational ones need outputs.read for the output's purpose, sandbox ones the
    owner or a reviewer of models. The caller writes the consultation."""
    out = get_output(session, actor=actor, output_id=output_id)
    entry = session.get(Entry, out.entry_id)
    if not out.sandbox:  # at the classification of what it was made from: a reader cleared below it is refused
        require(actor, "outputs.read", Resource("model", entry.name, out.classification), out.purpose)
    _require_case(session, actor, out)
    note_read(session, out, actor)
    return out, entry


def note_read(session: Session, out: Output, actor: Actor) -> None:
    """Remember when this person first read this output (later readings change nothing): a decision's time is
    counted from it. Insert-or-ignore, so two of the person's requests at once cannot collide."""
    if out.status != "open":
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(OutputRead).values(output_id=out.id, reader=actor.name, first_at=datetime.now(timezone.utc))
                    .on_conflict_do_nothing(index_elements=["output_id", "reader"]))


def seconds_reviewing(session: Session, out: Output, reviewer: str, now: datetime) -> tuple[float, bool]:
    """(seconds from the reviewer's first reading of the output to now, whether they read it): 0 when they never
    opened it (decided unread)."""
    first = session.get(OutputRead, (out.id, reviewer))
    if first is None:
        return 0.0, False
    # time spent on another decision is not this one's: one look at a queue of 25 must not lend each the whole wait
    last = session.scalar(select(func.max(Review.decided_at)).where(Review.reviewer == reviewer))
    start = max(first.first_at, last) if last is not None else first.first_at
    return max((now - start).total_seconds(), 0.0), True


def get_output(session: Session, *, actor: Actor, output_id: int) -> Output:
    out = session.get(Output, output_id)
    if out is None:
        raise NotFound(f"there is no output {output_id}", "see `lawful review list`")
    entry = session.get(Entry, out.entry_id)
    if out.sandbox and not (_sees_sandbox(actor) or entry.owner == actor.name):  # a denial, on the trail
        raise AccessDenied(actor.name, "outputs.read-sandbox", Resource("output", str(output_id)), "governance",
                           f"output {output_id} is a sandbox output, visible only to its model's owner and reviewers")
    return out


AMENDMENT_BYTES = 64 * 1024  # an amendment is a corrected suggestion or a note, not a document
AMENDMENT_DEPTH = 8


def _check_amendment(amendment) -> None:
    """Stored, signed into the trail and read back by everyone who opens the case: JSON that is finite (NaN is not
    JSON, and came back as null), shallow (a 400-deep one made the case unreadable) and small."""
    import json

    from lawful.limits import check_tree

    check_tree(amendment, "the amendment", dates=False, max_depth=AMENDMENT_DEPTH)
    size = len(json.dumps(amendment, ensure_ascii=False).encode())
    if size > AMENDMENT_BYTES:
        raise InputError(f"the amendment is {size:,} bytes; at most {AMENDMENT_BYTES:,}",
                         "give only the corrected content")


def decide(session: Session, *, actor: Actor, output_id: int, decision: str, reason: str,
           amendment: dict | None = None) -> Review:
    """Record a named person's decision on an output."""
    as_it_stands(session, Output, output_id)  # of two reviewers deciding at once, the second sees it decided (409)
    out = get_output(session, actor=actor, output_id=output_id)
    model = Resource("model", session.get(Entry, out.entry_id).name, out.classification)
    require(actor, "outputs.decide", model, out.purpose)
    _require_case(session, actor, out)
    if out.kind == PLAN:  # officers go where a plan sends them: a supervisor decides it (policy: outputs.decide-plan)
        require(actor, "outputs.decide-plan", model, out.purpose)
    allowed = DECISIONS.get(out.kind, DECISIONS["forecast"])
    if decision not in allowed:
        raise LawfulError(f"{decision!r} is not a decision on {out.kind} output {output_id}",
                          f"use one of {', '.join(allowed)}")
    if out.sandbox:
        raise LawfulError(f"output {output_id} is a sandbox output and cannot be acted on", "sandbox is shadow mode")
    if out.status != "open":
        raise Conflict(f"output {output_id} was already {out.status}", "a decision stands; issue a new output")
    if out.issued_by == actor.name:
        raise LawfulError(f"{actor.name} issued output {output_id} and cannot also decide on it",
                          "the decision must be someone else's (an independent review)")
    if not reason.strip():
        raise LawfulError("a decision needs a reason", "give --reason")
    if decision == "amended" and not amendment:
        raise LawfulError("an amendment needs the amended content", "give --amend with what you changed")
    if amendment is not None:
        _check_amendment(amendment)
    now = datetime.now(timezone.utc)
    seconds, read = seconds_reviewing(session, out, actor.name, now)
    review = Review(output_id=out.id, reviewer=actor.name, decision=decision, reason=reason, amendment=amendment,
                    decided_at=now, seconds=seconds)
    out.status = decision
    session.add(review)
    session.flush()
    audit.append(session, actor=actor.name, action="review.decide", obj=f"output:{out.id}", purpose=out.purpose,
                 details={"decision": decision, "reason": reason, "amendment": amendment,
                          "seconds": round(review.seconds, 1), "read_first": read})
    return review


@dataclass(frozen=True)
class ReviewStats:
    who: str  # reviewer name or model ref
    decisions: int
    accepted: int  # accepted forecasts and confirmed alerts
    rejected: int  # rejected forecasts and false alarms
    amended: int  # amended forecasts and unclear alerts
    median_seconds: float
    warning: str | None

    @property
    def acceptance(self) -> float:
        return self.accepted / self.decisions if self.decisions else 0.0


def stats(session: Session, *, by: str = "reviewer", since: datetime | None = None,
          thresholds: Thresholds | None = None, reviewer: str | None = None) -> list[ReviewStats]:
    """Acceptance rate and time to decision per reviewer (by='reviewer') or per model (by='model'); `reviewer`:
    only that person's decisions."""
    t = thresholds or Thresholds()
    q = select(Review, Entry).join(Output, Review.output_id == Output.id).join(Entry, Output.entry_id == Entry.id)
    if reviewer is not None:
        q = q.where(Review.reviewer == reviewer)
    if since is not None:
        q = q.where(Review.decided_at >= since)
    groups: dict[str, list[Review]] = {}
    for review, entry in session.execute(q):
        groups.setdefault(review.reviewer if by == "reviewer" else entry.ref, []).append(review)
    out = []
    for who, rs in sorted(groups.items()):
        n = len(rs)
        acc = sum(r.decision in AGREED for r in rs)
        med = median(r.seconds for r in rs)
        warning = None
        if n >= t.bias_min_decisions and acc / n >= t.bias_acceptance and med < t.bias_seconds:
            warning = (f"accepts {acc / n:.0%} of {n} outputs with a median of {med:.0f} s per decision: check that "
                       f"these are real reviews (automation bias)")
        rej = sum(r.decision in MISJUDGED for r in rs)
        out.append(ReviewStats(who, n, acc, rej, n - acc - rej, med, warning))
    return out
