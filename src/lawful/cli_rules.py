"""`lawful rules check|run|report`: early-warning rules from a file, over stored incidents or an event file.

A client of the server: the rule file, the zone file it names and event and verdict files are read here and their
text sent (the server never opens a path you name); whatever touches the store or the gate happens on the server
(/api/v1/rules, the work in lawful.rules.flows). What touches neither, checking a rule file, running it over an
event file without --issue and reporting on a verdict file, is pure computation done here, without a server."""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer

from lawful.cli_common import _date, _Reporter, _wide, err, out
from lawful.errors import LawfulError
from lawful.settings import Settings

rules_app = typer.Typer(no_args_is_help=True, help=(
    "Explainable early-warning rules: check a rule file, run it over events, report on officers' verdicts. "
    "See examples/rules/ and docs/rules.md."))

RuleFile = Annotated[Path, typer.Argument(help="A rule file (TOML), e.g. examples/rules/bird-catching.toml.")]


def _bundle(path: Path):
    """Read a rule file and the zone file it names, here, on the client: (rule set, context, bundle for the server,
    SHA-256 of the file). Errors name this machine's files; the server gets their text, never a path."""
    from lawful.limits import CONFIG_BYTES, ZONE_BYTES, decode, read_bytes, read_text
    from lawful.rules.engine import Context
    from lawful.rules.language import parse_ruleset
    from lawful.rules.zones import zones_from_text

    what, fix = "a rule file (TOML)", "give the path to a rule file (see examples/rules/)"
    data = read_bytes(path, what=what, limit=CONFIG_BYTES, fix=fix)
    rs = parse_ruleset(decode(data, path, what=what), str(path))
    settings = Settings.from_env()
    crs = rs.extra.get("crs", settings.crs)
    zones, zone_texts = (), {}
    if rs.zones_path:
        zone_file = Path(path).parent / rs.zones_path
        zone_texts[rs.zones_path] = read_text(zone_file, what="a zone file (GeoJSON)", limit=ZONE_BYTES,
                                              fix="give a GeoJSON FeatureCollection of named polygons")
        zones = tuple(zones_from_text(zone_texts[rs.zones_path], str(zone_file), crs))
    ctx = Context(ZoneInfo(rs.extra.get("timezone", settings.timezone)), crs, zones)
    bundle = {"name": str(path), "rules": data.decode("utf-8"), "zones": zone_texts}
    return rs, ctx, bundle, hashlib.sha256(data).hexdigest()


@rules_app.command("check")
def check_cmd(
    file: RuleFile,
    purpose: Annotated[str, typer.Option(help="Why you compare the rules' values with the stored incidents (the "
                                              "policy checks it; on the trail).")] = "crime analysis",
    as_json: Annotated[bool, typer.Option("--json", help="The rule set, its SHA-256 and the warnings as JSON.")] = False,
) -> None:
    """Parse and type-check a rule file (and its zone file), here. Errors give file:line:column and a hint. Signed
    in, it also warns of compared values no stored incident has (asked of the server; needs incidents.read)."""
    rs, ctx, bundle, digest = _bundle(file)
    warnings = _value_warnings(bundle, purpose)
    if as_json:
        print(json.dumps({"file": str(file), "name": rs.name, "sha256": digest, "timezone": ctx.tz.key,
                          "crs": ctx.crs, "zones": len(ctx.zones),
                          "rules": [{"id": r.id, "version": r.version, "action": r.action, "threshold": r.threshold,
                                     "purpose": r.purpose, "legal_basis": r.legal_basis,
                                     "conditions": [{"when": c.text, "weight": c.weight} for c in r.clauses]}
                                    for r in rs.rules],
                          "warnings": warnings}, indent=1))
        return
    out.print(f"[green]OK[/]: {file}: rule set {rs.name!r}, {len(rs.rules)} rule(s), time zone {ctx.tz.key}, "
              f"CRS {ctx.crs}" + (f", {len(ctx.zones)} zone(s)" if ctx.zones else ""), highlight=False)
    out.print(f"  sha256 {digest} (put this in the rule set's model card as [rules] sha256)", highlight=False)
    for r in rs.rules:
        out.print(f"  {r.id} v{r.version} -> {r.action} at score >= {r.threshold:g}; purpose: {r.purpose}; "
                  f"legal basis: {r.legal_basis}", highlight=False)
        for c in r.clauses:
            out.print(f"      {c.weight:>5g}  {c.text}", highlight=False)
    for w in warnings:
        out.print(f"[bold yellow]warning:[/] {w['text']}", highlight=False)


