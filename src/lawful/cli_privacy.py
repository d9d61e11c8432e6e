"""`lawful privacy ...`: governed re-identification, retention, legal holds, the purge and the minimisation report,
as clients of the server's /api/v1/privacy endpoints (pseudonyms are made at load time by the mapping)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _instant, out
from lawful.errors import LawfulError

privacy_app = typer.Typer(no_args_is_help=True, help=(
    "Data protection. Personal identifiers listed under [extra] pseudonymise in a mapping are stored only as keyed "
    "pseudonyms (HMAC-SHA256; the key is the server's, apart from the database)."))

JsonOut = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]


def _api():
    from lawful import client

    return client.connect()


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _day(text: str | None) -> str:
    return f"{datetime.fromisoformat(text):%Y-%m-%d}" if text else ""


@privacy_app.command("reidentify")
def reidentify_cmd(field: Annotated[str, typer.Option(help="The pseudonymised field, e.g. victim_name.")],
                   value: Annotated[str, typer.Option(help="The identity you already know, e.g. a name.")],
                   purpose: Annotated[str, typer.Option(help="Why, e.g. 'investigation 2026-0412'.")],
                   as_json: JsonOut = False) -> None:
    """Find the records of one known person. Needs the incidents.reidentify permission (supervisors, for an
    investigation, in the shipped policy); each use is on the trail with its purpose."""
    matches = _api().post("/privacy/reidentify", {"field": field, "value": value, "purpose": purpose})
    if as_json:
        _print_json(matches)
        return
    if not matches:
        out.print(f"No record carries that {field}. The search is on the trail.")
        return
    table = Table("incident", "source", "category", "occurred (UTC)", "area")
    for m in matches:
        table.add_row(str(m["id"]), m["source"], m["category"], f"{datetime.fromisoformat(m['occurred_at']):%Y-%m-%d %H:%M}",
                      m["area"] or "")
    out.print(table)
    out.print(f"{len(matches)} record(s). The search and its purpose are on the trail.")


@privacy_app.command("retention")
def retention_cmd(as_json: JsonOut = False) -> None:
    """What each source keeps, per category and classification: records, expired, held by legal holds, next expiry.
    For the data-protection officer; the reading is on the trail."""
    r = _api().get("/privacy/retention")
    if as_json:
        _print_json(r)
        return
    table = Table("source", "category", "classification", "records", "expired", "held", "next expiry")
    for row in r["rows"]:
        table.add_row(row["source"], row["category"], row["classification"], f"{row['records']:,}",
                      f"{row['expired']:,}", f"{row['held']:,}", _day(row["next_expiry"]))
    out.print(table)
    holds = r["holds"]
    out.print(f"{len(holds)} active legal hold(s)" + (":" if holds else "."), highlight=False)
    for h in holds:
        out.print(f"  hold {h['id']}: {h['category'] or 'every category'}, {h['area'] or 'every area'}, "
                  f"{_day(h['occurred_from'])} to {_day(h['occurred_to'])}: {h['reason']}", highlight=False)


@privacy_app.command("purge")
def purge_cmd(purpose: Annotated[str, typer.Option(help="Why, e.g. 'retention'.")] = "retention",
              dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
              as_json: JsonOut = False) -> None:
    """Remove every record past its retention date that no legal hold covers, and nothing else. The trail keeps a
    tombstone (how many, which categories, a digest of the ids), never the content."""
    r = _api().post("/privacy/purge", {"purpose": purpose, "dry_run": dry_run})
    if as_json:
        _print_json(r)
        return
    verb = "would remove" if dry_run else "removed"
    by = r["by_category"]
    out.print(f"Purge {verb} {r['removed']:,} expired record(s)"
              + (f" ({', '.join(f'{k}: {v:,}' for k, v in sorted(by.items()))})" if by else "")
              + f"; {r['kept_for_holds']:,} expired record(s) kept under legal holds.", highlight=False)


@privacy_app.command("hold")
def hold_cmd(reason: Annotated[Optional[str], typer.Option(help="The case, complaint or request it serves.")] = None,
             start: Annotated[Optional[str], typer.Option("--from", help="Records that occurred from this date...")] = None,
             end: Annotated[Optional[str], typer.Option("--to", help="...until before this date.")] = None,
             category: Annotated[Optional[str], typer.Option(help="Only this category.")] = None,
             area: Annotated[Optional[str], typer.Option(help="Only this area code.")] = None,
             release: Annotated[Optional[int], typer.Option(help="Release hold ID instead.")] = None) -> None:
    """Place a legal hold (records it covers are never purged) or release one with --release ID."""
    if release is not None:
        _api().post(f"/privacy/holds/{release}/release")
        out.print(f"Legal hold {release} released.")
        return
    if not (reason and start and end):
        raise LawfulError("a hold needs --reason, --from and --to", "or give --release ID to end one")
    h = _api().post("/privacy/holds", {"reason": reason, "occurred_from": _instant(start, "--from").isoformat(),
                                       "occurred_to": _instant(end, "--to").isoformat(), "category": category,
                                       "area": area})
    out.print(f"Legal hold {h['id']} placed.")


@privacy_app.command("fields")
def fields_cmd(mapping: Annotated[Optional[list[Path]], typer.Option(
                   "--mapping", "-m", help="A mapping a source was loaded with (repeat for several sources): read "
                   "here and sent to the server, which matches it to the loads by its source name.")] = None,
               as_json: JsonOut = False) -> None:
    """Minimisation report: per source, the fields kept, pseudonymised and dropped, the declared purposes, and the
    retention (from the mappings you give; a bundled dataset's mapping is the server's own)."""
    from lawful.limits import CONFIG_BYTES, read_text

    docs = [{"name": p.name, "text": read_text(p, what="a mapping (TOML)", limit=CONFIG_BYTES,
                                              fix="give --mapping the path to the mapping the source was loaded with")}
            for p in mapping or []]
    rows = _api().post("/privacy/fields", {"mappings": docs})
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("Nothing has been loaded.")
        return
    for r in rows:
        if r["mapping"] is None:
            out.print(f"[bold]{r['source']}[/] ({r['records']:,} records; its mapping was not given: add "
                      "--mapping FILE for its purposes, fields and retention)", highlight=False)
            out.print(f"  dropped at load (not declared): {', '.join(r['dropped']) or 'none'}", highlight=False)
            continue
        out.print(f"[bold]{r['source']}[/] ({r['records']:,} records; mapping {r['mapping']})", highlight=False)
        purposes = ", ".join(r["purposes"]) or "NONE DECLARED: add purposes under the mapping's source table"
        out.print(f"  declared purposes: {purposes}", highlight=False)
        out.print(f"  fields kept: {', '.join(r['fields']) or '-'}", highlight=False)
        out.print(f"  extra fields kept: {', '.join(r['kept_extras']) or 'none'}; pseudonymised: "
                  f"{', '.join(r['pseudonymised']) or 'none'}", highlight=False)
        out.print(f"  dropped at load (not declared): {', '.join(r['dropped']) or 'none'}", highlight=False)
        by_cat = "; ".join(f"{k} {v} days" for k, v in sorted(r["retention_by_category"].items()))
        days = r["retention_days"]
        out.print(f"  kept for: {days or 'no limit set'}" + (" days" if days else "")
                  + (f"; by category: {by_cat}" if by_cat else ""), highlight=False)
