"""The governance operations people reach through the server: the registry's steps, reading cards, the monitor,
reading and listing outputs for review, review figures, serious incidents and the weekly report.

Each is one transaction, `(session, *, actor, ...)`, keyword-only; the caller (the server's `Call.run`) owns the
transaction. Inputs arrive as the text of the file a client read (a card or an impact assessment as TOML, an
evaluation or exposure audit as JSON) and are checked here with the same functions a file would be; `source` is
only the file's name for messages: the server never opens a path a client names. Results are JSON-ready dicts.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lawful.access.decide import AccessDenied, Resource, decide, load_policy, require
from lawful.access.service import Actor
from lawful.errors import InputError
from lawful.governance import card as cards
from lawful.governance import registry, review, serious
from lawful.governance.models import Entry
from lawful.governance.policy import Thresholds
from lawful.limits import parse_json, parse_toml
from lawful.trail import audit

# The oversight reads (monitor figures, review figures, the weekly report): the review board, the data-protection
# officer and auditors, i.e. whoever the policy lets approve, suspend or read the trail, for governance.
OVERSIGHT = ("models.approve", "models.suspend", "audit.read")
GOVERNANCE = "governance"


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def require_oversight(actor: Actor, what: str) -> None:
    """Allowed when any OVERSIGHT action is granted to the actor for 'governance'; otherwise the first refusal."""
    policy = load_policy()
    resource = Resource("governance", what, "internal")
    decisions = [decide(actor, a, resource, GOVERNANCE, policy) for a in OVERSIGHT]
    if not any(d.allowed for d in decisions):
        raise AccessDenied(actor.name, OVERSIGHT[0], resource, GOVERNANCE,
                           f"{what} is for the review board, data-protection officers and auditors; "
                           f"{decisions[0].reason}")


# ---- the registry -------------------------------------------------------------------------------------------------
def entry_view(e: Entry) -> dict:
    return {"ref": e.ref, "name": e.name, "version": e.version, "kind": e.kind, "tier": e.tier, "owner": e.owner,
            "state": e.state, "state_reason": e.state_reason, "round": e.round, "submitted_by": e.submitted_by,
            "required_approvals": registry.required_approvals(e), "created_at": _iso(e.created_at),
            "updated_at": _iso(e.updated_at)}


def list_entries(session: Session, *, actor: Actor) -> list[dict]:
    """Every registered version with its state. The registry is public (the transparency register publishes it),
    so any signed-in person may read it; the request itself is on the trail."""
    return [entry_view(e) for e in registry.get_all(session)]


def parse_card(text: str, *, source: str) -> dict:
    """A card's TOML text, checked as `card.load_card` checks a file (every problem names the field and the fix)."""
    raw = parse_toml(text, source, dates=False)
    return cards.check_card(raw, source)


def register(session: Session, *, actor: Actor, text: str, source: str) -> dict:
    """A new draft from a card's TOML text. Person scoring and biometric identification are refused."""
    data = parse_card(text, source=source)
    return entry_view(registry.register(session, actor=actor, card=data))


def _evaluation(text: str, source: str):
    value = parse_json(text, source, allow_nan=True)  # a NaN figure is named by check_evaluation, not here
    if isinstance(value, dict):
        return {"source": source, **value}
    return {"source": source, "records": value}


def _exposure(text: str, source: str):
    value = parse_json(text, source, allow_nan=True)
    return {"source": source, **value} if isinstance(value, dict) else value  # anything else: attach says what


def attach(session: Session, *, actor: Actor, ref: str, evaluation: tuple[str, str] | None = None,
           exposure: tuple[str, str] | None = None, fria: tuple[str, str] | None = None) -> dict:
    """Attach documents to a draft: each is (source name, text): evaluation and exposure as JSON (what `lawful
    forecast backtest|audit --json` write), the impact assessment as TOML."""
    if not (evaluation or exposure or fria):
        raise InputError("nothing to attach", "give an evaluation, an exposure audit and/or an impact assessment")
    ev = _evaluation(evaluation[1], evaluation[0]) if evaluation else None
    ex = _exposure(exposure[1], exposure[0]) if exposure else None
    fr = cards.check_fria(parse_toml(fria[1], fria[0]), fria[0]) if fria else None
    entry = registry.get(session, ref=ref)
    registry.attach(session, actor=actor, entry=entry, evaluation=ev, exposure=ex, fria=fr)
    attached = [n for n, v in (("evaluation", ev), ("exposure audit", ex), ("impact assessment", fr)) if v]
    return {**entry_view(entry), "attached": attached}


