"""`lawful users|models|review|audit|serious-incidents|report`: the governance commands."""

from __future__ import annotations

import json

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.table import Table


from lawful.cli_common import _date, _instant, _wide, err, out
from lawful.errors import LawfulError

As = Annotated[Optional[str], typer.Option("--as", envvar="LAWFUL_USER", help="Who you are (a user name). Until "
                                           "sign-in arrives this is asserted, not authenticated.")]
Ref = Annotated[str, typer.Argument(help="NAME (newest version) or NAME:VERSION; see `lawful models list`.")]
Reason = Annotated[str, typer.Option("--reason", help="Why; kept in the trail.")]

users_app = typer.Typer(help="People and their roles.", no_args_is_help=True)
models_app = typer.Typer(no_args_is_help=True, help=(
    "The registry: register a model or rule set with its card, attach results, submit, approve (two approvers for "
    "high risk), activate, suspend (the circuit breaker), reinstate, retire."))
review_app = typer.Typer(no_args_is_help=True, help=(
    "Human review: every output is a recommendation until a named person accepts, rejects or amends it."))
audit_app = typer.Typer(no_args_is_help=True, help="The decision trail: read it, verify it, export it for an auditor.")
serious_app = typer.Typer(no_args_is_help=True, help="Serious incidents involving a model, with reporting deadlines.")
report_app = typer.Typer(no_args_is_help=True, help="Monitoring reports.")


# ---- users ---------------------------------------------------------------------------------------------------------
def _password(stdin: bool, what: str) -> str:
    """A password from standard input (one line, for scripts) or typed twice at a prompt, never an argument."""
    import getpass
    import sys

    if stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"{what}: ")
    if getpass.getpass("again: ") != first:
        raise LawfulError("the two passwords differ", "type the same password twice")
    return first


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]
Person = Annotated[str, typer.Argument(help="The user name.")]
Roles = Annotated[list[str], typer.Option("--role", help="A role; repeat for several: admin, analyst, supervisor, "
                                          "officer, model-owner, approver, dpo, auditor.")]
UsersJson = Annotated[bool, typer.Option("--json", help="Print the server's JSON, for scripts.")]


def _show_code_enrolment(name: str, uri: str | None) -> None:
    if uri:
        out.print(f"{name} signs in with a one-time code. Add this to an authenticator app (shown once):\n  {uri}",
                  highlight=False)


def _show_enrolment_code(name: str, code: str, hours: int | None = None) -> None:
    from lawful.access.credentials import ENROL_HOURS

    out.print(f"One-time enrolment code for {name} (shown once, valid {hours or ENROL_HOURS} h): {code}\n"
              f"Give it to {name} in person; they run `lawful users enrol {name}` to set their own password"
              " (and one-time codes, for admins, approvers and DPOs).", highlight=False)


def _users_api():
    from lawful import client

    return client.connect()


def _user_path(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@users_app.command("create-admin", hidden=True)
def users_create_admin(name: Annotated[str, typer.Argument(help="The first admin's user name.")],
                       password_stdin: PasswordStdin = False) -> None:
    """Moved: the first admin is made by the operator with `lawful admin create-admin NAME`."""
    raise LawfulError("users create-admin has moved to the operator's commands",
                      f"the operator runs `lawful admin create-admin {name}` as the server's account")


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="New user name.")], role: Roles,
              clearance: Annotated[str, typer.Option(help="public, internal, confidential or secret: the highest "
                                                          "classification this user may read.")] = "internal"
              ) -> None:
    """Add a user with roles and a clearance (whoever the access policy allows users.create: admins). Prints a
    one-time enrolment code: the person sets their own password (and one-time codes) with it, so you never know
    either."""
    u = _users_api().post("/users", {"name": name, "roles": role, "clearance": clearance})
    out.print(f"Created {u['name']} ({', '.join(u['roles'])}; clearance {u['clearance']}).", highlight=False)
    _show_enrolment_code(u["name"], u["enrolment_code"], u["enrolment_hours"])


