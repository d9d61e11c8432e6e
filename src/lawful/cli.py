"""`lawful ...`: parses, calls a service, prints. Errors a user can fix print one line and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup


from lawful.cli_common import _Reporter, err, out
from lawful.cli_forecast import forecast_app
from lawful.cli_access import access_app
from lawful.cli_admin import admin_app, serve
from lawful.cli_privacy import privacy_app
from lawful.cli_requests import breaches_app, requests_app
from lawful.cli_rules import rules_app
from lawful.cli_patrol import patrol_app
from lawful.cli_casefiles import casefiles_app
from lawful.cli_governance import audit_app, models_app, report_app, review_app, serious_app, users_app
from lawful.errors import LawfulError




class _DefaultToFile(TyperGroup):
    """`lawful ingest FILE` and `lawful ingest quarantine` share one group: anything not a subcommand is a file."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(help="Lawful: place-based crime forecasting and early-warning rules, governed by the rule of law.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
ingest_app = typer.Typer(cls=_DefaultToFile, no_args_is_help=True, help=(
    "Load incidents: `lawful ingest FILE --mapping MAPPING.toml`; list refused rows: `lawful ingest quarantine`."))
datasets_app = typer.Typer(help="Bundled real datasets.", no_args_is_help=True)
incidents_app = typer.Typer(help="Look at what is stored.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.command("serve")(serve)
app.add_typer(ingest_app, name="ingest")
app.add_typer(datasets_app, name="datasets")
app.add_typer(incidents_app, name="incidents")
app.add_typer(forecast_app, name="forecast")
app.add_typer(rules_app, name="rules")
app.add_typer(users_app, name="users")
app.add_typer(access_app, name="access")
app.add_typer(privacy_app, name="privacy")
app.add_typer(requests_app, name="requests")
app.add_typer(breaches_app, name="breaches")
app.add_typer(models_app, name="models")
from lawful.cli_transparency import complaints_app, register_app; app.add_typer(complaints_app, name="complaints"); app.add_typer(register_app, name="register")  # noqa: E402,E702 (also adds `lawful audit pack`)
app.add_typer(review_app, name="review")
app.add_typer(audit_app, name="audit")
app.add_typer(serious_app, name="serious-incidents")
app.add_typer(report_app, name="report")
app.add_typer(patrol_app, name="patrol")
app.add_typer(casefiles_app, name="casefiles")


INTERRUPTED = 130


# ---- session ----------------------------------------------------------------------------------------------------
@app.command("login")
def login(name: Annotated[str, typer.Argument(help="Your user name.")],
          code: Annotated[Optional[str], typer.Option(help="The one-time code from your authenticator app (admins, "
                                                           "approvers, DPOs).")] = None,
          password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard "
                                                                                "input.")] = False,
          hours: Annotated[float, typer.Option(help="How long the session lasts (at most 168).")] = 12.0) -> None:
    """Sign in to the server (LAWFUL_SERVER, default http://127.0.0.1:8000). The session token is kept in a file only
    you can read, under your config directory; `lawful logout` ends it. Five failures lock the account."""
    import getpass

    from lawful import client

    import math

    if not (math.isfinite(hours) and 0 < hours <= 168):
        raise LawfulError(f"--hours {hours:g} is not a session length", "give more than 0 and at most 168 hours (a week)")
    if not 0 < len(name) <= 100:  # the server's limit, said here: its sign-in route reads at most 16 KB
        raise LawfulError(f"the user name is {len(name):,} characters; a name is 1 to 100", "give your user name")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("password: ")
    c = client.Client(token="")
    got = c.post("/session", {"name": name, "password": password, "code": code, "hours": hours}, auth=False)
    path = client.save_token(got["token"], c.server)
    err.print(f"signed in to {c.server} as {name} for {hours:g} h (token kept in {path}); `lawful logout` ends the "
              "session", highlight=False)


@app.command("logout")
def logout() -> None:
    """End your session: the server revokes the token and this machine forgets it."""
    from lawful import client

    c = client.connect()
    if not c.token:
        raise LawfulError("you are not signed in to this server", "there is no session to end")
    c.delete("/session")
    client.save_token(None, c.server)
    out.print("Signed out: the token is revoked.")


