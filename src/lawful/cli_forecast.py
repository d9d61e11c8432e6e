"""`lawful forecast ...`: backtest, run, audit, feedback, issue. Registered by cli.py; parses, calls the server's
/api/v1/forecast endpoints (the work is in lawful.forecast.flows, on the server), prints and writes files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _date, _Reporter, _wide, err, out
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
Purpose = Annotated[str, typer.Option(help="Why you are reading the incidents (the policy checks it; on the trail).")]
GeoJSONFile = Annotated[Optional[Path], typer.Option("--geojson", help="Also write the places here as GeoJSON (RFC "
                                                                       "7946: lon/lat polygons, EPSG:4326; QGIS opens "
                                                                       "it).", dir_okay=False)]
CSVFile = Annotated[Optional[Path], typer.Option("--csv", help="Also write the places here as CSV (cell id, "
                                                               "neighbourhood, centre lon/lat, score, sentence, "
                                                               "outline as WKT).", dir_okay=False)]


def _days(text: str, option: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text)
    if not m:
        raise LawfulError(f"{option} {text!r} is not a duration", f"write it as days or weeks, e.g. {option} 7d or 52w")
    return int(m.group(1)) * (7 if m.group(2) == "w" else 1)


def _table(title: str, labels: list[str], figures: list[str]) -> Table:
    """A table titled on the left, label columns left-aligned, figure columns right-aligned."""
    table = Table(title=title, title_justify="left")
    for col in labels:
        table.add_column(col)
    for col in figures:
        table.add_column(col, justify="right")
    return table


def _f(value, spec: str) -> str:
    """A figure, or '-' where there is none (JSON's null: a PAI over days without incidents)."""
    return "-" if value is None else format(value, spec)


def _wait(job: dict):
    """Follow a job the server runs, with a progress bar on a terminal; its result."""
    from lawful import client

    with _Reporter() as progress:
        return client.connect().wait(job, progress)


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
    scheduler: Annotated[Optional[str], typer.Option(help="Run the (day, model) jobs on the server's Dask scheduler; "
                                                          "it must be the one the server's operator configured "
                                                          "(LAWFUL_DASK_SCHEDULER), e.g. tcp://10.0.0.5:8786.")] = None,
    purpose: Purpose = "crime analysis",
    baseline: Annotated[Optional[str], typer.Option(help="Compare every model with this one, day by day: the mean "
                                                         "difference in daily PAI and its 95% interval (better = "
                                                         "the interval above 0), e.g. naive-all.")] = None,
) -> dict:
    """Rolling backtest: forecast each day from what came before it, score against what happened.

    Defaults are the public protocol of docs/benchmarks.md (Toronto, Break and Enter, every 7th day of 2019,
    365-day window, 200 m cells). Hit rate, PAI and PEI at 1, 2, 5, 10 and 20% of the cells; ties at the
    threshold share the places left, so a flat surface scores as random. The server runs it as a job; the report
    files are written here, by this command.

    Example: lawful forecast backtest --models naive-all,features --start 2019-06-01 --end 2019-06-30 --out bt/

    Telling models apart: lawful forecast backtest --every 1d --models ensemble --baseline naive-all
    """
    from lawful import client

    body = {"category": category, "start": _date(start, "--start").isoformat(), "end": _date(end, "--end").isoformat(),
            "every_days": _days(every, "--every"), "window_days": _days(window, "--window"), "cell": cell,
            "models": models, "since": _date(since, "--since").isoformat(), "purpose": purpose,
            "scheduler": scheduler, "report": out_dir is not None, "baseline": baseline}
    result = _wait(client.connect().post("/forecast/backtests", body))
    show_backtest(result, as_json=as_json, out_dir=out_dir)
    return result


REPORT_FILES = frozenset({"days.csv", "summary.csv", "report.md"})  # what a backtest's --out folder receives


def show_backtest(result: dict, *, as_json: bool, out_dir: Path | None) -> None:
    """Print a backtest's result (the API's JSON) and write its report files into out_dir."""
    if as_json:
        out.print_json(json.dumps(result["summaries"]))
    else:
        _print_summary(result)
    if out_dir:
        import base64

        out_dir.mkdir(parents=True, exist_ok=True)
        unexpected = sorted(set(result["files"]) - REPORT_FILES)
        if unexpected:  # the server names the files; only these names are written, never a path it chose
            raise LawfulError(f"the server sent report files named {unexpected[:3]}, not {sorted(REPORT_FILES)}",
                              "check LAWFUL_SERVER points at a Lawful server")
        for name, text in result["files"].items():
            (out_dir / name).write_text(text)
        written = ", ".join(result["files"])
        if result.get("map_png_base64"):
            (out_dir / "map.png").write_bytes(base64.b64decode(result["map_png_base64"]))
            err.print(f"wrote {out_dir}/{written} and map.png (top 5% on {result['map_day']})", highlight=False)
        else:
            err.print(f"wrote {out_dir}/{written}; the map was too large to send", highlight=False)