@users_app.command("enrol")
def users_enrol(name: Annotated[str, typer.Argument(help="Your user name.")],
                code: Annotated[Optional[str], typer.Option(help="The enrolment code an admin gave you (asked for "
                                                                 "if left out).")] = None,
                password_stdin: PasswordStdin = False) -> None:
    """Set your own password with the one-time enrolment code from an admin (before you have any token). Admins,
    approvers and DPOs also get an authenticator-app link; their first `lawful login` with a code from it completes
    the enrolment."""
    import getpass

    from lawful import client
    from lawful.access.credentials import check_password

    code = code or getpass.getpass("enrolment code: ")
    password = _password(password_stdin, "your new password")
    check_password(password)
    got = client.Client(token="").post("/enrolment", {"name": name, "code": code, "password": password}, auth=False)
    out.print(f"Enrolled {name}: your password is set.")
    if got["otpauth_uri"]:
        _show_code_enrolment(name, got["otpauth_uri"])
        out.print(f"Complete the enrolment by signing in with a code from the app: `lawful login {name} "
                  "--code CODE`.", highlight=False)


@users_app.command("login", hidden=True)
def users_login(name: Annotated[str, typer.Argument(help="Your user name.")],
                code: Annotated[Optional[str], typer.Option(help="The one-time code from your authenticator app "
                                                                 "(admins, approvers, DPOs).")] = None,
                password_stdin: PasswordStdin = False,
                hours: Annotated[float, typer.Option(help="How long the session lasts (at most 168, 7 days).")] = 12.0
                ) -> None:
    """The same as `lawful login` (kept for old scripts)."""
    from lawful.cli import login

    login(name, code=code, password_stdin=password_stdin, hours=hours)


@users_app.command("logout", hidden=True)
def users_logout() -> None:
    """The same as `lawful logout` (kept for old scripts)."""
    from lawful.cli import logout

    logout()


@users_app.command("disable")
def users_disable(name: Person, reason: Reason) -> None:
    """Disable an account (admins): no sign-in, no enrolment, every token revoked. `lawful users enable` undoes it."""
    r = _users_api().post(f"/users/{_user_path(name)}/disable", {"reason": reason})
    out.print(f"Disabled {name}; {r['tokens_revoked']} token(s) revoked.", highlight=False)


@users_app.command("enable")
def users_enable(name: Person, reason: Reason) -> None:
    """Enable a disabled account again (admins); the person signs in afresh."""
    _users_api().post(f"/users/{_user_path(name)}/enable", {"reason": reason})
    out.print(f"Enabled {name}.", highlight=False)


@users_app.command("reset")
def users_reset(name: Person) -> None:
    """Reset a person's sign-in (admins): their password and one-time codes stop working, their tokens are
    revoked, and a new enrolment code lets them set new ones themselves."""
    r = _users_api().post(f"/users/{_user_path(name)}/reset", {})
    out.print(f"Reset {name}: their password, one-time codes and tokens no longer work.", highlight=False)
    _show_enrolment_code(name, r["enrolment_code"], r["enrolment_hours"])


@users_app.command("roles")
def users_roles(name: Person, role: Roles) -> None:
    """Replace a person's roles (admins; never your own). If the new roles need one-time codes the person has not
    set up, their sign-in is reset and a new enrolment code is printed."""
    r = _users_api().request("PUT", f"/users/{_user_path(name)}/roles", json={"roles": role}).json()
    out.print(f"{name} now holds: {', '.join(r['roles'])}.", highlight=False)
    if r["enrolment_code"]:
        _show_enrolment_code(name, r["enrolment_code"], r["enrolment_hours"])