@app.command("whoami")
def whoami(as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False) -> None:
    """Who the server says you are: your name, roles and clearance."""
    from lawful import client

    me = client.connect().get("/me")
    if as_json:
        print(json.dumps(me))
        return
    out.print(f"{me['name']}: {', '.join(me['roles'])}; clearance {me['clearance']}", highlight=False)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # Typer turns Ctrl-C inside a command into a returned 130
    except LawfulError as exc:  # the server has recorded any refusal; the client only says it
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)  # messages quote [brackets] as text
        sys.exit(2)
    except OSError as exc:  # a path the user gave that this machine cannot write or read (/proc, a full disk)
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        err.print(f"[bold red]error:[/] {escape(exc.strerror or str(exc))}{escape(where)}. Fix: give a path you can "
                  "write to, on a disk with free space.", highlight=False)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        code = INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        exc.show()
        sys.exit(2)
    if code == INTERRUPTED:
        err.print("[bold red]interrupted:[/] stopped here. A request the server had not answered was either done "
                  "whole or not at all (each is one transaction); a job it had started goes on there.")
    if isinstance(code, int) and code:
        sys.exit(code)


# ---- ingest ---------------------------------------------------------------------------------------------------
@ingest_app.command("file", hidden=True)
def ingest_file_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or GeoJSON file to load.")],
    mapping: Annotated[Path, typer.Option("--mapping", "-m", help="TOML mapping: columns -> fields, time zone, CRS, "
                                          "classification, kept extras. See examples/mappings/toronto-mci.toml.")],
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad row and write nothing.")] = False,
    purpose: Annotated[str, typer.Option(help="Why you are loading (the policy checks it).")] = "crime analysis",
    as_json: Annotated[bool, typer.Option("--json", help="The load summary as JSON.")] = False,
) -> None:
    """Load FILE through MAPPING: both are uploaded to the server, which loads them as one transaction. Bad rows
    are quarantined (or, with --strict, the whole load is refused); rows already stored are skipped, so loading
    the same file twice adds nothing."""
    from lawful import client

    for path, what in ((file, "file"), (mapping, "mapping")):
        if not path.is_file():
            raise LawfulError(f"{path}: no such file" if not path.exists() else f"{path} is not a regular file",
                              f"give the path of the {what} to load")
    c = client.connect()
    with open(file, "rb") as data, open(mapping, "rb") as m, _Reporter() as progress:
        job = c.request("POST", "/incidents/loads", files={"file": (file.name, data), "mapping": (mapping.name, m)},
                        data={"strict": str(strict).lower(), "purpose": purpose}).json()
        summary = c.wait(job, progress)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    _print_load(_View(summary))


class _View:
    """A JSON object read back as attributes, for the printers shared with the demo."""

    def __init__(self, d: dict):
        self.__dict__.update(d)


