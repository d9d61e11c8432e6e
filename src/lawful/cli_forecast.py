"""`lawful forecast ...`: backtest, run, audit, feedback. Registered by cli.py; parses, calls forecast.service, prints."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from lawful.cli_common import _date, _Reporter, _session, _wide, err, out
from lawful.errors import LawfulError

forecast_app = typer.Typer(no_args_is_help=True, help=(
    "Place-based forecasts: where crime of a category is most likely next, why, and how good that is.\n\n"
    "Start with `lawful forecast backtest` (how good each model is on your data), then `lawful forecast run` "
    "(one day's top places with their explanations), `lawful forecast audit` (which areas the policy would "
    "watch, against their crime) and `lawful forecast feedback` (does the model run away when it learns only "
    "from what it sent officers to see?)."))

Category = Annotated[str, typer.Option(help="Incident category, as stored (see `lawful incidents stats`).")]
Cell = Annotated[float, typer.Option(help="Cell side in metres.")]
Window = Annotated[str, typer.Option(help="Training window for the windowed models, e.g. 365d or 52w.")]
Since = Annotated[str, typer.Option(help="Ignore incidents before this date (history and grid mask).")]


def _days(text: str, option: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text)
    if not m:
        raise LawfulError(f"{option} {text!r} is not a duration", f"write it as days or weeks, e.g. {option} 7d or 52w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def _models(text: str) -> list[str]:
    from lawful.forecast.models import parse_models

    try:
        return parse_models(text)
    except ValueError as exc:
        raise LawfulError(str(exc), "e.g. --models all or --models naive-all,features") from None


def _one_model(text: str) -> str:
    names = _models(text)
    if len(names) != 1:
        raise LawfulError(f"--model {text!r} names {len(names)} models; this command takes one", "e.g. --model features")
    return names[0]


def _coverage(value: float) -> float:
    c = value / 100 if value > 1 else value
    if not 0 < c <= 1:
        raise LawfulError(f"--coverage {value:g} is not a share of the area", "give a fraction or a percentage, e.g. 0.05 or 5")
    return c


def _table(title: str, labels: list[str], figures: list[str]) -> Table:
    """A table titled on the left, label columns left-aligned, figure columns right-aligned."""
    table = Table(title=title, title_justify="left")
    for col in labels:
        table.add_column(col)
    for col in figures:
        table.add_column(col, justify="right")
    return table


def _development(what: str, **details) -> None:
    """Backtests and analyses are development activity: on the trail (data was consulted), never operational."""
    from lawful.cli_common import _trail

    _trail(action="development", obj=f"incidents:{details.get('category', '')}", purpose=what, details=details)


def _tz(settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


@forecast_app.command("backtest")
def backtest_cmd(
    category: Category = "Break and Enter",
    start: Annotated[str, typer.Option(help="First forecast day (local date).")] = "2019-01-01",
    end: Annotated[str, typer.Option(help="Stop before this local date (exclusive: 2019-01-01 to 2019-12-31 every "
                                           "7d is the protocol's 52 days).")] = "2019-12-31",
    every: Annotated[str, typer.Option(help="Days between forecast days, e.g. 7d.")] = "7d",
    window: Window = "365d",
    cell: Cell = 200.0,
    models: Annotated[str, typer.Option(help="'all' or a comma-separated list: naive, naive-all, kde, prospective, "
                                             "sepp, features.")] = "all",
    since: Since = "2014-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array of per-model, per-coverage records.")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Write days.csv, summary.csv, report.md and map.png here.")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Run the (day, model) jobs on this Dask scheduler, "
                                                          "e.g. tcp://10.0.0.5:8786.")] = None,
) -> None:
    """Rolling backtest: forecast each day from what came before it, score against what happened.

    Defaults are the public protocol of docs/benchmarks.md (Toronto, Break and Enter, every 7th day of 2019,
    365-day window, 200 m cells). Hit rate, PAI and PEI at 1, 2, 5, 10 and 20% of the cells; ties at the
    threshold share the places left, so a flat surface scores as random.

    Example: lawful forecast backtest --models naive-all,features --start 2019-06-01 --end 2019-06-30 --out bt/
    """
    from lawful.forecast import report as rep
    from lawful.forecast.executors import DaskExecutor
    from lawful.forecast.service import backtest

    names = _models(models)
    start_d, end_d, since_d = _date(start, "--start"), _date(end, "--end"), _date(since, "--since")
    every_d, window_d = _days(every, "--every"), _days(window, "--window")
    executor = None
    if scheduler:
        try:
            executor = DaskExecutor(scheduler)
        except OSError as exc:
            raise LawfulError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                              "start one (`dask scheduler`, `dask worker ADDRESS`) or leave out --scheduler") from None
    try:
        with _session(readonly=True) as (session, settings), _Reporter() as progress:
            report = backtest(session, category=category, start=start_d, end=end_d, every_days=every_d,
                              window_days=window_d, cell=cell, models=names, since=since_d, tz=_tz(settings),
                              executor=executor, progress=lambda d, t: progress("forecasting", d, t))
        _development("backtest", category=category, start=start, end=end, every=every, models=names)
    finally:
        if executor:
            executor.close()
    if as_json:
        out.print_json(json.dumps([s.record() for s in report.summaries]))
    else:
        _print_summary(report)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        rep.write_days_csv(out_dir / "days.csv", report.results, report.data.coverages)
        rep.write_summary_csv(out_dir / "summary.csv", report.summaries)
        (out_dir / "report.md").write_text(rep.markdown(report))
        day = rep.plot_day(out_dir / "map.png", report)
        err.print(f"wrote {out_dir}/days.csv, summary.csv, report.md and map.png (top 5% on {day})", highlight=False)
    return report


def _print_summary(report) -> None:
    d = report.days
    table = _table(f"{report.category}: {len(d)} days, {d[0][0]} to {d[-1][0]}, {report.events_scored:,} incidents; "
                   f"{report.data.grid.cell:g} m cells ({report.data.grid.n_valid:,}); window {report.window_days:g} d",
                   ["model"], ["coverage", "hit rate", "PAI", "PAI 95%", "PEI", "fit s/day", "predict s/day"])
    last = None
    for s in report.summaries:
        table.add_row(s.model if s.model != last else "", f"{s.coverage:.0%}", f"{s.hit_rate_pooled:.3f}",
                      f"{s.pai:.2f}", f"{s.pai_low:.2f}-{s.pai_high:.2f}", f"{s.pei:.3f}",
                      f"{s.fit_seconds:.2f}", f"{s.predict_seconds:.3f}", end_section=s.coverage == report.data.coverages[-1])
        last = s.model
    _wide(112).print(table)
    out.print("Hit rate pooled over days; PAI mean over days with its 95% interval. Random ranking: PAI 1.",
              highlight=False)


@forecast_app.command("run")
def run_cmd(
    category: Category = "Break and Enter",
    day: Annotated[str, typer.Option("--date", help="The local day to forecast.")] = "2019-12-24",
    model: Annotated[str, typer.Option(help="One of naive, naive-all, kde, prospective, sepp, features.")] = "features",
    top: Annotated[int, typer.Option(help="How many places to list.")] = 10,
    window: Window = "365d",
    cell: Cell = 200.0,
    since: Since = "2014-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the top places as JSON.")] = False,
) -> None:
    """One forecast: the day's top places, each with the terms that make up its score.

    Development activity, logged to the trail: not an operational output. Operational forecasts come from an
    approved, active registry entry through the gate: `lawful forecast issue`.
    """
    from lawful.forecast.service import forecast

    name = _one_model(model)
    with _session(readonly=True) as (session, settings):
        fc = forecast(session, category=category, day=_date(day, "--date"), model=name, cell=cell,
                      window_days=_days(window, "--window"), since=_date(since, "--since"), tz=_tz(settings))
    _development("forecast run", category=category, date=day, model=name)
    s = fc.surface
    cells = s.top(top)
    if as_json:
        out.print_json(json.dumps([{"rank": i + 1, "cell": int(c), "label": s.grid.label(c), "score": float(s.values[c]),
                                    "terms": [{"label": t.label, "value": t.value, "share": t.share, "events": t.events}
                                              for t in s.explain(c)]} for i, c in enumerate(cells)]))
        return
    out.print(f"[bold]{fc.category}, {fc.day}, model {fc.model}[/]: top {top} of {s.grid.n_valid:,} cells "
              f"({s.grid.cell:g} m)", highlight=False)
    for i, c in enumerate(cells, 1):
        out.print(f"{i:>3}. {s.grid.label(c)}  score {s.values[c]:.3f}", highlight=False)
        out.print(f"     {s.sentence(c)}", highlight=False)


@forecast_app.command("audit")
def audit_cmd(
    category: Category = "Break and Enter",
    start: Annotated[str, typer.Option(help="First day of the audited period.")] = "2019-01-01",
    end: Annotated[str, typer.Option(help="End of the audited period (exclusive).")] = "2019-12-31",
    every: Annotated[str, typer.Option(help="Days between forecasts.")] = "7d",
    model: Annotated[str, typer.Option(help="The model whose policy is audited.")] = "naive-all",
    coverage: Annotated[float, typer.Option(help="The policy: attend the top share of cells (0.05 or 5 = 5%).")] = 0.05,
    top: Annotated[int, typer.Option(help="How many over- and under-exposed areas to show.")] = 5,
    window: Window = "365d",
    cell: Cell = 200.0,
    since: Since = "2014-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full per-area table as JSON.")] = False,
) -> None:
    """Exposure audit: per area, the share of flagged cells against the share of the period's incidents.

    A disparity of 2 means an area gets twice the attention its share of the incidents would justify.
    """
    from lawful.forecast.service import exposure_audit

    name = _one_model(model)
    with _session(readonly=True) as (session, settings), _Reporter() as progress:
        a = exposure_audit(session, category=category, start=_date(start, "--start"), end=_date(end, "--end"),
                           every_days=_days(every, "--every"), model=name, coverage=_coverage(coverage), cell=cell,
                           window_days=_days(window, "--window"), since=_date(since, "--since"), tz=_tz(settings),
                           progress=lambda d, t: progress("forecasting", d, t))
    _development("exposure audit", category=category, start=start, end=end, model=name)
    if as_json:
        areas = json.loads(a.table.replace([float("inf")], None).to_json(orient="records"))
        out.print_json(json.dumps({"model": a.model, "coverage": a.coverage, "days": a.days, "misplaced": a.misplaced,
                                   "areas": areas}))
        return
    out.print(f"[bold]{category}: policy 'attend the top {a.coverage:.0%} of cells' by {a.model}[/], {a.days} days. "
              f"Misplaced attention (half the sum of |flagged share - incident share| over areas): "
              f"{a.misplaced:.1%}.", highlight=False)
    for title, frame in (("Most over-exposed", a.most_over(top)), ("Most under-exposed", a.most_under(top))):
        table = _table(title, ["area"], ["flagged cell-days", "flagged share", "incidents", "incident share", "disparity"])
        for r in frame.itertuples():
            table.add_row(str(r.area), f"{r.flagged_cell_days:,.0f}", f"{r.flagged_share:.2%}", f"{r.incidents:,.0f}",
                          f"{r.incident_share:.2%}", "no incidents" if r.disparity == float("inf") else f"{r.disparity:.2f}")
        _wide(112).print(table)


@forecast_app.command("feedback")
def feedback_cmd(
    category: Category = "Break and Enter",
    start: Annotated[str, typer.Option(help="When the simulated deployment starts; the next year's real "
                                             "incidents are the true rates.")] = "2019-01-01",
    models: Annotated[str, typer.Option(help="'all' or a comma-separated list.")] = "naive,prospective,kde",
    rounds: Annotated[int, typer.Option(help="Rounds of patrol, record, refit.")] = 20,
    round_days: Annotated[int, typer.Option(help="Days per round.")] = 7,
    coverage: Annotated[float, typer.Option(help="Attention budget: share of cells attended.")] = 0.05,
    exploration: Annotated[float, typer.Option(help="Least attention probability any cell gets.")] = 0.02,
    reported: Annotated[float, typer.Option(help="Chance the public reports an incident nobody was sent to see.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same figures.")] = 0,
    window: Window = "365d",
    cell: Cell = 200.0,
    since: Since = "2014-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="Print the drift per round as JSON.")] = False,
) -> None:
    """Runaway feedback loops (Ensign et al. 2018): crime recorded only where attention goes, models refitted.

    Reports the drift of attention from the true rates (total-variation distance, 0 = perfect) before and after
    the rounds, without and with the paper's correction (thin each discovery by p_min / p).
    """
    from lawful.forecast.service import feedback_loop

    names = _models(models)
    with _session(readonly=True) as (session, settings), _Reporter() as progress:
        results = feedback_loop(session, category=category, start=_date(start, "--start"), models=names, rounds=rounds,
                                round_days=round_days, coverage=_coverage(coverage), cell=cell,
                                window_days=_days(window, "--window"), since=_date(since, "--since"), tz=_tz(settings),
                                exploration=exploration, reported=reported, seed=seed,
                                progress=lambda d, t: progress("simulating", d, t))
    _development("feedback simulation", category=category, start=start, models=names)
    if as_json:
        out.print_json(json.dumps([{"model": r.model, "corrected": r.corrected, "drift": list(r.drift),
                                    "captured": list(r.captured)} for r in results]))
        return
    table = _table(f"{category}: {rounds} rounds of {round_days} days, attention budget {coverage:g}",
                   ["model", "correction"], ["drift before", "drift after", "change", "true crime in attended cells"])
    for r in results:
        table.add_row(r.model, "yes" if r.corrected else "no", f"{r.drift[0]:.3f}", f"{r.drift[-1]:.3f}",
                      f"{r.change:+.3f}", f"{r.captured[0]:.1%} -> {r.captured[-1]:.1%}")
    _wide(112).print(table)
    out.print("Drift: total-variation distance between the model's risk shares and the true crime shares (0 = the "
              "model puts risk exactly where crime is). The correction removes the bias but records less, so it needs "
              "enough --exploration to have data to learn from.", highlight=False)


@forecast_app.command("issue")
def issue_cmd(
    ref: Annotated[str, typer.Argument(help="The registry entry (NAME or NAME:VERSION) whose approved configuration runs.")],
    purpose: Annotated[str, typer.Option(help="Why, e.g. 'patrol planning'; must be covered by an approval.")],
    day: Annotated[str, typer.Option("--date", help="The local day to forecast.")] = "2019-12-24",
    area: Annotated[Optional[str], typer.Option(help="The area it is for, if approvals are limited to areas.")] = None,
    top: Annotated[int, typer.Option(help="How many places to print.")] = 10,
    actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER", help="Who you are.")] = None,
) -> None:
    """An operational forecast through the governance gate: refused unless the entry is approved for this purpose,
    active and not suspended. The result is stored with its explanation and waits for a person's decision
    (`lawful review decide`)."""
    from lawful.cli_common import _who

    with _session() as (session, _):
        who = _who(session, actor)
    ref, result = issue_through_gate(ref, actor=who, day=_date(day, "--date"), purpose=purpose, area=area)
    if not result.allowed:
        raise LawfulError(f"the gate refused: {result.refused}. The refusal is on the trail.",
                          "see `lawful models list` and `lawful models approve`")
    o = result.output
    lines = [(f"[bold]Output {o.id}[/] ({'SANDBOX, not operational' if o.sandbox else 'recommendation'}): "
              f"{o.subject} by {ref}, top {len(o.payload['cells'])} places; waiting for a decision "
              f"(`lawful review decide {o.id}`).")]
    lines += [f"{i + 1:>3}. {x['cell']}: {x['sentence']}" for i, x in enumerate(o.explanation[:top])]
    for line in lines:
        out.print(line, highlight=False)


def issue_through_gate(ref: str, *, actor, day: date, purpose: str, area: str | None):
    """Check, compute, issue: three short transactions, so the seconds a forecast takes never hold the write lock.
    Returns (NAME:VERSION, the gate's result); the gate checks again when it issues (a suspension may have come
    in between), and a refusal at either point is on the trail."""
    from lawful.forecast.service import check_issue, forecast_output
    from lawful.governance import gate
    from lawful.governance.registry import get

    with _session() as (session, _):
        entry = get(session, ref=ref)
        ref = entry.ref  # this exact version from here on, even if a newer draft is registered meanwhile
        model = dict(entry.card.get("model") or {})
        why = check_issue(session, actor=actor, entry=entry, purpose=purpose, area=area)
    if why:
        return ref, gate.GateResult(None, why)
    with _session(readonly=True) as (session, settings):
        subject, payload, explanation = forecast_output(session, model=model, day=day, tz=_tz(settings))
    with _session() as (session, _):
        return ref, gate.issue(session, actor=actor, entry=get(session, ref=ref), purpose=purpose, kind="forecast",
                               subject=subject, payload=payload, explanation=explanation, area=area)
