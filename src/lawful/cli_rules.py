"""`lawful rules check|run|report`: early-warning rules from a file, over stored incidents or an event file."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import numpy as np
import typer

from lawful.cli_common import _date, _Reporter, _session, _trail, _who, _wide, err, out
from lawful.errors import LawfulError
from lawful.settings import Settings

rules_app = typer.Typer(no_args_is_help=True, help=(
    "Explainable early-warning rules: check a rule file, run it over events, report on officers' verdicts. "
    "See examples/rules/ and docs/rules.md."))

RuleFile = Annotated[Path, typer.Argument(help="A rule file (TOML), e.g. examples/rules/bird-catching.toml.")]


def _context(rs, settings: Settings):
    from lawful.rules.engine import Context
    from lawful.rules.zones import load_zones

    crs = rs.extra.get("crs", settings.crs)
    zones = ()
    if rs.zones_path:
        zones = tuple(load_zones(Path(rs.path).parent / rs.zones_path, crs))
    return Context(ZoneInfo(rs.extra.get("timezone", settings.timezone)), crs, zones)


def _load(path: Path):
    from lawful.rules.language import load_ruleset

    settings = Settings.from_env()
    rs = load_ruleset(path)
    return rs, _context(rs, settings), settings


@rules_app.command("check")
def check_cmd(file: RuleFile) -> None:
    """Parse and type-check a rule file (and its zone file). Errors give file:line:column and a hint."""
    from lawful.rules.service import sha256

    rs, ctx, _ = _load(file)
    out.print(f"[green]OK[/]: {file}: rule set {rs.name!r}, {len(rs.rules)} rule(s), time zone {ctx.tz.key}, "
              f"CRS {ctx.crs}" + (f", {len(ctx.zones)} zone(s)" if ctx.zones else ""), highlight=False)
    out.print(f"  sha256 {sha256(file)} (put this in the rule set's model card as [rules] sha256)", highlight=False)
    for r in rs.rules:
        out.print(f"  {r.id} v{r.version} -> {r.action} at score >= {r.threshold:g}; purpose: {r.purpose}; "
                  f"legal basis: {r.legal_basis}", highlight=False)
        for c in r.clauses:
            out.print(f"      {c.weight:>5g}  {c.text}", highlight=False)
    for w in _value_warnings(rs):
        out.print(f"[bold yellow]warning:[/] {w.text()}", highlight=False)


def _value_warnings(rs) -> list:
    """Compared values the store has never seen, when there is a store; none (and no store made) otherwise."""
    from lawful.errors import StoreError
    from lawful.rules.service import check_values

    try:
        with _session(readonly=True) as (session, _):
            return check_values(session, rs=rs)
    except StoreError:
        return []


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise LawfulError(f"--lateness {text!r} is not a duration", "write e.g. 90s, 10m or 2h") from None


@rules_app.command("run")
def run_cmd(
    file: RuleFile,
    events: Annotated[str, typer.Option(help="'store' (stored incidents between --start and --end) or a CSV/JSONL "
                                             "file: id, time (ISO 8601 with offset), lon, lat, declared fields.")],
    start: Annotated[Optional[str], typer.Option(help="With --events store: first local day.")] = None,
    end: Annotated[Optional[str], typer.Option(help="With --events store: stop before this local day.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Feed events one at a time in file order through the "
                                                          "stream engine instead of the batch engine.")] = False,
    lateness: Annotated[str, typer.Option(help="Stream mode: how late an event may arrive (e.g. 10m).")] = "0s",
    limit: Annotated[int, typer.Option(help="Print at most this many alerts (the counts cover all).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Every alert as JSON, with each condition's result.")] = False,
    issue: Annotated[Optional[str], typer.Option(help="Send the alerts through the governance gate as outputs of this "
                                                      "approved rule-set entry (NAME or NAME:VERSION); the file must "
                                                      "be the one its card names by SHA-256.")] = None,
    purpose: Annotated[Optional[str], typer.Option(help="With --issue: why, e.g. 'patrol planning'.")] = None,
    actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER", help="With --issue: who you are.")] = None,
) -> None:
    """Run a rule set and print its alerts, each with every condition, the value it saw, its weight, the score and
    the threshold. Without --issue this is development activity (on the trail); with --issue each alert goes
    through the governance gate and waits for an officer's verdict (`lawful review decide ID --confirm`)."""
    from lawful.rules import service
    from lawful.rules.engine import Stream, run_batch
    from lawful.rules.sources import read_events

    rs, ctx, settings = _load(file)
    if events == "store" and not (start and end):
        raise LawfulError("--events store needs --start and --end", "e.g. --start 2019-12-01 --end 2019-12-08")
    who = None
    if issue:
        if not purpose:
            raise LawfulError("--issue needs --purpose", "say why, e.g. --purpose 'wildlife protection patrols'")
        from lawful.governance.registry import get

        with _session() as (session, _):
            who, entry = _who(session, actor), get(session, ref=issue)
            issue = entry.ref  # this exact version from here on
            why = service.check_issue(session, actor=who, entry=entry, rule_file=file, purpose=purpose,
                                      reads_store=events == "store")
        if why:
            raise LawfulError(f"the gate refused: {why}. The refusal is on the trail.", "see `lawful models list`")
    if events == "store":
        lo = datetime.combine(_date(start, "--start"), time(0), ctx.tz).astimezone(timezone.utc)
        hi = datetime.combine(_date(end, "--end"), time(0), ctx.tz).astimezone(timezone.utc)
        with _session(readonly=True) as (session, _):  # windows see the history before --start, alerts do not
            ev = service.load_events(session, rs=rs, start=lo, end=hi)
        since = np.datetime64(lo.replace(tzinfo=None), "us")
        label = f"stored incidents {start} to {end} (with {rs.lookback_hours / 24:g} days of history for the windows)"
    else:
        ev = read_events(Path(events), rs, ctx.crs)
        label = events
    if stream:
        s = Stream(rs, ctx, _seconds(lateness))
        alerts = []
        with _Reporter() as progress:
            for i in range(len(ev)):
                alerts += s.push(ev.row(i))
                if i % 1000 == 0:
                    progress("evaluating", i, len(ev))
        alerts += s.flush()
        if s.too_late:
            err.print(f"{s.too_late} event(s) arrived later than --lateness {lateness} and were not evaluated")
    else:
        alerts = run_batch(rs, ev, ctx)
    if events == "store":
        alerts = [a for a in alerts if a.t >= since]
    if issue:
        from lawful.governance.registry import get

        with _session() as (session, _):
            ids = service.issue_alerts(session, actor=who, entry=get(session, ref=issue), purpose=purpose,
                                       alerts=alerts, tz=ctx.tz)
        err.print(f"{len(ids):,} alert(s) issued through the gate as outputs of {issue}"
                  + (f" ({ids[0]} to {ids[-1]})" if ids else "") + "; they wait for verdicts (`lawful review list`).")
    elif events == "store":
        _trail(action="development", obj="incidents", purpose=f"rules run {rs.name}",
               details={"rules": str(file), "start": start, "end": end, "events": len(ev), "alerts": len(alerts)})
    if as_json:
        print(json.dumps([a.record() for a in alerts], indent=1))
        return
    per_rule = Counter(a.rule for a in alerts)
    out.print(f"[bold]{rs.name}[/]: {len(ev):,} events read from {label}, {len(alerts):,} alert(s) "
              f"({'stream' if stream else 'batch'} engine)", highlight=False)
    for r in rs.rules:
        out.print(f"  {r.id} v{r.version}: {per_rule.get(r.id, 0):,}", highlight=False)
    for a in alerts[:limit]:
        out.print(f"- {a.sentence(ctx.tz)}", highlight=False)
    if len(alerts) > limit:
        out.print(f"... and {len(alerts) - limit:,} more (--limit, or --json for all)", highlight=False)


