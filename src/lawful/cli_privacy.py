"""`lawful privacy ...`: governed re-identification (pseudonyms are made at load time by the mapping)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _instant, _session, _who, out

privacy_app = typer.Typer(no_args_is_help=True, help=(
    "Data protection. Personal identifiers listed under [extra] pseudonymise in a mapping are stored only as keyed "
    "pseudonyms (HMAC-SHA256; key in LAWFUL_PSEUDONYM_KEY, apart from the database)."))


@privacy_app.command("reidentify")
def reidentify_cmd(field: Annotated[str, typer.Option(help="The pseudonymised field, e.g. victim_name.")],
                   value: Annotated[str, typer.Option(help="The identity you already know, e.g. a name.")],
                   purpose: Annotated[str, typer.Option(help="Why, e.g. 'investigation 2026-0412'.")],
                   actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER")] = None) -> None:
    """Find the records of one known person. Needs the incidents.reidentify permission (supervisors, for an
    investigation, in the shipped policy); each use is on the trail with its purpose."""
    from lawful.privacy.service import reidentify

    with _session() as (session, settings):
        matches = reidentify(session, actor=_who(session, actor), field=field, value=value, purpose=purpose,
                             settings=settings)
    if not matches:
        out.print(f"No record carries that {field}. The search is on the trail.")
        return
    table = Table("incident", "source", "category", "occurred (UTC)", "area")
    for m in matches:
        table.add_row(str(m.id), m.source, m.category, f"{m.occurred_at:%Y-%m-%d %H:%M}", m.area_code or "")
    out.print(table)
    out.print(f"{len(matches)} record(s). The search and its purpose are on the trail.")


@privacy_app.command("retention")
def retention_cmd() -> None:
    """What each source keeps, per category and classification: records, expired, held by legal holds, next expiry."""
    from lawful.privacy.retention import active_holds, report

    with _session(readonly=True) as (session, _):
        rows = report(session)
        holds = active_holds(session)
        held_lines = [f"  hold {h.id}: {h.category or 'every category'}, {h.area or 'every area'}, "
                      f"{h.occurred_from:%Y-%m-%d} to {h.occurred_to:%Y-%m-%d}: {h.reason}" for h in holds]
    table = Table("source", "category", "classification", "records", "expired", "held", "next expiry")
    for r in rows:
        table.add_row(r.source, r.category, r.classification, f"{r.records:,}", f"{r.expired:,}", f"{r.held:,}",
                      f"{r.next_expiry:%Y-%m-%d}" if r.next_expiry else "")
    out.print(table)
    out.print(f"{len(holds)} active legal hold(s)" + (":" if holds else "."), highlight=False)
    for line in held_lines:
        out.print(line, highlight=False)


@privacy_app.command("purge")
def purge_cmd(purpose: Annotated[str, typer.Option(help="Why, e.g. 'retention'.")] = "retention",
              dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
              actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER")] = None) -> None:
    """Remove every record past its retention date that no legal hold covers, and nothing else. The trail keeps a
    tombstone (how many, which categories, a digest of the ids), never the content."""
    from lawful.privacy.retention import purge

    with _session() as (session, _):
        r = purge(session, actor=_who(session, actor), purpose=purpose, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    out.print(f"Purge {verb} {r.removed:,} expired record(s)"
              + (f" ({', '.join(f'{k}: {v:,}' for k, v in sorted(r.by_category.items()))})" if r.by_category else "")
              + f"; {r.kept_for_holds:,} expired record(s) kept under legal holds.", highlight=False)


@privacy_app.command("hold")
def hold_cmd(reason: Annotated[Optional[str], typer.Option(help="The case, complaint or request it serves.")] = None,
             start: Annotated[Optional[str], typer.Option("--from", help="Records that occurred from this date...")] = None,
             end: Annotated[Optional[str], typer.Option("--to", help="...until before this date.")] = None,
             category: Annotated[Optional[str], typer.Option(help="Only this category.")] = None,
             area: Annotated[Optional[str], typer.Option(help="Only this area code.")] = None,
             release: Annotated[Optional[int], typer.Option(help="Release hold ID instead.")] = None,
             actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER")] = None) -> None:
    """Place a legal hold (records it covers are never purged) or release one with --release ID."""
    from lawful.privacy.retention import add_hold, release_hold

    with _session() as (session, _):
        who = _who(session, actor)
        if release is not None:
            release_hold(session, actor=who, hold_id=release)
            msg = f"Legal hold {release} released."
        else:
            if not (reason and start and end):
                from lawful.errors import LawfulError

                raise LawfulError("a hold needs --reason, --from and --to", "or give --release ID to end one")
            h = add_hold(session, actor=who, reason=reason, occurred_from=_instant(start, "--from"),
                         occurred_to=_instant(end, "--to"), category=category, area=area)
            msg = f"Legal hold {h.id} placed."
    out.print(msg)


@privacy_app.command("fields")
def fields_cmd() -> None:
    """Minimisation report: per source, the fields kept, pseudonymised and dropped, the declared purposes, and the
    retention (from the mapping the newest load used)."""
    from lawful.privacy.retention import minimisation

    with _session(readonly=True) as (session, _):
        rows = minimisation(session)
    if not rows:
        out.print("Nothing has been loaded.")
        return
    for r in rows:
        out.print(f"[bold]{r.source}[/] ({r.records:,} records; mapping {r.mapping})", highlight=False)
        purposes = ", ".join(r.purposes) or "NONE DECLARED: add purposes under the mapping's source table"
        out.print(f"  declared purposes: {purposes}", highlight=False)
        out.print(f"  fields kept: {', '.join(r.fields) or '-'}", highlight=False)
        out.print(f"  extra fields kept: {', '.join(r.kept_extras) or 'none'}; pseudonymised: "
                  f"{', '.join(r.pseudonymised) or 'none'}", highlight=False)
        out.print(f"  dropped at load (not declared): {', '.join(r.dropped) or 'none'}", highlight=False)
        by_cat = "; ".join(f"{k} {v} days" for k, v in sorted(r.retention_by_category.items()))
        out.print(f"  kept for: {r.retention_days or 'no limit set'}" + (" days" if r.retention_days else "")
                  + (f"; by category: {by_cat}" if by_cat else ""), highlight=False)
