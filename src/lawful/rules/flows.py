"""The rules as people reach them through the server: each operation is a few short transactions.

    parse (pure: the rule file, its zone file and an event file arrive as text; the server opens no path a client
           names)
    -> check (writing: the approved file by SHA-256 and the gate, or the reading of stored incidents, on the trail
              in the authenticated actor's name)
    -> compute (read-only: stored incidents as events, then the batch or stream engine)
    [-> issue (writing: every alert through the gate in one transaction)]

so the seconds an evaluation takes never hold the SQLite write lock, and a refusal or a bad file changes nothing.
The server runs `start_run` while the request waits (a refusal or a bad request is answered at once) and `run` as a
job; `run_once` does both for callers in process (`lawful demo`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from lawful.db import Store
from lawful.errors import InputError, LawfulError
from lawful.rules import service

Progress = Callable[[str, int, int], None] | None


@dataclass(frozen=True)
class Bundle:
    """A rule file as a client sends it: its name (for messages only), its text exactly as the file holds it (so
    its SHA-256 is the file's), and the text of every zone file it names, keyed by the name as the rule file
    writes it (`zones = "zones/x.geojson"` -> {"zones/x.geojson": "..."}), resolved by the client."""

    name: str
    rules: str
    zones: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    rs: object  # RuleSet
    ctx: object  # engine.Context
    sha256: str


def parse(bundle: Bundle, *, timezone_name: str, crs: str) -> Parsed:
    """The bundle as a rule set with its context (time zone, CRS, zones); pure. Errors name the client's file."""
    from lawful.rules.engine import Context
    from lawful.rules.language import parse_ruleset
    from lawful.rules.zones import zones_from_text

    rs = parse_ruleset(bundle.rules.removeprefix("\ufeff"), bundle.name)
    crs = rs.extra.get("crs", crs)
    zones = ()
    if rs.zones_path:
        if rs.zones_path not in bundle.zones:
            raise InputError(f"{bundle.name} names the zone file {rs.zones_path!r}, which was not sent with it",
                             "send the zone file's text under that name in the bundle's zones")
        zones = tuple(zones_from_text(bundle.zones[rs.zones_path], rs.zones_path, crs))
    tz_name = rs.extra.get("timezone", timezone_name)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{bundle.name}: unknown time zone {tz_name!r}", "use an IANA name, e.g. Asia/Shanghai") \
            from None
    used = {rs.zones_path: bundle.zones[rs.zones_path]} if rs.zones_path else {}
    return Parsed(rs, Context(tz, crs, zones), service.fingerprint(bundle.rules, used))


def _parse(store: Store, bundle: Bundle) -> Parsed:
    return parse(bundle, timezone_name=store.settings.timezone, crs=store.settings.crs)


# ---- values the store has never seen -------------------------------------------------------------------------------
def check_values(store: Store, *, actor, bundle: Bundle, purpose: str) -> dict:
    """The rule file's compared values the store has never seen, each with the closest one it has. Needs
    `incidents.read` for the purpose; a consultation in the actor's name."""
    p = _parse(store, bundle)
    with store.transaction() as session:
        warnings = service.value_warnings(session, actor=actor, rs=p.rs, purpose=purpose, rules_sha256=p.sha256)
    return {"name": p.rs.name, "sha256": p.sha256,
            "warnings": [{"rule": w.rule, "condition": w.condition, "field": w.field, "value": w.value,
                          "closest": w.closest, "text": w.text()} for w in warnings]}


# ---- a run -----------------------------------------------------------------------------------------------------
@dataclass
class RunPlan:
    """A checked run, ready to compute."""

    parsed: Parsed
    actor: object
    engine: str  # batch | stream
    lateness_s: float
    purpose: str | None
    events: object = None  # engine.Events from a sent file; None: stored incidents
    start: datetime | None = None  # stored incidents: alerts from here (UTC) ...
    end: datetime | None = None  # ... to before here
    issue: str | None = None  # NAME:VERSION, fixed at the check
    refused: str | None = None  # the gate's refusal at the check (on the trail already)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(timezone.utc)


def start_run(store: Store, *, actor, bundle: Bundle, events: tuple[str, str] | None, start: date | None,
              end: date | None, engine: str = "batch", lateness_s: float = 0.0, issue: str | None = None,
              purpose: str | None = None) -> RunPlan:
    """Parse, then check in one writing transaction. `events` is (file name, text) of a sent event file, or None
    for the stored incidents between the local days `start` and `end`.

    With `issue`, the entry must be a rule set approved with this very file (SHA-256), the gate must let its alerts
    out for `purpose` (a refusal is returned in `refused`, on the trail already), and reading stored incidents needs
    the actor's clearance. Without it, reading stored incidents needs `incidents.read` for `purpose` and is a
    `development` entry; a sent file alone is evaluated without touching the store."""
    from lawful.rules.sources import parse_events

    if engine not in ("batch", "stream"):
        raise LawfulError(f"unknown engine {engine!r}", "use batch or stream")
    p = _parse(store, bundle)
    plan = RunPlan(p, actor, engine, float(lateness_s), purpose)
    if events is None:
        if not (start and end):
            raise LawfulError("--events store needs --start and --end", "e.g. --start 2019-12-01 --end 2019-12-08")
        if start >= end:
            raise LawfulError(f"--start {start} is not before --end {end}", "--end is the day after the last one")
        plan.start, plan.end = _local_midnight(start, p.ctx.tz), _local_midnight(end, p.ctx.tz)
    else:
        name, text = events
        plan.events = parse_events(text, p.rs, p.ctx.crs, name)
    if issue and not (purpose or "").strip():
        raise LawfulError("--issue needs --purpose", "say why, e.g. --purpose 'wildlife protection patrols'")
    if not issue and events is not None:
        return plan  # the client's own events and nothing issued: the store is not touched
    purpose = purpose or "crime analysis"
    plan.purpose = purpose
    with store.transaction() as session:
        if issue:
            from lawful.governance.registry import get

            entry = get(session, ref=issue)
            plan.issue = entry.ref  # this exact version from here on
            plan.refused = service.check_issue(session, actor=actor, entry=entry, rules_sha256=p.sha256,
                                               rule_file=bundle.name, purpose=purpose, reads_store=events is None)
            if plan.refused:
                return plan  # the refusal commits with this transaction
        else:
            from lawful.incidents.service import require_read

            require_read(session, actor=actor, purpose=purpose)
        if events is None:
            service.record_store_read(session, actor=actor, purpose=purpose, rs=p.rs, rules_sha256=p.sha256,
                                      start=plan.start, end=plan.end, issue=plan.issue)
    return plan


def refusal(plan: RunPlan) -> LawfulError:
    """The gate's refusal as the error a client gets (raised by the caller, outside the flow, since the gate wrote
    it to the trail already)."""
    return LawfulError(f"the gate refused: {plan.refused}. The refusal is on the trail.",
                       "see `lawful models list`", kind="denied")


def run(store: Store, plan: RunPlan, *, progress: Progress = None) -> dict:
    """Compute a checked run (stored incidents read in a read-only transaction) and, with `issue`, send every
    alert through the gate in one transaction. The result is plain JSON: each alert's record and its sentence."""
    from lawful.rules.engine import Stream, run_batch

    p, rs, ctx = plan.parsed, plan.parsed.rs, plan.parsed.ctx
    if plan.events is None:
        if progress:
            progress("reading incidents", 0, 1)
        with store.transaction(readonly=True) as session:  # windows see the history before start, alerts do not
            ev = service.load_events(session, rs=rs, start=plan.start, end=plan.end)
    else:
        ev = plan.events
    too_late = 0
    if plan.engine == "stream":
        s = Stream(rs, ctx, plan.lateness_s)
        alerts = []
        for i in range(len(ev)):
            alerts += s.push(ev.row(i))
            if progress and i % 1000 == 0:
                progress("evaluating", i, len(ev))
        alerts += s.flush()
        too_late = s.too_late
    else:
        if progress:
            progress("evaluating", 0, len(ev))
        alerts = run_batch(rs, ev, ctx)
    if plan.events is None:
        since = np.datetime64(plan.start.replace(tzinfo=None), "us")
        alerts = [a for a in alerts if a.t >= since]
    issued = None
    if plan.issue:
        from lawful.governance.registry import get

        if progress:
            progress("issuing", 0, len(alerts))
        with store.transaction() as session:
            ids, why = service.issue_alerts(session, actor=plan.actor, entry=get(session, ref=plan.issue),
                                            purpose=plan.purpose, alerts=alerts, tz=ctx.tz,
                                            places=service.alert_places(ev, alerts, ctx.crs))
        if why:
            plan.refused = why
            raise refusal(plan)
        issued = {"ref": plan.issue, "ids": ids}
    return result(rs, p.sha256, ctx.tz, len(ev), alerts, engine=plan.engine, too_late=too_late, issued=issued)


def run_once(store: Store, *, actor, progress: Progress = None, **request) -> dict:
    """start_run then run, for callers in process."""
    plan = start_run(store, actor=actor, **request)
    if plan.refused:
        raise refusal(plan)
    return run(store, plan, progress=progress)


def result(rs, sha256: str, tz: ZoneInfo, events: int, alerts: list, *, engine: str, too_late: int = 0,
           issued: dict | None = None) -> dict:
    """A run as JSON (what the API returns, and what the CLI prints from when it evaluates a file itself)."""
    return _plain({"ruleset": rs.name, "sha256": sha256, "engine": engine, "timezone": tz.key, "events": events,
                   "too_late": too_late, "per_rule": {r.id: sum(a.rule == r.id for a in alerts) for r in rs.rules},
                   "alerts": [a.record() for a in alerts], "sentences": [a.sentence(tz) for a in alerts],
                   "issued": issued})


def _plain(value):
    """numpy scalars as Python numbers, so the result is plain JSON."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
