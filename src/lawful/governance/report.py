"""The weekly monitoring report: per model, what it issued, what people decided, how it did, what tripped, and
what needs someone's attention, in sentences a review board reads without an engineer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.governance import registry, review, serious
from lawful.governance.models import Entry, Output, Review
from lawful.governance.monitor import figures
from lawful.governance.policy import Thresholds
from lawful.governance.review import AGREED, MISJUDGED, UNDECIDED


def _pct(a: int, b: int) -> str:
    return f"{a / b:.0%}" if b else "n/a"


def weekly(session: Session, *, week_ending: date, tz: ZoneInfo, thresholds: Thresholds) -> str:
    """Markdown for the seven local days ending on week_ending (inclusive)."""
    end = datetime.combine(week_ending + timedelta(days=1), time(0), tz).astimezone(timezone.utc)
    start, prev_start = end - timedelta(days=7), end - timedelta(days=14)
    now = datetime.now(timezone.utc)
    lines = [f"# Weekly monitoring report, week to {week_ending:%A %d %B %Y}", "",
             f"Covers {start.astimezone(tz):%Y-%m-%d} to {week_ending:%Y-%m-%d} ({tz.key} time). Each event counted "
             "here is also on the decision trail, which `lawful audit verify` checks.", ""]
    attention: list[str] = []
    entries = [e for e in registry.get_all(session) if e.state != "draft" or e.submitted_by]
    if not entries:
        lines.append("No model or rule set has been submitted yet.")
    for e in entries:
        lines += _entry_section(session, e, start, prev_start, end, now, thresholds, attention)
    from lawful.patrol.fairness import weekly_section

    lines += weekly_section(session, start=start, end=end, attention=attention)  # patrol minutes against crime
    bias = [s for s in review.stats(session, since=start, thresholds=thresholds) if s.warning]
    for s in bias:
        attention.append(f"Reviewer {s.who} {s.warning}.")
    lines += ["## What needs attention", ""]
    lines += [f"- {a}" for a in attention] or ["- Nothing this week."]
    return "\n".join(lines) + "\n"


def _entry_section(session, e: Entry, start, prev_start, end, now, t: Thresholds, attention: list[str]) -> list[str]:
    outs = list(session.scalars(select(Output).where(Output.entry_id == e.id, Output.issued_at >= prev_start,
                                                     Output.issued_at < end)))
    this = [o for o in outs if o.issued_at >= start]
    reviews = list(session.scalars(select(Review).join(Output, Review.output_id == Output.id)
                                   .where(Output.entry_id == e.id, Review.decided_at >= prev_start,
                                          Review.decided_at < end)))
    rw, rp = [r for r in reviews if r.decided_at >= start], [r for r in reviews if r.decided_at < start]
    rw = [r for r in rw if r.decision not in UNDECIDED]  # 'unclear' verdicts are neither right nor wrong
    rp = [r for r in rp if r.decision not in UNDECIDED]
    acc = sum(r.decision in AGREED for r in rw)
    rej_w, rej_p = sum(r.decision in MISJUDGED for r in rw), sum(r.decision in MISJUDGED for r in rp)
    lines = [f"## {e.name} (version {e.version}, {e.tier} risk, {e.state})", ""]
    sandbox = sum(o.sandbox for o in this)
    lines.append(f"- Issued {len(this) - sandbox} operational output(s) this week"
                 + (f" and {sandbox} in sandbox (shadow mode, not shown to operations)" if sandbox else "") + ".")
    if rw:
        lines.append(f"- People decided on {len(rw)}: accepted or confirmed {acc}, rejected or false alarm {rej_w}, "
                     f"amended {len(rw) - acc - rej_w}; acceptance rate {_pct(acc, len(rw))}.")
        mis_w = rej_w / len(rw)
        if rp:
            mis_p = rej_p / len(rp)
            moved = (mis_w - mis_p) * 100
            verb = "rose" if moved > 0 else "fell" if moved < 0 else "stayed"
            lines.append(f"- Misjudgment rate (outputs judged wrong) {verb} from {mis_p:.0%} to {mis_w:.0%}"
                         + (f" ({moved:+.0f} points)" if moved else "") + " against the week before.")
            if moved >= 10:
                attention.append(f"{e.name}: the misjudgment rate rose by {moved:.0f} points to {mis_w:.0%}; look at "
                                 "the rejected outputs' reasons and consider a new version.")
        else:
            lines.append(f"- Misjudgment rate {mis_w:.0%} (no decisions the week before to compare).")
    else:
        lines.append("- Nobody decided on any of its outputs this week.")
    open_old = [o for o in this if o.status == "open" and not o.sandbox and now - o.issued_at > timedelta(days=2)]
    if open_old:
        attention.append(f"{e.name}: {len(open_old)} output(s) have waited more than two days for a decision.")
    f = figures(session, entry=e, thresholds=t, now=end)
    if f.realised_pai is not None:
        lines.append(f"- Realised accuracy over 28 days: {f.realised_hits} of {f.realised_incidents} incidents fell in "
                     f"flagged places, {f.realised_pai:.1f} times what chance would give.")
    for b in f.breaches:
        attention.append(f"{e.name}: {b}.")
    for c in registry.get_state_changes(session, entry=e, since=start):
        if c.at < end and c.to_state in ("suspended", "submitted", "active", "retired") and c.from_state != "draft":
            who = "automatically by the circuit breaker" if c.automatic else f"by {c.actor}"
            lines.append(f"- {c.at:%Y-%m-%d}: {c.from_state} -> {c.to_state} {who}: {c.reason}.")
    for inc in serious.get_all(session, entry=e):
        if inc.reported_at is None:
            overdue = inc.deadline < now
            attention.append(f"{e.name}: serious incident {inc.id} ({inc.kind}) must be reported by "
                             f"{inc.deadline:%Y-%m-%d %H:%M} UTC" + (" and is OVERDUE." if overdue else "."))
    expiring = [a for a in registry.get_approvals(session, entry=e) if now < a.expires_at < now + timedelta(days=30)]
    for a in expiring:
        attention.append(f"{e.name}: the approval by {a.approver} expires on {a.expires_at:%Y-%m-%d}.")
    if date.fromisoformat(e.card["next_review"]) <= (now + timedelta(days=30)).date() and e.state != "retired":
        attention.append(f"{e.name}: its review is due on {e.card['next_review']}.")
    if e.state == "suspended":
        attention.append(f"{e.name} is suspended ({e.state_reason}); it issues nothing until approved again.")
    from lawful.transparency.complaints import week_summary  # complaints and appeals (docs/transparency.md)
    said = week_summary(session, system=e.name, start=start, end=end)
    lines += [f"- {said}"] if said else []
    if said and "OVERDUE" in said:
        attention.append(f"{e.name}: complaints or appeals are past their statutory deadline (`lawful complaints list`).")
    lines.append("")
    return lines