@rules_app.command("report")
def report_cmd(
    file: RuleFile,
    rule: Annotated[str, typer.Option("--rule", help="The rule id to report on.")],
    verdicts: Annotated[str, typer.Option(help="'store' (verdicts on alerts issued through the gate) or a CSV: rule, "
                                               "version, alert_time, verdict, held; see "
                                               "examples/rules/bird-verdicts.csv.")],
    weeks: Annotated[int, typer.Option(help="How many weeks, ending with --until.")] = 8,
    until: Annotated[Optional[str], typer.Option(help="Last local day of the last week (default: the newest verdict's "
                                                      "day).")] = None,
    propose: Annotated[Optional[Path], typer.Option(help="Write the rule file with the suggested weights as the next "
                                                         "version here (a proposal: it takes effect only once "
                                                         "approved).")] = None,
) -> None:
    """Per week: alerts judged, precision and misjudgment rate with 95% intervals; whether the last week changed
    against the ones before; suggested weights learned from the verdicts; in plain language."""
    from rich.table import Table

    from lawful.rules.language import propose_version
    from lawful.rules.learning import detect_change, report, suggest_weights, weekly
    from lawful.rules.sources import read_verdicts

    rs, ctx, _ = _load(file)
    target = next((r for r in rs.rules if r.id == rule), None)
    if target is None:
        raise LawfulError(f"{file} has no rule {rule!r}", f"use one of {', '.join(r.id for r in rs.rules)}")
    if verdicts == "store":
        from lawful.rules.service import get_verdicts

        with _session(readonly=True) as (session, _):
            vs = get_verdicts(session, rule=rule)
    else:
        vs = read_verdicts(Path(verdicts))
    mine = [v for v in vs if v.rule == rule]
    if not mine:
        raise LawfulError(f"{verdicts} has no verdicts on rule {rule!r}", "check the rule id in the verdict file")
    last_day = _date(until, "--until") if until else max(v.at.astimezone(ctx.tz).date() for v in mine)
    ws = weekly(vs, rule=rule, weeks=weeks, until=last_day, tz=ctx.tz)
    table = Table("week to", "judged", "confirmed", "false alarms", "unclear", "misjudgment", "95% interval")
    for w in ws:
        lo, hi = w.misjudgment_ci
        table.add_row(f"{w.end:%Y-%m-%d}", str(w.decided + w.unclear), str(w.confirmed), str(w.false_alarms),
                      str(w.unclear), "n/a" if w.misjudgment is None else f"{w.misjudgment:.0%}",
                      f"{lo:.0%} to {hi:.0%}" if w.decided else "")
    _wide(110).print(table)
    suggested = suggest_weights(vs, target)
    out.print(report(target, ws, detect_change(ws), suggested), highlight=False)
    if propose:
        if not suggested:
            raise LawfulError("there are too few decided verdicts (or only one kind) to suggest weights",
                              "wait for at least 10 confirmed or false-alarm verdicts of both kinds")
        text = propose_version(Path(file).read_text(encoding="utf-8"), target, suggested)
        if rs.zones_path:  # keep the zone file reachable from wherever the proposal is written
            moved = os.path.relpath(Path(file).resolve().parent / rs.zones_path, propose.resolve().parent)
            text = text.replace(f'zones = "{rs.zones_path}"', f'zones = "{moved}"', 1)
        propose.write_text(text, encoding="utf-8")
        err.print(f"wrote {propose}: {rule} version {target.version + 1} with the suggested weights. It is a proposal: "
                  "register and approve it (`lawful models register`) before it is used.")