@users_app.command("token")
def users_token(label: Annotated[str, typer.Option(help="What it is for, e.g. 'nightly rules job'.")],
                days: Annotated[int, typer.Option(help="Lifetime in days (1 to 365).")] = 30,
                scope: Annotated[str, typer.Option(help="read (may only read) or full.")] = "full",
                revoke_id: Annotated[Optional[int], typer.Option("--revoke", help="Revoke this token id instead.")] = None
                ) -> None:
    """Create an API token for yourself (shown once), or revoke one with --revoke ID. `lawful users tokens` lists
    them."""
    api = _users_api()
    if revoke_id is not None:
        api.delete(f"/tokens/{revoke_id}")
        out.print(f"Token {revoke_id} revoked.")
        return
    t = api.post("/tokens", {"label": label, "days": days, "scope": scope})
    print(t["token"])
    err.print(f"API token for {t['name']}, {t['days']} days, scope {t['scope']}; stored only as a hash, so this is "
              "the only time it is shown", highlight=False)


@users_app.command("tokens")
def users_tokens(as_json: UsersJson = False) -> None:
    """Your tokens: kind, scope, label, created, expires, revoked, last used."""
    rows = _users_api().get("/tokens")
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "kind", "scope", "label", "created", "expires", "revoked", "last used")
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], r["scope"], r["label"],
                      *(f"{datetime.fromisoformat(r[k]):%Y-%m-%d %H:%M}" if r[k] else ""
                        for k in ("created_at", "expires_at", "revoked_at", "last_used_at")))
    _wide().print(table)


@users_app.command("list")
def users_list(as_json: UsersJson = False) -> None:
    """Every user, their roles and clearance, and how their account stands (enrolment pending, locked, disabled)
    (admins)."""
    users = _users_api().get("/users")
    if as_json:
        print(json.dumps(users, indent=2))
        return
    for u in users:
        out.print(f"{u['name']}: {', '.join(u['roles'])}; clearance {u['clearance']}; {u['state']} (created "
                  f"{datetime.fromisoformat(u['created_at']):%Y-%m-%d} by {u['created_by']})", highlight=False)


# ---- models --------------------------------------------------------------------------------------------------------
def _api():
    from lawful import client

    return client.connect()


def _ref_path(ref: str) -> str:
    from urllib.parse import quote

    return quote(ref, safe=":")


def _document(path: Path, what: str, *, limit: int, fix: str) -> str:
    """A file the user names, read here (size, regular file, UTF-8) and sent as text: the server never opens it."""
    from lawful.limits import read_text

    return read_text(path, what=what, limit=limit, fix=fix)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2))


JsonOut = Annotated[bool, typer.Option("--json", help="Print the server's JSON, for scripts.")]


@models_app.command("register")
def models_register(card: Annotated[Path, typer.Argument(help="Model card TOML; see examples/governance/.")]) -> None:
    """Register a new version as a draft, from its card (you must be its owner). Person scoring and biometric
    identification are refused."""
    from lawful.limits import CONFIG_BYTES

    text = _document(card, "a model card (TOML)", limit=CONFIG_BYTES,
                     fix="give the path to a model card TOML file (see examples/governance/demo-forecaster.toml)")
    e = _api().post("/models", {"source": str(card), "text": text})
    out.print(f"Registered {e['ref']} (draft, {e['tier']} risk). Next: attach results, then `lawful models submit "
              f"{e['ref']}`.", highlight=False)


