"""`lawful access ...`: the server's policy, a decision tried with it, the denials on the trail. A client of the
server: nothing set here (a policy file, LAWFUL_POLICY, a user name) changes what the server decides."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from lawful.cli_common import out

access_app = typer.Typer(no_args_is_help=True, help=(
    "The one policy decision point: who may do what, on what, for which purpose. Deny by default. The policy is the "
    "server's: a TOML file a data-protection officer reviews, read once when the server starts (its SHA-256 is on "
    "the trail); nothing a client sets changes it."))

JsonOut = Annotated[bool, typer.Option("--json", help="Print the server's JSON, for scripts.")]


def _api():
    from lawful import client

    return client.connect()


@access_app.command("policy")
def policy_cmd(as_json: JsonOut = False) -> None:
    """Print the server's policy and its SHA-256: each role's actions and purposes, each model's purposes."""
    p = _api().get("/access/policy")
    if as_json:
        print(json.dumps(p, indent=2))
        return
    out.print(f"Policy: {p['source']}\nSHA-256: {p['sha256']}", highlight=False)
    table = Table("role", "actions", "purposes")
    for role, r in p["roles"].items():
        table.add_row(role, ", ".join(r["actions"]), ", ".join(r["purposes"]))
    out.print(table)
    for model, purposes in p["models"].items():
        out.print(f"model {model}: only for {', '.join(purposes)}", highlight=False)
    for action, purposes in p["actions"].items():
        out.print(f"action {action}: only for {', '.join(purposes)}", highlight=False)


@access_app.command("check")
def check_cmd(action: Annotated[str, typer.Option(help="e.g. models.approve, outputs.issue, incidents.read")],
              purpose: Annotated[str, typer.Option(help="Why, e.g. 'patrol planning'.")],
              resource: Annotated[str, typer.Option(help="KIND:NAME, e.g. model:toronto-bne-forecaster")] = "model:",
              classification: Annotated[str, typer.Option(help="The resource's classification.")] = "internal",
              as_json: JsonOut = False) -> None:
    """What the server's decision point would say to you, without doing anything. Exit 1 when it would deny."""
    d = _api().get("/access/check", action=action, purpose=purpose, resource=resource, classification=classification)
    if as_json:
        print(json.dumps(d, indent=2))
    else:
        out.print(("[green]allowed[/]: " if d["allowed"] else "[bold red]denied[/]: ") + d["reason"], highlight=False)
    if not d["allowed"]:
        raise typer.Exit(1)


@access_app.command("denials")
def denials_cmd(limit: Annotated[int, typer.Option(help="Show at most this many of the newest.")] = 20,
                as_json: JsonOut = False) -> None:
    """Denials on the trail (by the decision point and by the gate), counted per person and action (whoever may
    read the trail: DPOs, auditors)."""
    d = _api().get("/access/denials", limit=limit)
    if as_json:
        print(json.dumps(d, indent=2))
        return
    if not d["total"]:
        out.print("No denials on the trail.")
        return
    table = Table("who", "what", "denials")
    for c in d["counts"]:
        table.add_row(c["actor"], c["what"], str(c["denials"]))
    out.print(table)
    for x in d["newest"]:
        out.print(f"  #{x['seq']} {x['actor']}: {x['reason']} (purpose {x['purpose']!r})", highlight=False)