def submit(session: Session, *, actor: Actor, ref: str, thresholds: Thresholds) -> dict:
    entry = registry.get(session, ref=ref)
    registry.submit(session, actor=actor, entry=entry, thresholds=thresholds)
    return entry_view(entry)


def approve(session: Session, *, actor: Actor, ref: str, reason: str, purposes: list[str], areas: list[str],
            expires: date | None, sandbox: bool, thresholds: Thresholds) -> dict:
    entry = registry.get(session, ref=ref)
    registry.approve(session, actor=actor, entry=entry, reason=reason, purposes=purposes, areas=areas,
                     expires=expires, thresholds=thresholds, sandbox=sandbox)
    return entry_view(entry)


def refuse(session: Session, *, actor: Actor, ref: str, reason: str) -> dict:
    entry = registry.get(session, ref=ref)
    registry.refuse(session, actor=actor, entry=entry, reason=reason)
    return entry_view(entry)


STEPS = ("activate", "suspend", "reinstate", "retire")


def move(session: Session, *, actor: Actor, ref: str, step: str, reason: str = "") -> dict:
    """activate, suspend (the manual circuit breaker), reinstate or retire."""
    if step not in STEPS:
        raise InputError(f"{step!r} is not a registry step", f"use one of {', '.join(STEPS)}")
    entry = registry.get(session, ref=ref)
    if step == "activate":
        registry.activate(session, actor=actor, entry=entry)
    else:
        getattr(registry, step)(session, actor=actor, entry=entry, reason=reason)
    return entry_view(entry)


def entry_detail(session: Session, *, actor: Actor, ref: str) -> dict:
    """One version as its approvers see it: its state, the card's purposes, the approvals of the current round
    (who, when, why, for what, until when) and of earlier rounds, the impact assessment section by section (and
    what is missing), and the lifecycle history. Public like the registry and the card (the transparency register
    shows them), so any signed-in person may read it; the request is on the trail."""
    entry = registry.get(session, ref=ref)
    approvals = [{"approver": a.approver, "mode": a.mode, "reason": a.reason, "purposes": list(a.purposes),
                  "areas": list(a.areas), "expires_at": _iso(a.expires_at), "created_at": _iso(a.created_at),
                  "round": a.round, "current": a.round == entry.round}
                 for a in registry.get_approvals(session, entry=entry, current_round=False)]
    missing = cards.fria_missing(entry.fria)
    history = [{"from": c.from_state, "to": c.to_state, "actor": c.actor, "reason": c.reason,
                "automatic": c.automatic, "at": _iso(c.at)}
               for c in registry.get_state_changes(session, entry=entry)]
    return {**entry_view(entry), "purposes": list(entry.card.get("purposes") or []), "approvals": approvals,
            "approved_by": sorted({a["approver"] for a in approvals if a["current"] and a["mode"] == "approved"}),
            "fria": [{"field": k, "label": label, "text": str((entry.fria or {}).get(k, "")).strip()}
                     for k, label in cards.FRIA_FIELDS.items()],
            "fria_missing": [cards.FRIA_FIELDS[k] for k in missing], "history": history,
            "attached": {"evaluation": entry.evaluation is not None, "exposure": entry.exposure is not None,
                         "fria": bool(entry.fria)}}


def card_text(session: Session, *, actor: Actor, ref: str, html: bool = False) -> dict:
    """The model card as Markdown or an HTML page. Cards are public (the transparency register shows them)."""
    entry = registry.get(session, ref=ref)
    return {"ref": entry.ref, "format": "html" if html else "markdown",
            "text": cards.html_page(entry) if html else cards.markdown(entry)}


def figures_view(f) -> dict:
    return {"entry": f.entry, "decided": f.decided, "misjudgment": f.misjudgment, "realised_pai": f.realised_pai,
            "misplaced": f.misplaced, "breaches": f.breaches}


def monitor(session: Session, *, actor: Actor, thresholds: Thresholds) -> list[dict]:
    """Every entry's monitored figures; the breaker suspends any in use whose figure crosses its threshold (the
    breaker, not the person who asked, is named on the trail for a suspension)."""
    from lawful.governance.monitor import enforce

    require_oversight(actor, "monitoring")
    figs = enforce(session, entries=[e for e in registry.get_all(session) if e.state != "retired"],
                   thresholds=thresholds)
    audit.append(session, actor=actor.name, action="consultation", obj="governance:monitor", purpose=GOVERNANCE,
                 details={"entries": len(figs), "suspended": [f.entry for f in figs if f.breaches]})
    return [figures_view(f) for f in figs]