@models_app.command("attach")
def models_attach(ref: Ref,
                  evaluation: Annotated[Optional[Path], typer.Option(help="JSON from `lawful forecast backtest --json` "
                                                                     "(or a rule report).")] = None,
                  exposure: Annotated[Optional[Path], typer.Option(help="JSON from `lawful forecast audit --json`.")] = None,
                  fria: Annotated[Optional[Path], typer.Option(help="Fundamental-rights impact assessment (TOML): "
                                                               "process_and_frequency, affected_groups, risks, "
                                                               "oversight_measures, materialisation_response, "
                                                               "complaints.")] = None) -> None:
    """Attach evaluation results, an exposure audit or an impact assessment to a draft."""
    from lawful.limits import ATTACHMENT_BYTES, CONFIG_BYTES

    if not (evaluation or exposure or fria):
        raise LawfulError("nothing to attach", "give --evaluation, --exposure and/or --fria")
    body = {}
    if evaluation:
        body["evaluation"] = {"source": evaluation.name, "text": _document(
            evaluation, "the backtest JSON", limit=ATTACHMENT_BYTES, fix="give the JSON of `lawful forecast backtest --json`")}
    if exposure:
        body["exposure"] = {"source": exposure.name, "text": _document(
            exposure, "the exposure-audit JSON", limit=ATTACHMENT_BYTES, fix="give the JSON of `lawful forecast audit --json`")}
    if fria:
        body["fria"] = {"source": str(fria), "text": _document(
            fria, "an impact assessment (TOML)", limit=CONFIG_BYTES,
            fix="give the path to an impact assessment TOML (see examples/governance/demo-forecaster-fria.toml)")}
    e = _api().post(f"/models/{_ref_path(ref)}/attachments", body)
    out.print(f"Attached to {e['ref']}: {', '.join(e['attached'])}.", highlight=False)


@models_app.command("submit")
def models_submit(ref: Ref) -> None:
    """Ask for approval. A high-risk entry needs passing evaluation and exposure results attached."""
    e = _api().post(f"/models/{_ref_path(ref)}/submit", {})
    out.print(f"Submitted {e['ref']} for approval.", highlight=False)


@models_app.command("approve")
def models_approve(ref: Ref, reason: Reason,
                   purpose: Annotated[list[str], typer.Option("--purpose", help="A purpose this approval covers "
                                                              "(repeat); must be among the card's purposes.")],
                   area: Annotated[Optional[list[str]], typer.Option("--area", help="Limit to an area (repeat); "
                                                                     "none: the whole jurisdiction.")] = None,
                   expires: Annotated[Optional[str], typer.Option(help="Last day (YYYY-MM-DD); default one year.")] = None,
                   sandbox: Annotated[bool, typer.Option("--sandbox", help="Approve for shadow mode only: outputs "
                                                         "are stored and compared, never shown to operations.")] = False
                   ) -> None:
    """Approve a submitted entry for named purposes (and areas) until an expiry. No self-approval; high risk needs
    two different approvers and a complete impact assessment."""
    until = _date(expires, "--expires").isoformat() if expires else None
    e = _api().post(f"/models/{_ref_path(ref)}/approve", {"reason": reason, "purposes": purpose, "areas": area or [],
                                                          "expires": until, "sandbox": sandbox})
    out.print(f"{e['ref']} is now {e['state']}." + (f" It needs {e['required_approvals']} approvals from different "
                                                   "approvers." if e["state"] == "submitted" else ""), highlight=False)


@models_app.command("refuse")
def models_refuse(ref: Ref, reason: Reason) -> None:
    """Send a submission back to its owner as a draft, with the reason."""
    _api().post(f"/models/{_ref_path(ref)}/refuse", {"reason": reason})
    out.print(f"Refused {ref}: {reason}", highlight=False)


def _move(step: str, ref: str, reason: str | None = None) -> None:
    e = _api().post(f"/models/{_ref_path(ref)}/{step}", None if reason is None else {"reason": reason})
    out.print(f"{e['ref']} is now {e['state']}.", highlight=False)


@models_app.command("activate")
def models_activate(ref: Ref) -> None:
    """Put an approved entry into use: from now the gate lets its outputs out."""
    _move("activate", ref)


@models_app.command("suspend")
def models_suspend(ref: Ref, reason: Reason) -> None:
    """The circuit breaker (approver or data-protection officer): the gate refuses every output until it is
    approved again."""
    _move("suspend", ref, reason)