def _value_warnings(bundle: dict, purpose: str) -> list[dict]:
    """Compared values the store has never seen, from the server, when you are signed in; none otherwise (a note
    on stderr says why: the parse above stands on its own)."""
    from lawful import client

    if not client.saved_token():
        err.print("note: not signed in, so the values the rules compare were not checked against the stored "
                  "incidents (`lawful login NAME`)", highlight=False)
        return []
    try:
        return client.connect().post("/rules/check", {"bundle": bundle, "purpose": purpose})["warnings"]
    except LawfulError as exc:
        if exc.kind not in ("unauthenticated", "unavailable", "denied"):
            raise
        err.print(f"note: the values the rules compare were not checked against the stored incidents: {exc.message}",
                  highlight=False)
        return []


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        value = float("nan")
    if not (math.isfinite(value) and 0 <= value <= 366 * 86400):
        raise LawfulError(f"--lateness {text!r} is not a duration", "write e.g. 90s, 10m or 2h")
    return value


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
    purpose: Annotated[Optional[str], typer.Option(help="Why: needed with --issue (e.g. 'patrol planning'); with "
                                                        "--events store the policy checks it (default 'crime "
                                                        "analysis').")] = None,
) -> None:
    """Run a rule set and print its alerts, each with every condition, the value it saw, its weight, the score and
    the threshold. On an event file without --issue the rules are evaluated here and nothing is stored. On the
    stored incidents the server evaluates them (development activity, on the trail in your name); with --issue the
    server evaluates the approved file and each alert goes through the governance gate and waits for an officer's
    verdict (`lawful review decide ID --confirm`)."""
    rs, ctx, bundle, _ = _bundle(file)
    if events == "store" and not (start and end):
        raise LawfulError("--events store needs --start and --end", "e.g. --start 2019-12-01 --end 2019-12-08")
    if issue and not purpose:
        raise LawfulError("--issue needs --purpose", "say why, e.g. --purpose 'wildlife protection patrols'")
    wait = _seconds(lateness)
    if events != "store" and not issue:
        result = _evaluate_here(rs, ctx, Path(events), stream=stream, lateness_s=wait)
    else:
        from lawful import client
        from lawful.limits import EVENT_BYTES, read_text

        body = {"bundle": bundle, "engine": "stream" if stream else "batch", "lateness_s": wait, "issue": issue,
                "purpose": purpose}
        if events == "store":
            body.update(start=_date(start, "--start").isoformat(), end=_date(end, "--end").isoformat())
        else:
            body["events"] = {"name": events, "text": read_text(
                events, what="an event file (CSV or JSONL)", limit=EVENT_BYTES,
                fix="give a CSV or JSONL file of events, or --events store")}
        c = client.connect()
        with _Reporter() as progress:
            result = c.wait(c.post("/rules/runs", body), progress)
    label = events if events != "store" else \
        f"stored incidents {start} to {end} (with {rs.lookback_hours / 24:g} days of history for the windows)"
    show_run(result, rs, label=label, lateness=lateness, limit=limit, as_json=as_json)


def _evaluate_here(rs, ctx, events: Path, *, stream: bool, lateness_s: float) -> dict:
    """A rule set over an event file on this machine: pure computation, no store, no server."""
    from lawful.rules.engine import Stream, run_batch
    from lawful.rules.flows import result
    from lawful.rules.sources import read_events

    ev = read_events(events, rs, ctx.crs)
    too_late = 0
    if stream:
        s = Stream(rs, ctx, lateness_s)
        alerts = []
        with _Reporter() as progress:
            for i in range(len(ev)):
                alerts += s.push(ev.row(i))
                if i % 1000 == 0:
                    progress("evaluating", i, len(ev))
        alerts += s.flush()
        too_late = s.too_late
    else:
        alerts = run_batch(rs, ev, ctx)
    return result(rs, "", ctx.tz, len(ev), alerts, engine="stream" if stream else "batch", too_late=too_late)


