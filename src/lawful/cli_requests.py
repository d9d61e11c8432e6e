"""`lawful requests ...`: data-subject access, correction and deletion requests, with deadlines."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _instant, _session, _who, out

requests_app = typer.Typer(no_args_is_help=True, help=(
    "Data-subject requests (access, correction, deletion) with a statutory deadline (LAWFUL_REQUEST_DAYS, default "
    "30). Only the requester's pseudonym is stored."))
As = Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER")]


@requests_app.command("open")
def open_cmd(kind: Annotated[str, typer.Option(help="access, correction or deletion")],
             field: Annotated[str, typer.Option(help="The pseudonymised field identifying the person, e.g. "
                                                     "victim_name.")],
             value: Annotated[str, typer.Option(help="The identity as the records hold it (checked out of band).")],
             received: Annotated[Optional[str], typer.Option(help="When it was received (ISO date); default now.")] = None,
             note: Annotated[str, typer.Option(help="Anything staff should know.")] = "",
             actor: As = None) -> None:
    """Register a request; the deadline runs from when it was received."""
    from lawful.privacy.requests import open_request

    when = _instant(received, "--received") if received else None
    with _session() as (session, settings):
        req = open_request(session, actor=_who(session, actor), kind=kind, field=field, value=value,
                           settings=settings, received_at=when, note=note)
        msg = f"Request {req.id} ({kind}) opened; answer by {req.deadline:%Y-%m-%d}."
    out.print(msg)


@requests_app.command("list")
def list_cmd() -> None:
    """Every request with its deadline; overdue open ones are flagged."""
    from lawful.privacy.requests import get_all

    now = datetime.now(timezone.utc)
    with _session(readonly=True) as (session, _):
        rows = [(r.id, r.kind, r.field, r.received_at, r.deadline, r.status, r.result) for r in get_all(session)]
    if not rows:
        out.print("No data-subject requests.")
        return
    table = Table("id", "kind", "field", "received", "deadline", "status", "result")
    overdue = 0
    for i, kind, field, rec, dl, status, result in rows:
        late = status == "open" and dl < now
        overdue += late
        table.add_row(str(i), kind, field, f"{rec:%Y-%m-%d}", f"{dl:%Y-%m-%d}",
                      "[bold red]OVERDUE[/]" if late else status,
                      "" if result is None else str(result.get("outcome") or result))
    out.print(table)
    if overdue:
        out.print(f"[bold red]{overdue} request(s) are past their deadline.[/]")
    unmatched = [str(r[0]) for r in rows if r[6] and r[6].get("outcome") == "no records matched"]
    if unmatched:
        out.print(f"[bold yellow]Closed with no records matched:[/] request(s) {', '.join(unmatched)}.",
                  highlight=False)


@requests_app.command("export")
def export_cmd(request_id: int, directory: Annotated[Path, typer.Argument(help="A new or empty directory.")],
               actor: As = None) -> None:
    """Answer an access request: every record linked to the person and every trail entry about them."""
    from lawful.privacy.requests import answer_access

    with _session() as (session, _):
        e = answer_access(session, actor=_who(session, actor), request_id=request_id, out_dir=directory)
    out.print(f"Wrote {e.records} record(s) and {e.trail_entries} trail entr{'y' if e.trail_entries == 1 else 'ies'} "
              f"to {e.path}; request {request_id} is done and the disclosure is on the trail.", highlight=False)
    if e.withheld:
        out.print(f"Withheld {e.withheld} trail entr{'y' if e.withheld == 1 else 'ies'} of an ongoing investigation "
                  "(Law Enforcement Directive Art. 15); withheld.json tells the person so, and on what ground, "
                  "without their content.", highlight=False)
    if not e.records:
        out.print("[bold yellow]No records matched[/] that identity: the request is closed as "
                  "'no records matched'. Check the field and the identity if the person expected records.",
                  highlight=False)


@requests_app.command("delete")
def delete_cmd(request_id: int, actor: As = None) -> None:
    """Answer a deletion request: remove the person's records, except those under a legal hold (named)."""
    from lawful.privacy.requests import answer_deletion

    with _session() as (session, _):
        d = answer_deletion(session, actor=_who(session, actor), request_id=request_id)
    if not d.matched:
        out.print(f"[bold yellow]No records matched[/]: nothing was removed, and request {request_id} is closed as "
                  "'no records matched'. Check the field and the identity if the person expected records.",
                  highlight=False)
        return
    out.print(f"Removed {d.removed} of {d.matched} matching record(s)." + (
        f" Kept under legal holds, as the law requires: incidents {', '.join(map(str, d.kept_for_holds))}."
        if d.kept_for_holds else ""), highlight=False)