@models_app.command("reinstate")
def models_reinstate(ref: Ref, reason: Reason) -> None:
    """Ask to bring a suspended entry back: it returns to 'submitted' and needs approving again."""
    _move("reinstate", ref, reason)


@models_app.command("retire")
def models_retire(ref: Ref, reason: Reason) -> None:
    """Take an entry out of use for good."""
    _move("retire", ref, reason)


@models_app.command("list")
def models_list(as_json: JsonOut = False) -> None:
    """Every registered version with its state."""
    entries = _api().get("/models")
    if as_json:
        _print_json(entries)
        return
    if not entries:
        out.print("Nothing is registered. Its owner registers a model with `lawful models register CARD.toml`.")
        return
    table = Table("entry", "kind", "risk", "owner", "state", "why")
    for e in entries:
        table.add_row(e["ref"], e["kind"], e["tier"], e["owner"], e["state"], e["state_reason"])
    _wide().print(table)


@models_app.command("card")
def models_card(ref: Ref, html: Annotated[bool, typer.Option("--html", help="HTML instead of Markdown.")] = False,
                out_file: Annotated[Optional[Path], typer.Option("--out", help="Write to this file.")] = None) -> None:
    """The model card, as Markdown (or HTML)."""
    text = _api().get(f"/models/{_ref_path(ref)}/card", format="html" if html else "markdown")["text"]
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")
    else:
        print(text)


@models_app.command("monitor")
def models_monitor(as_json: JsonOut = False) -> None:
    """Compute each entry's monitored figures; the breaker suspends any in use whose figure crosses its threshold
    (the review board, data-protection officers and auditors)."""
    figs = _api().post("/models/monitor", {})
    if as_json:
        _print_json(figs)
        return
    for f in figs:
        mis = "n/a" if f["misjudgment"] is None else f"{f['misjudgment']:.0%}"
        pai = "n/a" if f["realised_pai"] is None else f"{f['realised_pai']:.2f}"
        out.print(f"{f['entry']}: {f['decided']} decided, misjudgment {mis}, realised PAI {pai}"
                  + (f" -> SUSPENDED: {'; '.join(f['breaches'])}" if f["breaches"] else ""), highlight=False)


# ---- review --------------------------------------------------------------------------------------------------------
@review_app.command("list")
def review_list(as_json: JsonOut = False) -> None:
    """Outputs waiting for a decision that you may read (sandbox ones only for their owner and reviewers of
    models)."""
    rows = _api().get("/review/outputs")
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("Nothing is waiting for a decision.")
        return
    table = Table("output", "model", "kind", "subject", "purpose", "issued by", "issued", "sandbox")
    for r in rows:
        table.add_row(str(r["output"]), r["model"], r["kind"], r["subject"], r["purpose"], r["issued_by"],
                      f"{datetime.fromisoformat(r['issued_at']):%Y-%m-%d %H:%M}", "yes" if r["sandbox"] else "")
    _wide().print(table)


@review_app.command("show")
def review_show(output_id: int, top: Annotated[int, typer.Option(help="Places to show.")] = 10,
                as_json: JsonOut = False) -> None:
    """One output with its explanation. Reading it is on the trail, in your name."""
    o = _api().get(f"/review/outputs/{output_id}")
    if as_json:
        _print_json(o)
        return
    lines = [f"[bold]Output {o['output']}[/]: {o['kind']}, {o['subject']}, for {o['purpose']!r}; issued by "
             f"{o['issued_by']} at {datetime.fromisoformat(o['issued_at']):%Y-%m-%d %H:%M} UTC; status {o['status']}"]
    if o["kind"] == "alert":
        lines += [o["explanation"][0]["sentence"]]
    else:
        lines += [f"{i + 1:>3}. {x['cell']}: {x['sentence']}" for i, x in enumerate(o["explanation"][:top])]
    for line in lines:
        out.print(line, highlight=False)