# ---- review -------------------------------------------------------------------------------------------------------
def output_view(o, e: Entry, *, full: bool = False) -> dict:
    view = {"output": o.id, "model": e.ref, "kind": o.kind, "subject": o.subject, "purpose": o.purpose,
            "area": o.area, "issued_by": o.issued_by, "issued_at": _iso(o.issued_at), "sandbox": o.sandbox,
            "status": o.status, "classification": o.classification}
    if full:
        view.update(explanation=o.explanation, payload=o.payload)
    return view


def open_outputs(session: Session, *, actor: Actor) -> list[dict]:
    """Outputs waiting for a decision that this person may read (see review.get_open)."""
    return [output_view(o, e) for o, e in review.get_open(session, actor=actor)]


def show_output(session: Session, *, actor: Actor, output_id: int) -> dict:
    """One output with its explanation and payload; reading it is a consultation on the trail, in the reader's
    name, for the output's purpose."""
    o, e = review.read_output(session, actor=actor, output_id=output_id)
    audit.append(session, actor=actor.name, action="consultation", obj=f"output:{o.id}", purpose=o.purpose,
                 details={"model": e.ref})
    return output_view(o, e, full=True)


def queue_outputs(session: Session, *, actor: Actor, limit: int, places: int,
                  whole: tuple[str, ...] = ("alert",)) -> tuple[int, list[dict]]:
    """What a review queue shows: (how many open outputs this person may read, the oldest `limit` of them, each with
    only its first `places` explanation entries and `explanation_count`, without its payload; outputs of the kinds
    in `whole`, whose explanations are short, with all of it). The database hands over just those entries, so a
    queue of forecasts of 400 places each does not decode megabytes of JSON. Each output shown is a consultation on
    the trail, as with show_output."""
    from sqlalchemy import func, select

    from lawful.governance.models import Output

    waiting = review.get_open(session, actor=actor)
    length = func.jsonb_array_length if session.get_bind().dialect.name == "postgresql" else func.json_array_length
    shown = []
    for o, e in waiting[:limit]:
        if o.kind in whole:
            head = list(o.explanation or [])
            count = len(head)
        else:
            row = session.execute(select(length(Output.explanation), *(Output.explanation[i] for i in range(places)))
                                  .where(Output.id == o.id)).one()
            head, count = [item for item in row[1:] if item is not None], int(row[0] or 0)
        review.note_read(session, o, actor)
        audit.append(session, actor=actor.name, action="consultation", obj=f"output:{o.id}", purpose=o.purpose,
                     details={"model": e.ref})
        shown.append({**output_view(o, e), "explanation": head, "explanation_count": count})
    return len(waiting), shown


def review_stats(session: Session, *, actor: Actor, by: str, thresholds: Thresholds) -> list[dict]:
    """Acceptance rate and time to decision per reviewer or per model, with automation-bias warnings. Figures
    about named reviewers: for oversight only, and a consultation on the trail."""
    if by not in ("reviewer", "model"):
        raise InputError(f"by {by!r}", "use by=reviewer or by=model")
    require_oversight(actor, "review figures")
    rows = review.stats(session, by=by, thresholds=thresholds)
    audit.append(session, actor=actor.name, action="consultation", obj=f"review:stats:{by}", purpose=GOVERNANCE,
                 details={"rows": len(rows)})
    return [{"who": s.who, "decisions": s.decisions, "accepted": s.accepted, "rejected": s.rejected,
             "amended": s.amended, "acceptance": s.acceptance, "median_seconds": s.median_seconds,
             "warning": s.warning} for s in rows]


def own_review_figures(session: Session, *, actor: Actor, thresholds: Thresholds) -> dict | None:
    """The signed-in reviewer's own acceptance rate, time to decision and automation-bias warning (None before
    their first decision): their own data, so no oversight role is needed; the reading is a consultation."""
    [mine] = review.stats(session, by="reviewer", thresholds=thresholds, reviewer=actor.name) or [None]
    audit.append(session, actor=actor.name, action="consultation", obj=f"review:stats:self:{actor.name}",
                 purpose=GOVERNANCE, details={"warning": bool(mine and mine.warning)})
    if mine is None:
        return None
    return {"who": mine.who, "decisions": mine.decisions, "accepted": mine.accepted, "acceptance": mine.acceptance,
            "median_seconds": mine.median_seconds, "warning": mine.warning}


