"""`lawful complaints ...`, `lawful register ...` and `lawful audit pack`: the transparency domain as a client of the
server (complaints and appeals the public filed, the identity checks of public subject requests, the public
register itself, and the signed annual audit pack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Column, Table

from lawful.cli_common import out
from lawful.cli_governance import audit_app
from lawful.errors import LawfulError

complaints_app = typer.Typer(no_args_is_help=True, help=(
    "Complaints and appeals filed by the public on the register's form (/public/complaints): the queue with its "
    "statutory deadlines (the server's LAWFUL_COMPLAINT_DAYS, default 30), assignment, links, notes and the "
    "outcome with reasons. DPO and review board."))
register_app = typer.Typer(no_args_is_help=True, help=(
    "The public transparency register (/public) and the subject requests people opened there."))
JsonOut = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]
Ref = Annotated[str, typer.Argument(help="The complaint's reference, e.g. LC-2026-ABC123.")]


def _api():
    from lawful import client

    return client.connect()


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _show(c: dict) -> None:
    flag = " [bold red]OVERDUE[/]" if c["overdue"] else ""
    out.print(f"[bold]{c['kind'].capitalize()} {c['reference']}[/] about {c['system'] or 'no named system'}: "
              f"{c['status']}{flag}; deadline {c['deadline'][:16]}; assigned to {c['assigned_to'] or 'nobody'}",
              highlight=False)
    out.print(f"  {c['what']}", highlight=False, markup=False)
    for ln in c.get("links") or []:
        out.print(f"  linked: {ln['kind']} {ln['ref']}", highlight=False)
    for name, why in (c.get("may_not_decide") or {}).items():
        out.print(f"  may not decide it: {name} ({why})", highlight=False, markup=False)
    for n in c.get("notes") or []:
        who = n["by"] if n["by"] == "the person" else f"{n['by']} ({'to the person' if n['visible'] else 'internal'})"
        out.print(f"  note, {who}, {n['at'][:16]}: {n['text']}", highlight=False, markup=False)
    if c["outcome"]:
        out.print(f"  outcome: {c['outcome']}: {c['reasons']}", highlight=False, markup=False)
        for a in c["actions"]:
            out.print(f"  action: {a['action']} {a.get('model') or a.get('to') or a.get('what') or ''}",
                      highlight=False)


@complaints_app.command("list")
def complaints_list(status: Annotated[Optional[str], typer.Option(
                        help="open, received, assigned or resolved (default: all).")] = None,
                    as_json: JsonOut = False) -> None:
    """The queue: overdue first, then by deadline. The reading is on the trail."""
    rows = _api().get("/complaints", status=status)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No complaints.")
        return
    t = Table(Column("reference", no_wrap=True), "kind", "system", "received", "deadline",
              Column("status", no_wrap=True), "assigned to")
    for r in rows:
        t.add_row(r["reference"], r["kind"], r["system"] or "-", r["received_at"][:10], r["deadline"][:10],
                  "[bold red]overdue[/]" if r["overdue"] else r["status"], r["assigned_to"] or "-")
    out.print(t)


@complaints_app.command("show")
def complaints_show(reference: Ref, as_json: JsonOut = False) -> None:
    """One complaint with its notes, links, outcome and actions."""
    c = _api().get(f"/complaints/{reference}")
    _print_json(c) if as_json else _show(c)


@complaints_app.command("assign")
def complaints_assign(reference: Ref, to: Annotated[str, typer.Option(help="Who handles it (the DPO or a "
                                                                             "member of the review board).")]) -> None:
    """Assign a complaint to the person who handles it."""
    _show(_api().post(f"/complaints/{reference}/assign", {"to": to}))


@complaints_app.command("link")
def complaints_link(reference: Ref,
                    kind: Annotated[str, typer.Argument(help="output, alert, decision, model, subject-request or "
                                                        "complaint (an appeal's).")],
                    ref: Annotated[str, typer.Argument(help="Its number, or NAME[:VERSION] for a model.")]) -> None:
    """Link a complaint to what it is about (it must exist): `lawful complaints link LC-2026-ABC123 model
    toronto-bne-forecaster`."""
    _show(_api().post(f"/complaints/{reference}/links", {"kind": kind, "ref": ref}))


@complaints_app.command("note")
def complaints_note(reference: Ref, text: Annotated[str, typer.Argument(help="The note.")],
                    to_person: Annotated[bool, typer.Option("--to-person", help=(
                        "Show it to the person on their tracking page (otherwise internal).")) ] = False) -> None:
    """A message to the person, or an internal note."""
    _show(_api().post(f"/complaints/{reference}/notes", {"text": text, "to_person": to_person}))


@complaints_app.command("resolve")
def complaints_resolve(reference: Ref,
                       outcome: Annotated[str, typer.Option(help="upheld, partly-upheld or not-upheld.")],
                       reasons: Annotated[str, typer.Option(help="Why; the person reads them.")],
                       suspend: Annotated[Optional[list[str]], typer.Option(help=(
                           "Upheld: suspend this model (NAME:VERSION; repeat for more).")) ] = None,
                       correct: Annotated[str, typer.Option(help="Upheld: the data correction to make.")] = "",
                       notify: Annotated[str, typer.Option(help="Who was notified.")] = "") -> None:
    """Record the outcome with its reasons; upheld, suspend models (the circuit breaker, on the trail in your
    name), record a correction and who was notified."""
    _show(_api().post(f"/complaints/{reference}/outcome", {"outcome": outcome, "reasons": reasons,
                                                           "suspend": suspend or [], "correct": correct,
                                                           "notify": notify}))


@register_app.command("show")
def register_show(as_json: JsonOut = False) -> None:
    """The public register as anyone sees it (GET /public/register.json; no sign-in needed)."""
    c = _api()
    try:
        r = c.http.get("/public/register.json")
    except Exception as exc:  # noqa: BLE001 - the same message as any other request that cannot reach the server
        raise LawfulError(f"cannot reach the Lawful server at {c.server} ({type(exc).__name__})",
                          "start it with `lawful serve`, or set LAWFUL_SERVER") from None
    reg = r.json()
    if as_json:
        _print_json(reg)
        return
    t = Table(Column("system", no_wrap=True), Column("state", no_wrap=True), "purpose", "PAI (backtest)",
              "misplaced", "complaints")
    for rec in reg["records"]:
        head = rec["tier2"]["accuracy"]["headline"] or {}
        ex = rec["tier2"]["exposure"] or {}
        t.add_row(rec["id"], rec["state"], rec["tier1"]["purpose"][:60],
                  f"{head['pai']:.2f}" if head else "-", f"{ex['misplaced']:.1%}" if ex else "-",
                  str(rec["tier2"]["complaints"]["received"]))
    out.print(t)


@register_app.command("requests")
def register_requests(as_json: JsonOut = False) -> None:
    """Subject requests opened on the public form, with their identity checks (DPO). Answer them with
    `lawful requests ...` once the identity is verified."""
    rows = _api().get("/public-requests")
    if as_json:
        _print_json(rows)
        return
    t = Table(Column("reference", no_wrap=True), "request", "kind", "identity", "deadline", "status")
    for r in rows:
        q = r["request"]
        t.add_row(r["reference"], str(q["id"]), q["kind"], r["identity"], q["deadline"][:10],
                  "[bold red]overdue[/]" if q["overdue"] else q["status"])
    out.print(t)


@register_app.command("identity")
def register_identity(reference: Annotated[str, typer.Argument(help="The request's reference, LR-....")],
                      verified: Annotated[bool, typer.Option("--verified/--refused", help=(
                          "The identity check's result."))],
                      note: Annotated[str, typer.Option(help="How it was checked (the person reads it).")]) -> None:
    """Record the agency's identity check of a public subject request."""
    r = _api().post(f"/public-requests/{reference}/identity",
                    {"state": "verified" if verified else "refused", "note": note})
    out.print(f"{r['reference']}: identity {r['identity']} (request {r['request']['id']}, {r['request']['status']})",
              highlight=False)


@audit_app.command("pack")
def audit_pack(year: Annotated[int, typer.Option(min=2000, max=2100, help="The calendar year (UTC).")],
               output: Annotated[Path, typer.Option("-o", "--output", help="The zip to write (must not exist).")]
               ) -> None:
    """The annual audit pack: the register as it stood, cards and approvals, monitoring, serious incidents,
    complaints, subject requests, breaches and the trail export with its verification, signed with the trail's
    key. Check it offline: unzip, then `python check_pack.py --public-key trail-public-key.pem --witness heads.jsonl`
    (both from the register's /public/trail page). DPO, auditor."""
    if output.exists():
        raise LawfulError(f"{output} exists already", "give a new file name with -o")
    data = _api().request("POST", "/audit-pack", params={"year": year}).content
    output.write_bytes(data)
    out.print(f"Wrote {output} ({len(data):,} bytes). Check it offline: unzip it, then run `python check_pack.py "
              "--public-key trail-public-key.pem --witness heads.jsonl` inside (both from the register's "
              "/public/trail page).",
              highlight=False)