@review_app.command("decide")
def review_decide(output_id: int, reason: Reason,
                  accept: Annotated[bool, typer.Option("--accept", help="Forecasts: act on it as it is.")] = False,
                  reject: Annotated[bool, typer.Option("--reject", help="Forecasts: do not act on it.")] = False,
                  amend: Annotated[Optional[str], typer.Option("--amend", help="Forecasts: what you changed.")] = None,
                  confirm: Annotated[bool, typer.Option("--confirm", help="Alerts: it was right.")] = False,
                  false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Alerts: it was wrong.")] = False,
                  unclear: Annotated[bool, typer.Option("--unclear", help="Alerts: cannot tell.")] = False) -> None:
    """Decide on an output, with a reason: accept, reject or amend a forecast; confirm, call a false alarm or mark
    unclear an alert (the verdicts the rules learn from). You cannot decide on an output you issued. The breaker
    then looks at the model's figures."""
    chosen = [d for d, on in (("accepted", accept), ("rejected", reject), ("amended", amend is not None),
                              ("confirmed", confirm), ("false-alarm", false_alarm), ("unclear", unclear)) if on]
    if len(chosen) != 1:
        raise LawfulError("choose exactly one decision", "forecasts: --accept, --reject or --amend TEXT; alerts: "
                          "--confirm, --false-alarm or --unclear")
    r = _api().post(f"/review/outputs/{output_id}/decision", {"decision": chosen[0], "reason": reason,
                                                              "amendment": amend})
    out.print(f"Output {output_id} {r['decision']} by {r['reviewer']} after {r['seconds']:.0f} s.", highlight=False)
    if r["breaches"]:
        out.print(f"[bold red]{r['model']} was suspended by the circuit breaker:[/] {'; '.join(r['breaches'])}")


@review_app.command("stats")
def review_stats(by: Annotated[str, typer.Option(help="reviewer or model")] = "reviewer",
                 as_json: JsonOut = False) -> None:
    """Acceptance rate and time to decision per reviewer or per model, with automation-bias warnings (the review
    board, data-protection officers and auditors)."""
    if by not in ("reviewer", "model"):
        raise LawfulError(f"--by {by!r}", "use --by reviewer or --by model")
    rows = _api().get("/review/stats", by=by)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No decisions yet.")
        return
    table = Table(by, "decisions", "accepted/confirmed", "rejected/false alarm", "amended/unclear", "acceptance",
                  "median s")
    for s in rows:
        table.add_row(s["who"], str(s["decisions"]), str(s["accepted"]), str(s["rejected"]), str(s["amended"]),
                      f"{s['acceptance']:.0%}", f"{s['median_seconds']:.0f}", style="bold red" if s["warning"] else None)
    _wide().print(table)
    for s in rows:
        if s["warning"]:
            out.print(f"[bold red]warning:[/] {s['who']} {s['warning']}.", highlight=False)


# ---- audit ---------------------------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(public_key: Annotated[Optional[Path], typer.Option(help="Verify independently of the server: "
                                                                    "download an export and check it here with this "
                                                                    "public key (PEM), the key the trail was started "
                                                                    "with as the agency published it.")] = None,
                 witness: Annotated[Optional[Path], typer.Option(help="Also check the heads published with `lawful "
                                                                 "admin witness` (a file or directory here); implies "
                                                                 "the independent check.")] = None,
                 as_json: JsonOut = False) -> None:
    """Recompute every hash and check every signed head and the key that signed it. Without options the server
    checks with its own key; with --public-key or --witness this machine checks an export with the key you hold,
    trusting the server for nothing. Names the first entry altered, removed or inserted, including entries cut off
    the end. Exit 1 if anything is wrong. Auditors and DPOs."""
    if public_key or witness:
        _verify_here(public_key, witness)
        return
    v = _api().get("/audit/verify")
    if as_json:
        _print_json(v)
    elif v["ok"]:
        out.print(f"[green]OK[/]: {v['entries']:,} entries, every hash recomputed; head entry {v['head_seq']} "
                  f"({v['head_hash'][:16]}...) is covered by a signed checkpoint ({v['checkpoints']:,} signed heads "
                  f"checked). Retention: kept at least {v['retention_days']} days; Lawful never deletes trail entries.",
                  highlight=False)
    else:
        if v.get("refused"):
            out.print(f"[bold red]REFUSING[/]: {v['refused']}", highlight=False)
        if v["problems"]:
            first, *rest = v["problems"]
            out.print(f"[bold red]TAMPERED[/]: entry {first['seq']}: {first['text']}", highlight=False)
            for p in rest[:9]:
                out.print(f"  also entry {p['seq']}: {p['text']}", highlight=False)
    if not v["ok"]:
        raise typer.Exit(1)


