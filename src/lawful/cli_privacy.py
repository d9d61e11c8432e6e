"""`lawful privacy ...`: governed re-identification (pseudonyms are made at load time by the mapping)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _session, _who, out

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
        table.add_row(str(m.id), m.source, m.category, f"{m.occurred_at:%Y-%m-%d %H:%M}", m.area or "")
    out.print(table)
    out.print(f"{len(matches)} record(s). The search and its purpose are on the trail.")