def show_run(result: dict, rs, *, label: str, lateness: str, limit: int, as_json: bool) -> None:
    """Print a run (the API's JSON, or the same made here) as `lawful rules run` always has."""
    if result["too_late"]:
        err.print(f"{result['too_late']} event(s) arrived later than --lateness {lateness} and were not evaluated")
    issued = result.get("issued")
    if issued:
        ids = issued["ids"]
        err.print(f"{len(ids):,} alert(s) issued through the gate as outputs of {issued['ref']}"
                  + (f" ({ids[0]} to {ids[-1]})" if ids else "") + "; they wait for verdicts (`lawful review list`).")
    alerts = result["alerts"]
    if as_json:
        print(json.dumps(alerts, indent=1))
        return
    out.print(f"[bold]{rs.name}[/]: {result['events']:,} events read from {label}, {len(alerts):,} alert(s) "
              f"({result['engine']} engine)", highlight=False)
    for r in rs.rules:
        out.print(f"  {r.id} v{r.version}: {result['per_rule'].get(r.id, 0):,}", highlight=False)
    for sentence in result["sentences"][:limit]:
        out.print(f"- {sentence}", highlight=False)
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
    purpose: Annotated[str, typer.Option(help="With --verdicts store: why you read the verdicts (the policy checks "
                                              "it; on the trail).")] = "patrol planning",
    as_json: Annotated[bool, typer.Option("--json", help="The weeks, the change and the suggested weights as "
                                                         "JSON.")] = False,
) -> None:
    """Per week: alerts judged, precision and misjudgment rate with 95% intervals; whether the last week changed
    against the ones before; suggested weights learned from the verdicts; in plain language. Verdicts come from a
    file (read here) or, with --verdicts store, from the server (needs outputs.read); the report is made here."""
    from dataclasses import asdict

    from rich.table import Table

    from lawful.rules.language import propose_version
    from lawful.rules.learning import Verdict, detect_change, report, suggest_weights, weekly
    from lawful.rules.sources import read_verdicts

    rs, ctx, _, _ = _bundle(file)
    target = next((r for r in rs.rules if r.id == rule), None)
    if target is None:
        raise LawfulError(f"{file} has no rule {rule!r}", f"use one of {', '.join(r.id for r in rs.rules)}")
    if verdicts == "store":
        from lawful import client

        vs = [Verdict(v["rule"], int(v["version"]), datetime.fromisoformat(v["at"]), v["verdict"],
                      tuple(bool(h) for h in v["held"]))
              for v in client.connect().get("/rules/verdicts", rule=rule, purpose=purpose)]
    else:
        vs = read_verdicts(Path(verdicts))
    mine = [v for v in vs if v.rule == rule]
    if not mine:
        raise LawfulError(f"{verdicts} has no verdicts on rule {rule!r}", "check the rule id in the verdict file")
    last_day = _date(until, "--until") if until else max(v.at.astimezone(ctx.tz).date() for v in mine)
    ws = weekly(vs, rule=rule, weeks=weeks, until=last_day, tz=ctx.tz)
    suggested = suggest_weights(vs, target)
    change = detect_change(ws)
    if as_json:
        print(json.dumps({"rule": rule, "version": target.version, "weeks": [
            {"end": w.end.isoformat(), "judged": w.decided + w.unclear, "confirmed": w.confirmed,
             "false_alarms": w.false_alarms, "unclear": w.unclear, "misjudgment": w.misjudgment,
             "misjudgment_ci": list(w.misjudgment_ci) if w.decided else None} for w in ws],
            "change": asdict(change) if change else None,
            "suggested_weights": [float(x) for x in suggested] if suggested else None}, indent=1, default=float))
    else:
        table = Table("week to", "judged", "confirmed", "false alarms", "unclear", "misjudgment", "95% interval")
        for w in ws:
            lo, hi = w.misjudgment_ci
            table.add_row(f"{w.end:%Y-%m-%d}", str(w.decided + w.unclear), str(w.confirmed), str(w.false_alarms),
                          str(w.unclear), "n/a" if w.misjudgment is None else f"{w.misjudgment:.0%}",
                          f"{lo:.0%} to {hi:.0%}" if w.decided else "")
        _wide(110).print(table)
        out.print(report(target, ws, change, suggested), highlight=False)
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