def _verify_here(public_key: Path | None, witness: Path | None) -> None:
    """What an outside auditor does: take the export and check it with the key they trust, using the verifier
    installed here: the bundle's own verify.py and lawful_chain.py are replaced before anything runs, so a server
    (or anyone between) that sends a doctored verifier neither decides the answer nor runs code here."""
    import shutil
    import subprocess
    import sys
    import tempfile

    from lawful.trail.verifier import write_verifier

    with tempfile.TemporaryDirectory(prefix="lawful-verify-") as tmp:
        bundle = Path(tmp) / "bundle"
        _unpack(_api().request("POST", "/audit/export").content, bundle)
        write_verifier(bundle)
        shutil.rmtree(bundle / "__pycache__", ignore_errors=True)  # compiled code the server sent is never loaded
        args = [sys.executable, "-I", "-B", str(bundle / "verify.py")]
        if public_key:
            args += ["--public-key", str(public_key.resolve())]
        if witness:
            args += ["--witness", str(witness.resolve())]
        done = subprocess.run(args, capture_output=True, text=True)
    print(done.stdout, end="")
    if done.stderr:
        err.print(done.stderr.rstrip(), highlight=False)
    if done.returncode:
        raise typer.Exit(1)


def _unpack(data: bytes, directory: Path) -> None:
    import io
    import tarfile

    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(directory, filter="data")  # plain files only, nothing outside the directory