# ---- serious incidents ----------------------------------------------------------------------------------------------
def incident_view(i, ref: str, now: datetime) -> dict:
    status = (f"reported to {i.reported_to}" if i.reported_at else "overdue" if i.deadline < now else "to report")
    return {"id": i.id, "model": ref, "kind": i.kind, "description": i.description, "widespread": i.widespread,
            "death": i.death, "aware_at": _iso(i.aware_at), "deadline": _iso(i.deadline),
            "recorded_by": i.recorded_by, "recorded_at": _iso(i.recorded_at), "reported_at": _iso(i.reported_at),
            "reported_to": i.reported_to, "status": status}


def record_incident(session: Session, *, actor: Actor, ref: str, kind: str, description: str,
                    aware_at: datetime | None, widespread: bool = False, death: bool = False,
                    keep_running: str | None = None) -> dict:
    """Register a serious incident (the deadline runs from awareness; default now); the model is suspended unless
    keep_running says why not."""
    entry = registry.get(session, ref=ref)
    now = datetime.now(timezone.utc)
    inc = serious.record(session, actor=actor, entry=entry, kind=kind, description=description,
                         aware_at=aware_at or now, widespread=widespread, death=death, keep_running=keep_running)
    return {**incident_view(inc, entry.ref, now), "model_state": entry.state}


def list_incidents(session: Session, *, actor: Actor) -> list[dict]:
    """Every serious incident, overdue ones first, for whoever may record them; a consultation on the trail."""
    require(actor, "serious-incidents.record", Resource("serious-incident", "register", "internal"), GOVERNANCE)
    now = datetime.now(timezone.utc)
    refs = {e.id: e.ref for e in registry.get_all(session)}
    rows = sorted(serious.get_all(session), key=lambda i: (i.reported_at is not None, i.deadline))
    audit.append(session, actor=actor.name, action="consultation", obj="serious-incidents:list", purpose=GOVERNANCE,
                 details={"incidents": len(rows)})
    return [incident_view(i, refs[i.entry_id], now) for i in rows]


def mark_reported(session: Session, *, actor: Actor, incident_id: int, to: str) -> dict:
    inc = serious.mark_reported(session, actor=actor, incident_id=incident_id, to=to)
    entry = session.get(Entry, inc.entry_id)
    return incident_view(inc, entry.ref, datetime.now(timezone.utc))


# ---- the circuit breaker's events -----------------------------------------------------------------------------------
def breaker_events(session: Session, *, actor: Actor, limit: int = 50) -> list[dict]:
    """Every suspension (the breaker's, automatic, or a person's stop button) and every reinstatement asked after
    one, newest first, from the registry's lifecycle history; for oversight, and a consultation on the trail."""
    require_oversight(actor, "breaker events")
    refs = {e.id: e.ref for e in registry.get_all(session)}
    moves = [c for c in registry.get_state_changes(session)
             if c.to_state == "suspended" or (c.from_state == "suspended" and c.to_state == "submitted")]
    moves = sorted(moves, key=lambda c: c.id, reverse=True)[:limit]
    audit.append(session, actor=actor.name, action="consultation", obj="governance:breaker", purpose=GOVERNANCE,
                 details={"events": len(moves)})
    return [{"model": refs[c.entry_id], "event": "suspended" if c.to_state == "suspended" else "reinstatement asked",
             "actor": c.actor, "automatic": c.automatic, "reason": c.reason, "at": _iso(c.at)} for c in moves]


# ---- reports ------------------------------------------------------------------------------------------------------
def weekly_report(session: Session, *, actor: Actor, tz: ZoneInfo, thresholds: Thresholds,
                  week_ending: date | None = None) -> dict:
    """The weekly monitoring report (Markdown) for the seven local days ending on week_ending (default: today in
    the jurisdiction's zone); for oversight, and a consultation on the trail."""
    from lawful.governance.report import weekly

    require_oversight(actor, "the weekly report")
    day = week_ending or datetime.now(tz).date()
    text = weekly(session, week_ending=day, tz=tz, thresholds=thresholds)
    audit.append(session, actor=actor.name, action="consultation", obj=f"report:weekly:{day.isoformat()}",
                 purpose=GOVERNANCE, details={})
    return {"week_ending": day.isoformat(), "time_zone": tz.key, "markdown": text}