def _print_summary(r: dict) -> None:
    table = _table(f"{r['category']}: {r['days']} days, {r['first_day']} to {r['last_day']}, {r['events_scored']:,} "
                   f"incidents; {r['cell']:g} m cells ({r['cells_valid']:,}); window {r['window_days']:g} d",
                   ["model"], ["coverage", "hit rate", "PAI", "PAI 95%", "PEI", "fit s/day", "predict s/day"])
    base = r.get("baseline")
    if base:
        table.add_column(f"PAI - {base}", justify="right")
        table.add_column("diff 95%", justify="right")
    last = None
    for s in r["summaries"]:
        cells = [s["model"] if s["model"] != last else "", f"{s['coverage']:.0%}", _f(s["hit_rate_pooled"], ".3f"),
                 _f(s["pai"], ".2f"), f"{_f(s['pai_low'], '.2f')}-{_f(s['pai_high'], '.2f')}", _f(s["pei"], ".3f"),
                 _f(s["fit_seconds"], ".2f"), _f(s["predict_seconds"], ".3f")]
        if base:
            cells += ["", ""] if s["model"] == base else [
                _f(s["pai_diff"], "+.2f"), f"{_f(s['pai_diff_low'], '+.2f')} to {_f(s['pai_diff_high'], '+.2f')}"]
        table.add_row(*cells, end_section=s["coverage"] == r["coverages"][-1])
        last = s["model"]
    _wide(140 if base else 112).print(table)
    out.print("Hit rate pooled over days; PAI mean over days with its 95% interval. Random ranking: PAI 1.",
              highlight=False)
    if base:
        out.print(f"PAI - {base}: the mean over days of each day's PAI minus {base}'s on the same day, with a 95% "
                  "t-interval of that mean; an interval wholly above 0 means better than it on these days.",
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the top places as JSON (each with its cell id, "
                                                         "centre lon/lat and neighbourhood).")] = False,
    purpose: Purpose = "crime analysis",
    geojson: GeoJSONFile = None,
    csv_file: CSVFile = None,
) -> None:
    """One forecast: the day's top places, each with the terms that make up its score.

    Every place is named by its cell id (e.g. 200m:3047:24135), its centre in latitude/longitude and its
    neighbourhood; `lawful incidents list --cell ID` shows the incidents behind it. A day more than the server's
    LAWFUL_FORECAST_MAX_STALE_DAYS after the last stored incident of the category is refused.

    Development activity, logged to the trail: not an operational output. Operational forecasts come from an
    approved, active registry entry through the gate: `lawful forecast issue`.

    Example: lawful forecast run --date 2019-12-24 --model kde --top 20 --geojson places.geojson --csv places.csv
    """
    from lawful import client

    r = client.connect().post("/forecast/run", {
        "category": category, "day": _date(day, "--date").isoformat(), "model": model, "top": top,
        "window_days": _days(window, "--window"), "cell": cell, "since": _date(since, "--since").isoformat(),
        "purpose": purpose})
    _write_places(r["places"], geojson, csv_file, name=f"lawful-places-{r['day']}",
                  meta={"category": r["category"], "day": r["day"], "model": r["model"]})
    if as_json:
        out.print_json(json.dumps([{k: v for k, v in p.items() if k not in ("sentence", "ring")}
                                   for p in r["places"]]))
        return
    out.print(f"[bold]{r['category']}, {r['day']}, model {r['model']}[/]: top {top} of {r['cells_valid']:,} cells "
              f"({r['cell']:g} m)", highlight=False)
    for p in r["places"]:
        out.print(f"{p['rank']:>3}. {_place(p)}  score {p['score']:.3f}", highlight=False)
        out.print(f"     {p['sentence']}", highlight=False)


def _place(p: dict) -> str:
    from lawful.forecast.places import line

    return line(p) if p.get("cell_id") else str(p.get("label") or p.get("cell"))


