"""`lawful requests ...` and `lawful breaches ...`: data-subject requests with deadlines and the breach register, as
clients of the server's /api/v1/privacy endpoints. An access export is written here, by the client, from the
server's answer."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _instant, out
from lawful.errors import LawfulError

requests_app = typer.Typer(no_args_is_help=True, help=(
    "Data-subject requests (access, correction, deletion) with a statutory deadline (the server's "
    "LAWFUL_REQUEST_DAYS, default 30). Only the requester's pseudonym is stored."))
JsonOut = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]
EXPORT_FILES = ("records.json", "trail.json", "casefiles.json", "withheld.json")  # the only names an export may write


def _api():
    from lawful import client

    return client.connect()


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _t(text: str | None):
    return datetime.fromisoformat(text) if text else None


@requests_app.command("open")
def open_cmd(kind: Annotated[str, typer.Option(help="access, correction or deletion")],
             field: Annotated[str, typer.Option(help="The pseudonymised field identifying the person, e.g. "
                                                     "victim_name.")],
             value: Annotated[str, typer.Option(help="The identity as the records hold it (checked out of band).")],
             received: Annotated[Optional[str], typer.Option(help="When it was received (ISO date); default now.")] = None,
             note: Annotated[str, typer.Option(help="Anything staff should know.")] = "") -> None:
    """Register a request; the deadline runs from when it was received."""
    when = _instant(received, "--received").isoformat() if received else None
    req = _api().post("/privacy/requests", {"kind": kind, "field": field, "value": value, "received_at": when,
                                            "note": note})
    out.print(f"Request {req['id']} ({kind}) opened; answer by {_t(req['deadline']):%Y-%m-%d}.")


@requests_app.command("list")
def list_cmd(as_json: JsonOut = False) -> None:
    """Every request with its deadline; overdue open ones are flagged."""
    rows = _api().get("/privacy/requests")
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No data-subject requests.")
        return
    table = Table("id", "kind", "field", "received", "deadline", "status", "result")
    for r in rows:
        result = r["result"]
        table.add_row(str(r["id"]), r["kind"], r["field"], f"{_t(r['received_at']):%Y-%m-%d}",
                      f"{_t(r['deadline']):%Y-%m-%d}", "[bold red]OVERDUE[/]" if r["overdue"] else r["status"],
                      "" if result is None else str(result.get("outcome") or result))
    out.print(table)
    overdue = sum(r["overdue"] for r in rows)
    if overdue:
        out.print(f"[bold red]{overdue} request(s) are past their deadline.[/]")
    unmatched = [str(r["id"]) for r in rows if r["no_records_matched"]]
    if unmatched:
        out.print(f"[bold yellow]Closed with no records matched:[/] request(s) {', '.join(unmatched)}.",
                  highlight=False)


def _writable(directory: Path) -> None:
    """Refuse before asking the server (which closes the request when it answers) if the export cannot go here."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise LawfulError(f"{directory} is not a new or empty directory", "give a new or empty directory")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise LawfulError(f"cannot create {directory} ({exc.strerror or exc})",
                          "give a directory you can write") from None
    if not os.access(directory, os.W_OK):
        raise LawfulError(f"cannot write into {directory}", "give a directory you can write")


@requests_app.command("export")
def export_cmd(request_id: int, directory: Annotated[Path, typer.Argument(help="A new or empty directory.")]) -> None:
    """Answer an access request: every record linked to the person and every trail entry about them, written into
    DIRECTORY as records.json, trail.json, casefiles.json (the case-file statements that name them) and, when
    something was withheld, withheld.json."""
    _writable(directory)
    e = _api().post(f"/privacy/requests/{request_id}/export")
    for name, content in e["files"].items():
        if name not in EXPORT_FILES:  # the server names files; only the export's own names are written
            raise LawfulError(f"the server's export names an unexpected file {name!r}; nothing more was written",
                              "tell the operator; the request is closed and the disclosure is on the trail")
        (directory / name).write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    records, entries, withheld = e["records"], e["trail_entries"], e["withheld"]
    out.print(f"Wrote {records} record(s) and {entries} trail entr{'y' if entries == 1 else 'ies'} "
              f"to {directory}; request {request_id} is done and the disclosure is on the trail.", highlight=False)
    if withheld:
        out.print(f"Withheld {withheld} trail entr{'y' if withheld == 1 else 'ies'} of an ongoing investigation "
                  "(Law Enforcement Directive Art. 15); withheld.json tells the person so, and on what ground, "
                  "without their content.", highlight=False)
    if not records:
        out.print("[bold yellow]No records matched[/] that identity: the request is closed as "
                  "'no records matched'. Check the field and the identity if the person expected records.",
                  highlight=False)