@audit_app.command("export")
def audit_export(directory: Annotated[Path, typer.Argument(help="A new or empty directory for the bundle.")]) -> None:
    """Write the trail, its signed heads, the public key, a manifest with its fingerprint and a stand-alone
    verifier (`python verify.py`) into DIRECTORY. The export is itself on the trail. Auditors and DPOs."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise LawfulError(f"{directory} is not a new or empty directory", "give a new or empty directory for the bundle")
    _unpack(_api().request("POST", "/audit/export").content, directory)
    entries = sum(1 for _ in open(directory / "entries.jsonl", encoding="utf-8"))
    heads = sum(1 for _ in open(directory / "checkpoints.jsonl", encoding="utf-8"))
    out.print(f"Wrote {entries:,} entries and {heads:,} signed heads to {directory}; verify there with "
              "`python verify.py`.", highlight=False)


@audit_app.command("log")
def audit_log(limit: Annotated[int, typer.Option(min=1, max=1000, help="How many of the newest entries.")] = 20,
              action: Annotated[Optional[str], typer.Option(help="Only this action, e.g. output.issue.")] = None,
              actor: Annotated[Optional[str], typer.Option("--by", help="Only entries by this actor.")] = None,
              obj: Annotated[Optional[str], typer.Option("--object", help="Only entries about this object.")] = None,
              as_json: JsonOut = False) -> None:
    """The newest trail entries (auditors and DPOs; reading the trail is itself on the trail)."""
    rows = _api().get("/audit/log", limit=limit, action=action, by=actor, object=obj)
    if as_json:
        _print_json(rows)
        return
    tz = ZoneInfo(_local_zone())
    table = Table("seq", f"time ({tz.key})", "actor", "action", "object", "purpose", "details")
    for e in rows:
        at = datetime.fromtimestamp(e["at_us"] / 1e6, timezone.utc).astimezone(tz)
        d = e["details"]
        table.add_row(str(e["seq"]), f"{at:%Y-%m-%d %H:%M:%S}", e["actor"], e["action"], e["object"], e["purpose"],
                      d if len(d) < 60 else d[:57] + "...")
    _wide().print(table)


def _local_zone() -> str:
    import os

    return os.environ.get("LAWFUL_TIMEZONE", "America/Toronto")


# ---- serious incidents -----------------------------------------------------------------------------------------------
@serious_app.command("record")
def serious_record(ref: Ref,
                   kind: Annotated[str, typer.Option(help="wrongful-stop, data-leak, discriminatory-pattern, "
                                                          "death-or-harm or other.")],
                   description: Annotated[str, typer.Option(help="What happened.")],
                   aware_at: Annotated[Optional[str], typer.Option(help="When you became aware (ISO time); "
                                                                   "default now.")] = None,
                   widespread: Annotated[bool, typer.Option("--widespread", help="Deadline 2 days.")] = False,
                   death: Annotated[bool, typer.Option("--death", help="Someone died: deadline 10 days.")] = False,
                   keep_running: Annotated[Optional[str], typer.Option(help="Do not suspend the model; say why.")] = None
                   ) -> None:
    """Register a serious incident; the deadline runs from awareness and the model is suspended unless you say why not."""
    when = _instant(aware_at, "--aware-at", require_offset=True).isoformat() if aware_at else None
    inc = _api().post("/serious-incidents", {"model": ref, "kind": kind, "description": description, "aware_at": when,
                                             "widespread": widespread, "death": death, "keep_running": keep_running})
    out.print(f"Serious incident {inc['id']} recorded; report it by {datetime.fromisoformat(inc['deadline']):%Y-%m-%d %H:%M}"
              f" UTC. {inc['model']} is {inc['model_state']}.", highlight=False)


@serious_app.command("list")
def serious_list(as_json: JsonOut = False) -> None:
    """Every serious incident with its deadline; overdue ones first."""
    rows = _api().get("/serious-incidents")
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No serious incidents recorded.")
        return
    table = Table("id", "model", "kind", "aware", "deadline", "status", "description")
    for i in rows:
        status = "[bold red]OVERDUE[/]" if i["status"] == "overdue" else i["status"]
        table.add_row(str(i["id"]), i["model"], i["kind"], f"{datetime.fromisoformat(i['aware_at']):%Y-%m-%d %H:%M}",
                      f"{datetime.fromisoformat(i['deadline']):%Y-%m-%d %H:%M}", status, i["description"])
    _wide().print(table)


@serious_app.command("reported")
def serious_reported(incident_id: int, to: Annotated[str, typer.Option(help="The authority it was reported to.")]
                     ) -> None:
    """Mark an incident as reported."""
    _api().post(f"/serious-incidents/{incident_id}/reported", {"to": to})
    out.print(f"Serious incident {incident_id} marked as reported to {to}.", highlight=False)


# ---- reports -------------------------------------------------------------------------------------------------------
@report_app.command("weekly")
def report_weekly(week_ending: Annotated[Optional[str], typer.Option(help="Last local day of the week "
                                                                     "(YYYY-MM-DD); default today.")] = None,
                  out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write it to this file.")] = None,
                  as_json: JsonOut = False) -> None:
    """Per model: outputs issued, decisions, acceptance and misjudgment rates, realised accuracy, breaker events,
    and what needs attention, in plain language (Markdown). For the review board, data-protection officers and
    auditors."""
    day = _date(week_ending, "--week-ending").isoformat() if week_ending else None
    report = _api().get("/reports/weekly", week_ending=day)
    text = report["markdown"]
    if as_json:
        _print_json(report)
    else:
        print(text)
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")