def _write_places(places: list[dict], geojson: Path | None, csv_file: Path | None, *, name: str, meta: dict) -> None:
    """Write the places as GeoJSON (RFC 7946, EPSG:4326) and CSV (with WKT) where asked; say so on stderr."""
    from lawful.forecast import places as fmt

    if geojson:
        geojson.write_text(json.dumps(fmt.geojson(places, name=name, meta=meta)))
        err.print(f"wrote {geojson} ({len(places)} places, GeoJSON, EPSG:4326)", highlight=False)
    if csv_file:
        csv_file.write_text(fmt.csv_text(places))
        err.print(f"wrote {csv_file} ({len(places)} places, CSV with WKT, EPSG:4326)", highlight=False)


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
    purpose: Purpose = "crime analysis",
) -> None:
    """Exposure audit: per area, the share of flagged cells against the share of the period's incidents.

    A disparity of 2 means an area gets twice the attention its share of the incidents would justify.
    """
    from lawful import client

    job = client.connect().post("/forecast/audit", {
        "category": category, "start": _date(start, "--start").isoformat(), "end": _date(end, "--end").isoformat(),
        "every_days": _days(every, "--every"), "model": model, "coverage": coverage, "top": top,
        "window_days": _days(window, "--window"), "cell": cell, "since": _date(since, "--since").isoformat(),
        "purpose": purpose})
    a = _wait(job)
    if as_json:
        out.print_json(json.dumps(a))
        return
    out.print(f"[bold]{category}: policy 'attend the top {a['coverage']:.0%} of cells' by {a['model']}[/], {a['days']} "
              f"days. Misplaced attention (half the sum of |flagged share - incident share| over areas): "
              f"{a['misplaced']:.1%}.", highlight=False)
    for title, rows in (("Most over-exposed", a["most_over"]), ("Most under-exposed", a["most_under"])):
        table = _table(title, ["area"], ["flagged cell-days", "flagged share", "incidents", "incident share", "disparity"])
        for r in rows:
            table.add_row(str(r["area"]), f"{r['flagged_cell_days']:,.0f}", f"{r['flagged_share']:.2%}",
                          f"{r['incidents']:,.0f}", f"{r['incident_share']:.2%}",
                          "no incidents" if r["disparity"] is None else f"{r['disparity']:.2f}")
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
    purpose: Purpose = "crime analysis",
) -> None:
    """Runaway feedback loops (Ensign et al. 2018): crime recorded only where attention goes, models refitted.

    Reports the drift of attention from the true rates (total-variation distance, 0 = perfect) before and after
    the rounds, without and with the paper's correction (thin each discovery by p_min / p).
    """
    from lawful import client

    job = client.connect().post("/forecast/feedback", {
        "category": category, "start": _date(start, "--start").isoformat(), "models": models, "rounds": rounds,
        "round_days": round_days, "coverage": coverage, "exploration": exploration, "reported": reported, "seed": seed,
        "window_days": _days(window, "--window"), "cell": cell, "since": _date(since, "--since").isoformat(),
        "purpose": purpose})
    results = _wait(job)
    if as_json:
        out.print_json(json.dumps([{k: r[k] for k in ("model", "corrected", "drift", "captured")} for r in results]))
        return
    table = _table(f"{category}: {rounds} rounds of {round_days} days, attention budget {coverage:g}",
                   ["model", "correction"], ["drift before", "drift after", "change", "true crime in attended cells"])
    for r in results:
        table.add_row(r["model"], "yes" if r["corrected"] else "no", f"{r['drift'][0]:.3f}", f"{r['drift'][-1]:.3f}",
                      f"{r['change']:+.3f}", f"{r['captured'][0]:.1%} -> {r['captured'][-1]:.1%}")
    _wide(112).print(table)
    out.print("Drift: total-variation distance between the model's risk shares and the true crime shares (0 = the "
              "model puts risk exactly where crime is). The correction removes the bias but records less, so it needs "
              "enough --exploration to have data to learn from.", highlight=False)


@forecast_app.command("issue")
def issue_cmd(
    ref: Annotated[str, typer.Argument(help="The registry entry (NAME or NAME:VERSION) whose approved configuration runs.")],
    purpose: Annotated[str, typer.Option(help="Why, e.g. 'patrol planning'; must be covered by an approval.")],
    day: Annotated[Optional[str], typer.Option("--date", help="The local day to forecast (required).")] = None,
    area: Annotated[Optional[str], typer.Option(help="The area it is for, if approvals are limited to areas.")] = None,
    top: Annotated[int, typer.Option(help="How many places to print.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored output as JSON (every place with its cell "
                                                         "id, centre lon/lat and neighbourhood).")] = False,
    geojson: GeoJSONFile = None,
    csv_file: CSVFile = None,
) -> None:
    """An operational forecast through the governance gate: refused unless the entry is approved for this purpose,
    active and not suspended, and unless the category's stored incidents reach within the server's
    LAWFUL_FORECAST_MAX_STALE_DAYS of the day. The result is stored with its explanation and waits for a person's
    decision (`lawful review decide`). --geojson and --csv write all its places for a GIS.

    Example: lawful forecast issue toronto-bne-forecaster --date 2019-12-24 --purpose "patrol planning" --geojson out.geojson
    """
    from lawful import client

    if not day:
        raise LawfulError("an operational forecast needs --date: the local day it is for (it is never guessed)",
                          "give the day, e.g. --date 2019-12-24")
    o = client.connect().post("/forecast/issue", {"ref": ref, "purpose": purpose, "day": _date(day, "--date").isoformat(),
                                                  "area": area})
    _write_places(o.get("cells", []), geojson, csv_file, name=f"lawful-output-{o['id']}",
                  meta={"output": o["id"], "model": o["model"], "day": o["day"], "category": o.get("category")})
    if as_json:
        out.print_json(json.dumps({**o, "cells": [{k: v for k, v in c.items() if k != "ring"}
                                                  for c in o.get("cells", [])]}))
        return
    lines = [(f"[bold]Output {o['id']}[/] ({'SANDBOX, not operational' if o['sandbox'] else 'recommendation'}): "
              f"{o['subject']} by {o['model']}, top {o['places']} places; waiting for a decision "
              f"(`lawful review decide {o['id']}`).")]
    lines += [f"{c['rank']:>3}. {_place(c)}: {c['sentence']}" for c in o.get("cells", [])[:top]]
    for line in lines:
        out.print(line, highlight=False)