@ingest_app.command("quarantine")
def ingest_quarantine(
    load: Annotated[Optional[int], typer.Option("--load", help="Only this load (its number is in the summary).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="The rows as JSON.")] = False,
) -> None:
    """List rows that loads refused, with file, row number, field, value and reason."""
    from lawful import client

    rows = client.connect().get("/incidents/quarantine", load=load, limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("No quarantined rows." if load is None else f"No quarantined rows for load {load}.")
        return
    table = Table("load", "file", "row", "field", "value", "reason")
    for r in rows:
        table.add_row(str(r["load_id"]), r["file_name"], str(r["row_number"]), r["field"], r["value"] or "",
                      r["reason"])
    out.print(table)


def _print_load(s) -> None:
    out.print(f"[bold]{s.file}[/] -> source {s.source!r} (load {s.load_id}): {s.rows_read:,} rows read, "
              f"[green]{s.inserted:,} new[/], {s.already_present:,} already stored, "
              f"[{'red' if s.quarantined_rows else 'green'}]{s.quarantined_rows:,} quarantined[/]", highlight=False)
    if s.dropped_columns:
        out.print(f"  dropped (not declared in the mapping): {', '.join(s.dropped_columns)}", highlight=False)
    if s.kept_extras:
        out.print(f"  extra fields kept: {', '.join(s.kept_extras)}", highlight=False)
    for field, reason, n, first in s.problem_counts[:8]:
        out.print(f"  {n:,} x {field}: {reason} (first at row {first})", highlight=False)
    if s.quarantined_rows:
        out.print(f"  list them with: lawful ingest quarantine --load {s.load_id}", highlight=False)
    for note in s.notes:
        out.print(f"  note: {note}", highlight=False)


# ---- datasets -------------------------------------------------------------------------------------------------
@datasets_app.command("list")
def datasets_list() -> None:
    """Show the bundled datasets."""
    from lawful.incidents.datasets import DATASETS

    for name, text in DATASETS.items():
        out.print(f"[bold]{name}[/]: {text}")


@datasets_app.command("load")
def datasets_load(name: Annotated[str, typer.Argument(help="Dataset name; see `lawful datasets list`.")]) -> None:
    """Load a bundled dataset into the store through the server (idempotent: a second load adds nothing)."""
    from lawful import client

    c = client.connect()
    with _Reporter() as progress:
        summary = c.wait(c.post(f"/datasets/{name}/load"), progress)
    _print_dataset(summary)


def _print_dataset(summary: dict) -> None:
    for load in summary["loads"]:
        _print_load(_View(load))
    out.print("[bold]Known quirks of this dataset[/]")
    for q in summary["quirks"]:
        out.print(f"  - {q}", highlight=False)


# ---- incidents ------------------------------------------------------------------------------------------------
@incidents_app.command("stats")
def incidents_stats(as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
                    purpose: Annotated[str, typer.Option(help="Why you are reading (the policy checks it).")]
                    = "crime analysis") -> None:
    """Counts by year and category, and the date range and bounds of what is stored."""
    from lawful import client

    stats = client.connect().get("/incidents/stats", purpose=purpose)
    if as_json:
        print(json.dumps(stats, indent=2))
        return
    _print_stats(_StatsView.of(stats))


@incidents_app.command("show")
def incidents_show(incident_id: Annotated[int, typer.Argument(help="The incident's id (from `lawful incidents list`).")],
                   as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
                   purpose: Annotated[str, typer.Option(help="Why you are reading (the policy checks it).")]
                   = "crime analysis") -> None:
    """One stored incident: when (local time), what, where (lon/lat, its 200 m cell, its neighbourhood), where it
    came from and the extra fields kept for it (personal ones only as pseudonyms). Needs incidents.read at its
    classification; on the trail.

    Example: lawful incidents show 1234
    """
    from lawful import client

    i = client.connect().get(f"/incidents/{incident_id}", purpose=purpose)
    if as_json:
        print(json.dumps(i, indent=2))
        return
    rows = [("occurred", f"{i['occurred_local']} {i['time_zone']} ({i['occurred_at']} UTC)"),
            ("category", i["category"]), ("neighbourhood", i["neighbourhood"] or "unknown"),
            ("premises", i["premises"] or "-"), ("where", f"{i['lat']:.6f}, {i['lon']:.6f} (lat, lon); cell {i['cell_id']}"),
            ("reported", i["reported_at"] or "-"), ("classification", i["classification"]),
            ("source", f"{i['source']} record {i['source_key']} (load {i['load']})"),
            *((f"  {k}", str(v)) for k, v in sorted(i["attributes"].items()))]
    out.print(f"[bold]Incident {i['id']}[/]", highlight=False)
    for k, v in rows:
        out.print(f"  {k:<15} {escape(str(v))}", highlight=False)


def _near(text: str | None) -> tuple[float | None, float | None]:
    import math

    if text is None:
        return None, None
    try:
        lon, lat = (float(p) for p in text.split(","))
    except ValueError:
        lon = lat = math.nan
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise LawfulError(f"--near {text!r} is not a point", "write it as lon,lat in degrees, e.g. --near -79.38,43.65")
    return lon, lat


@incidents_app.command("list")
def incidents_list(
    cell: Annotated[Optional[str], typer.Option(help="A cell id as forecasts print it, e.g. 200m:3047:24135.")] = None,
    near: Annotated[Optional[str], typer.Option(help="A point as lon,lat (degrees), e.g. -79.38,43.65.")] = None,
    radius: Annotated[Optional[float], typer.Option(help="Metres around --near (default 200, at most 5000).")] = None,
    neighbourhood: Annotated[Optional[str], typer.Option(help="A neighbourhood as stored (forecasts print it).")] = None,
    from_: Annotated[Optional[str], typer.Option("--from", help="First local day included, e.g. 2019-12-01.")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last local day included.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Only this category, as stored.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many (newest first).")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object: total, shown and the incidents.")] = False,
    purpose: Annotated[str, typer.Option(help="Why you are reading (the policy checks it).")] = "crime analysis",
) -> None:
    """The incidents behind a place: by cell, by a circle around a point or by neighbourhood, and by dates, newest
    first, each with its time, category, lon/lat, cell and neighbourhood. Needs incidents.read at the highest
    classification among them; on the trail.

    Example: lawful incidents list --cell 200m:3047:24135 --from 2019-12-01 --to 2019-12-23
    """
    from lawful import client
    from lawful.cli_common import _date, _wide

    lon, lat = _near(near)
    params = {"cell": cell, "lon": lon, "lat": lat, "radius": radius, "neighbourhood": neighbourhood,
              "from": _date(from_, "--from").isoformat() if from_ else None,
              "to": _date(to, "--to").isoformat() if to else None, "category": category, "limit": limit,
              "purpose": purpose}
    r = client.connect().get("/incidents", **{k: v for k, v in params.items() if v is not None})
    if as_json:
        print(json.dumps(r, indent=2))
        return
    if not r["total"]:
        err.print(f"No stored incident matches {r['query'] or 'the query'}" + (f"; {r['hint']}" if r["hint"] else "")
                  + ".", highlight=False)
        return
    table = Table("id", "occurred", "category", "neighbourhood", "premises", "cell", "lat, lon",
                  title=f"{r['shown']:,} of {r['total']:,} incidents, newest first ({r['time_zone']} time)",
                  title_justify="left")
    for i in r["incidents"]:
        table.add_row(str(i["id"]), i["occurred_local"], escape(i["category"]), escape(i["neighbourhood"] or "unknown"),
                      escape(i["premises"] or "-"), i["cell_id"], f"{i['lat']:.5f}, {i['lon']:.5f}")
    _wide(130).print(table)
    if r["shown"] < r["total"]:
        out.print(f"{r['total'] - r['shown']:,} more match: narrow the dates or raise --limit.", highlight=False)


class _StatsView:
    """The stats JSON read back into the attributes the table printer uses."""

    @classmethod
    def of(cls, d: dict):
        from datetime import datetime

        v = cls()
        v.total, v.categories, v.sources, v.timezone = d["total"], d["categories"], d["sources"], d["year_time_zone"]
        v.by_year_category = {int(y): c for y, c in d["by_year_category"].items()}
        v.first = datetime.fromisoformat(d["first_occurred_at"]) if d["first_occurred_at"] else None
        v.last = datetime.fromisoformat(d["last_occurred_at"]) if d["last_occurred_at"] else None
        v.bounds_lonlat = d["bounds_lonlat"]
        return v


def _print_stats(stats) -> None:
    if not stats.total:
        out.print("The store holds no incidents yet. Load some with `lawful datasets load toronto-mci` or `lawful ingest`.")
        return
    table = Table("year", *stats.categories, "total", title=f"Incidents by year ({stats.timezone}) and category")
    years = sorted(stats.by_year_category)
    # Late reports of old events leave a long tail of near-empty years: fold them into one row (--json has each).
    main_years = [y for y in years if sum(stats.by_year_category[y].values()) >= 0.01 * stats.total]
    tail = [y for y in years if main_years and y < main_years[0]]
    if len(tail) > 1:
        folded = {c: sum(stats.by_year_category[y].get(c, 0) for y in tail) for c in stats.categories}
        table.add_row(f"{tail[0]}-{tail[-1]}", *(f"{folded[c]:,}" for c in stats.categories), f"{sum(folded.values()):,}",
                      style="dim")
        years = [y for y in years if y not in tail]
    for year in years:
        row = stats.by_year_category[year]
        table.add_row(str(year), *(f"{row.get(c, 0):,}" for c in stats.categories), f"{sum(row.values()):,}")
    totals = [sum(r.get(c, 0) for r in stats.by_year_category.values()) for c in stats.categories]
    table.add_row("all", *(f"{t:,}" for t in totals), f"{stats.total:,}", style="bold")
    out.print(table)
    tz = ZoneInfo(stats.timezone)
    out.print(f"Occurred from {stats.first.astimezone(tz):%Y-%m-%d %H:%M} to {stats.last.astimezone(tz):%Y-%m-%d %H:%M} "
              f"{stats.timezone} time; "
              f"lon {stats.bounds_lonlat[0]:.4f}..{stats.bounds_lonlat[2]:.4f}, "
              f"lat {stats.bounds_lonlat[1]:.4f}..{stats.bounds_lonlat[3]:.4f}; "
              f"sources: {', '.join(f'{k} ({v:,})' for k, v in stats.sources.items())}.", highlight=False)


# ---- demo -----------------------------------------------------------------------------------------------------
@app.command("demo")
def demo() -> None:
    """The main job on the embedded default, through the server: create the store and the demo people, start the
    server on a free loopback port for the run, load the bundled Toronto data, show what is there, backtest the
    forecasting models on December 2019 (report in the data directory), register, approve and use the demo
    forecaster through the governance gate, verify the trail, run the example early-warning rules; then stop the
    server and print the demo accounts' passwords (once) and how to start the server. Runs as the server's account."""
    from lawful import demo as flow

    with _Reporter() as progress:
        flow.run(out, progress)


if __name__ == "__main__":
    main()