@requests_app.command("correct")
def correct_cmd(request_id: int,
                incident: Annotated[int, typer.Option(help="The record to correct (from the access export).")],
                field: Annotated[str, typer.Option(help="category, area or premises")],
                value: Annotated[str, typer.Option(help="The corrected value.")],
                actor: As = None) -> None:
    """Answer a correction request: set one field of one of the person's records (an alteration on the trail)."""
    from lawful.privacy.requests import answer_correction

    with _session() as (session, _):
        answer_correction(session, actor=_who(session, actor), request_id=request_id, incident_id=incident,
                          field=field, value=value)
    out.print(f"Incident {incident}: {field} corrected; request {request_id} is done.")


breaches_app = typer.Typer(no_args_is_help=True, help=(
    "The breach register: what a suspected breach touched, computed from the trail, and the deadline to notify the "
    "supervisory authority (72 h from awareness; LAWFUL_BREACH_HOURS)."))


@breaches_app.command("record")
def breach_record(description: Annotated[str, typer.Option(help="What is suspected.")],
                  start: Annotated[str, typer.Option("--from", help="Start of the window to examine (ISO time).")],
                  end: Annotated[str, typer.Option("--to", help="End of the window (ISO time).")],
                  suspect: Annotated[Optional[str], typer.Option(help="Whose activity is suspected, if known.")] = None,
                  aware_at: Annotated[Optional[str], typer.Option(help="When you became aware; default now.")] = None,
                  actor: As = None) -> None:
    """Record a suspected breach: prints what data and whom it touched, and the notification deadline."""
    from lawful.privacy.breaches import record

    with _session() as (session, _):
        b = record(session, actor=_who(session, actor), description=description, start=_instant(start, "--from"),
                   end=_instant(end, "--to"), suspect=suspect,
                   aware_at=_instant(aware_at, "--aware-at") if aware_at else None)
        a, bid, deadline = b.affected, b.id, b.deadline
    out.print(f"Breach {bid} recorded; notify the supervisory authority by {deadline:%Y-%m-%d %H:%M} UTC.",
              highlight=False)
    out.print(f"  From the trail: {sum(a['actions'].values())} data action(s) and disclosure(s) "
              f"({', '.join(f'{k} {v}' for k, v in sorted(a['actions'].items())) or 'none'}) by "
              f"{', '.join(sorted(a['actors'])) or 'nobody'}; {len(a['objects'])} object(s) touched; "
              f"{len(a['people'])} pseudonymised person(s) involved.", highlight=False)


@breaches_app.command("list")
def breach_list() -> None:
    """Every breach with its deadline; unnotified ones past it are flagged."""
    from lawful.privacy.breaches import get_all

    now = datetime.now(timezone.utc)
    with _session(readonly=True) as (session, _):
        rows = [(b.id, b.description, b.deadline, b.notified_to, len(b.affected["people"]), len(b.affected["objects"]))
                for b in get_all(session)]
    if not rows:
        out.print("No breaches recorded.")
        return
    table = Table("id", "description", "notify by", "notified", "people", "objects")
    for i, d, dl, to, people, objs in rows:
        table.add_row(str(i), d, f"{dl:%Y-%m-%d %H:%M}", to or ("[bold red]OVERDUE[/]" if dl < now else "not yet"),
                      str(people), str(objs))
    out.print(table)


@breaches_app.command("notified")
def breach_notified(breach_id: int, to: Annotated[str, typer.Option(help="The authority notified.")],
                    actor: As = None) -> None:
    """Mark a breach as notified."""
    from lawful.privacy.breaches import mark_notified

    with _session() as (session, _):
        mark_notified(session, actor=_who(session, actor), breach_id=breach_id, to=to)
    out.print(f"Breach {breach_id} marked as notified to {to}.")
