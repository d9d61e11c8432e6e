"""`lawful access ...`: read the policy, try a decision, count the denials."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Optional

import typer
from rich.table import Table

from lawful.cli_common import _session, out
from lawful.errors import LawfulError

access_app = typer.Typer(no_args_is_help=True, help=(
    "The one policy decision point: who may do what, on what, for which purpose. Deny by default. The policy is a "
    "TOML file a data-protection officer reviews (LAWFUL_POLICY; the shipped one is lawful/access/policy.toml)."))


@access_app.command("policy")
def policy_cmd() -> None:
    """Print the policy in force: each role's actions and purposes, and each model's purposes."""
    from lawful.access.decide import load_policy

    p = load_policy()
    out.print(f"Policy: {p.source}", highlight=False)
    table = Table("role", "actions", "purposes")
    for role, (actions, purposes) in sorted(p.roles.items()):
        table.add_row(role, ", ".join(sorted(actions)), ", ".join(purposes))
    out.print(table)
    for model, purposes in sorted(p.models.items()):
        out.print(f"model {model}: only for {', '.join(purposes)}", highlight=False)
    for action, purposes in sorted(p.actions.items()):
        out.print(f"action {action}: only for {', '.join(purposes)}", highlight=False)


@access_app.command("check")
def check_cmd(action: Annotated[str, typer.Option(help="e.g. models.approve, outputs.issue, incidents.read")],
              purpose: Annotated[str, typer.Option(help="Why, e.g. 'patrol planning'.")],
              resource: Annotated[str, typer.Option(help="KIND:NAME, e.g. model:toronto-bne-forecaster")] = "model:",
              classification: Annotated[str, typer.Option(help="The resource's classification.")] = "internal",
              actor: Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER")] = None) -> None:
    """What the decision point would say, without doing anything. Exit 1 when it would deny."""
    from lawful.access.decide import LEVELS, Resource, decide, load_policy
    from lawful.cli_common import _who

    if classification not in LEVELS:
        raise LawfulError(f"{classification!r} is not a classification", f"use one of {', '.join(LEVELS)}")
    kind, _, name = resource.partition(":")
    with _session(readonly=True) as (session, _):
        who = _who(session, actor)
    d = decide(who, action, Resource(kind, name, classification), purpose, load_policy())
    out.print(("[green]allowed[/]: " if d.allowed else "[bold red]denied[/]: ") + d.reason, highlight=False)
    if not d.allowed:
        raise typer.Exit(1)


@access_app.command("denials")
def denials_cmd(limit: Annotated[int, typer.Option(help="Show at most this many of the newest.")] = 20) -> None:
    """Denials on the trail (by the decision point and by the gate), counted per person and action."""
    from lawful.access.service import get_denials

    with _session(readonly=True) as (session, _):
        denials = get_denials(session)
    if not denials:
        out.print("No denials on the trail.")
        return
    table = Table("who", "what", "denials")
    for (who, what), n in Counter((d.actor, d.what) for d in denials).most_common():
        table.add_row(who, what, str(n))
    out.print(table)
    for d in denials[:limit]:
        out.print(f"  #{d.seq} {d.actor}: {d.reason} (purpose {d.purpose!r})", highlight=False)