@requests_app.command("delete")
def delete_cmd(request_id: int) -> None:
    """Answer a deletion request: remove the person's records, except those under a legal hold (named)."""
    d = _api().post(f"/privacy/requests/{request_id}/deletion")
    if not d["matched"]:
        out.print(f"[bold yellow]No records matched[/]: nothing was removed, and request {request_id} is closed as "
                  "'no records matched'. Check the field and the identity if the person expected records.",
                  highlight=False)
        return
    kept = d["kept_for_holds"]
    out.print(f"Removed {d['removed']} of {d['matched']} matching record(s)." + (
        f" Kept under legal holds, as the law requires: incidents {', '.join(map(str, kept))}."
        if kept else ""), highlight=False)


@requests_app.command("correct")
def correct_cmd(request_id: int,
                incident: Annotated[int, typer.Option(help="The record to correct (from the access export).")],
                field: Annotated[str, typer.Option(help="category, area or premises")],
                value: Annotated[str, typer.Option(help="The corrected value.")]) -> None:
    """Answer a correction request: set one field of one of the person's records (an alteration on the trail)."""
    _api().post(f"/privacy/requests/{request_id}/correction", {"incident": incident, "field": field, "value": value})
    out.print(f"Incident {incident}: {field} corrected; request {request_id} is done.")


breaches_app = typer.Typer(no_args_is_help=True, help=(
    "The breach register: what a suspected breach touched, computed from the trail, and the deadline to notify the "
    "supervisory authority (72 h from awareness; the server's LAWFUL_BREACH_HOURS)."))


@breaches_app.command("record")
def breach_record(description: Annotated[str, typer.Option(help="What is suspected.")],
                  start: Annotated[str, typer.Option("--from", help="Start of the window to examine (ISO time).")],
                  end: Annotated[str, typer.Option("--to", help="End of the window (ISO time).")],
                  suspect: Annotated[Optional[str], typer.Option(help="Whose activity is suspected, if known.")] = None,
                  aware_at: Annotated[Optional[str], typer.Option(help="When you became aware; default now.")] = None
                  ) -> None:
    """Record a suspected breach: prints what data and whom it touched, and the notification deadline."""
    b = _api().post("/privacy/breaches", {
        "description": description, "start": _instant(start, "--from").isoformat(),
        "end": _instant(end, "--to").isoformat(), "suspect": suspect,
        "aware_at": _instant(aware_at, "--aware-at").isoformat() if aware_at else None})
    a = b["affected"]
    out.print(f"Breach {b['id']} recorded; notify the supervisory authority by {_t(b['deadline']):%Y-%m-%d %H:%M} UTC.",
              highlight=False)
    out.print(f"  From the trail: {sum(a['actions'].values())} data action(s) and disclosure(s) "
              f"({', '.join(f'{k} {v}' for k, v in sorted(a['actions'].items())) or 'none'}) by "
              f"{', '.join(sorted(a['actors'])) or 'nobody'}; {len(a['objects'])} object(s) touched; "
              f"{len(a['people'])} pseudonymised person(s) involved.", highlight=False)


@breaches_app.command("list")
def breach_list(as_json: JsonOut = False) -> None:
    """Every breach with its deadline; unnotified ones past it are flagged."""
    rows = _api().get("/privacy/breaches")
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No breaches recorded.")
        return
    table = Table("id", "description", "notify by", "notified", "people", "objects")
    for b in rows:
        table.add_row(str(b["id"]), b["description"], f"{_t(b['deadline']):%Y-%m-%d %H:%M}",
                      b["notified_to"] or ("[bold red]OVERDUE[/]" if b["overdue"] else "not yet"),
                      str(len(b["affected"]["people"])), str(len(b["affected"]["objects"])))
    out.print(table)


@breaches_app.command("notified")
def breach_notified(breach_id: int, to: Annotated[str, typer.Option(help="The authority notified.")]) -> None:
    """Mark a breach as notified."""
    _api().post(f"/privacy/breaches/{breach_id}/notified", {"to": to})
    out.print(f"Breach {breach_id} marked as notified to {to}.")
