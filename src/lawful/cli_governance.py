"""`lawful users|models|review|audit|serious-incidents|report`: the governance commands."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.table import Table


from lawful.cli_common import _date, _instant, _session, _wide, err, out
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


def _thresholds():
    from lawful.governance.policy import Thresholds

    return Thresholds.from_env()


def _actor(session, name):
    from lawful.cli_common import _who

    return _who(session, name)


def _entry(session, ref):
    from lawful.governance.registry import get

    return get(session, ref=ref)


def _read_json(path: Path, what: str):
    from lawful.limits import load_json  # size, depth, finite numbers; one located line on any problem

    return load_json(path, what=f"the {what}", allow_nan=True)


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


def _show_code_enrolment(name: str, uri: str | None) -> None:
    if uri:
        out.print(f"{name} signs in with a one-time code. Add this to an authenticator app (shown once):\n  {uri}",
                  highlight=False)


def _show_enrolment_code(name: str, code: str) -> None:
    from lawful.access.credentials import ENROL_HOURS

    out.print(f"One-time enrolment code for {name} (shown once, valid {ENROL_HOURS} h): {code}\n"
              f"Give it to {name} in person; they run `lawful users enrol {name}` to set their own password"
              " (and one-time codes, for admins, approvers and DPOs).", highlight=False)


@users_app.command("create-admin")
def users_create_admin(name: Annotated[str, typer.Argument(help="The first admin's user name.")],
                       password_stdin: PasswordStdin = False) -> None:
    """Create the first admin, with a password and one-time codes (an operator command). There is no default
    account: nothing exists until this is run, and it refuses once an admin exists."""
    from lawful.access.service import create

    password = _password(password_stdin, f"password for {name}")
    with _session() as (session, _):
        _, uri = create(session, creator=None, name=name, roles=["admin"], first_admin=True, password=password)
    out.print(f"Created admin {name}.")
    _show_code_enrolment(name, uri)


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="New user name.")], role: Roles,
              clearance: Annotated[str, typer.Option(help="public, internal, confidential or secret: the highest "
                                                          "classification this user may read.")] = "internal",
              actor: As = None) -> None:
    """Add a user with roles and a clearance (whoever the access policy allows users.create: admins). Prints a
    one-time enrolment code: the person sets their own password (and one-time codes) with it, so you never know
    either."""
    from lawful.access.service import create

    with _session() as (session, _):
        user, code = create(session, creator=_actor(session, actor), name=name, roles=role, clearance=clearance)
        roles, level = user.roles, user.clearance
    out.print(f"Created {name} ({', '.join(roles)}; clearance {level}).")
    _show_enrolment_code(name, code)


@users_app.command("enrol")
def users_enrol(name: Annotated[str, typer.Argument(help="Your user name.")],
                code: Annotated[Optional[str], typer.Option(help="The enrolment code an admin gave you (asked for "
                                                                 "if left out).")] = None,
                password_stdin: PasswordStdin = False) -> None:
    """Set your own password with the one-time enrolment code from an admin. Admins, approvers and DPOs also get an
    authenticator-app link; their first `lawful users login` with a code from it completes the enrolment."""
    import getpass

    from lawful.access.credentials import SignInFailed, check_password, enrol

    code = code or getpass.getpass("enrolment code: ")
    password = _password(password_stdin, "your new password")
    check_password(password)
    with _session() as (session, _):
        result = enrol(session, name=name, code=code, password=password)
    if isinstance(result, SignInFailed):
        raise result  # after the commit: the failed attempt is on the trail
    out.print(f"Enrolled {name}: your password is set.")
    if result.uri:
        _show_code_enrolment(name, result.uri)
        out.print(f"Complete the enrolment by signing in with a code from the app: `lawful users login {name} "
                  "--code CODE`.", highlight=False)


@users_app.command("login")
def users_login(name: Annotated[str, typer.Argument(help="Your user name.")],
                code: Annotated[Optional[str], typer.Option(help="The one-time code from your authenticator app "
                                                                 "(admins, approvers, DPOs).")] = None,
                password_stdin: PasswordStdin = False,
                hours: Annotated[float, typer.Option(help="How long the session lasts (at most 168, 7 days).")] = 12.0
                ) -> None:
    """Sign in: prints a session token to put in LAWFUL_TOKEN. Five failures lock the account for 15 minutes."""
    import getpass
    import sys

    from lawful.access.credentials import SignInFailed, sign_in

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("password: ")
    with _session() as (session, _):
        result = sign_in(session, name=name, password=password, code=code, hours=hours)
    if isinstance(result, SignInFailed):
        raise result  # after the commit: the failure counts toward the lock-out and is on the trail
    print(f"export LAWFUL_TOKEN={result}")
    err.print(f"signed in as {name} for {hours:g} h; `lawful users logout` ends the session")


@users_app.command("logout")
def users_logout() -> None:
    """Revoke the session token in LAWFUL_TOKEN."""
    import os

    from lawful.access.credentials import revoke

    token = os.environ.get("LAWFUL_TOKEN")
    if not token:
        raise LawfulError("LAWFUL_TOKEN is not set", "there is no session to end")
    with _session() as (session, _):
        revoke(session, actor=_actor(session, None), token=token)
    out.print("Signed out: the token is revoked.")


@users_app.command("disable")
def users_disable(name: Person, reason: Reason, actor: As = None) -> None:
    """Disable an account (admins): no sign-in, no enrolment, every token revoked. `lawful users enable` undoes it."""
    from lawful.access.service import disable

    with _session() as (session, _):
        revoked = disable(session, actor=_actor(session, actor), name=name, reason=reason)
    out.print(f"Disabled {name}; {revoked} token(s) revoked.")


@users_app.command("enable")
def users_enable(name: Person, reason: Reason, actor: As = None) -> None:
    """Enable a disabled account again (admins); the person signs in afresh."""
    from lawful.access.service import enable

    with _session() as (session, _):
        enable(session, actor=_actor(session, actor), name=name, reason=reason)
    out.print(f"Enabled {name}.")


@users_app.command("reset")
def users_reset(name: Person, actor: As = None) -> None:
    """Reset a person's sign-in (admins): their password and one-time codes stop working, their tokens are
    revoked, and a new enrolment code lets them set new ones themselves."""
    from lawful.access.service import reset

    with _session() as (session, _):
        code = reset(session, actor=_actor(session, actor), name=name)
    out.print(f"Reset {name}: their password, one-time codes and tokens no longer work.")
    _show_enrolment_code(name, code)


@users_app.command("roles")
def users_roles(name: Person, role: Roles, actor: As = None) -> None:
    """Replace a person's roles (admins; never your own). If the new roles need one-time codes the person has not
    set up, their sign-in is reset and a new enrolment code is printed."""
    from lawful.access.service import set_roles

    with _session() as (session, _):
        code = set_roles(session, actor=_actor(session, actor), name=name, roles=role)
    out.print(f"{name} now holds: {', '.join(sorted(set(role)))}.")
    if code:
        _show_enrolment_code(name, code)


@users_app.command("token")
def users_token(label: Annotated[str, typer.Option(help="What it is for, e.g. 'nightly rules job'.")],
                days: Annotated[int, typer.Option(help="Lifetime in days (1 to 365).")] = 30,
                scope: Annotated[str, typer.Option(help="read (may only read) or full.")] = "full",
                revoke_id: Annotated[Optional[int], typer.Option("--revoke", help="Revoke this token id instead.")] = None,
                actor: As = None) -> None:
    """Create an API token for yourself (shown once), or revoke one with --revoke ID. `lawful users tokens` lists
    them."""
    from lawful.access.credentials import create_api_token, revoke

    with _session() as (session, _):
        who = _actor(session, actor)
        if revoke_id is not None:
            revoke(session, actor=who, token_id=revoke_id)
            token = None
        else:
            token = create_api_token(session, actor=who, label=label, days=days, scope=scope)
    if token:
        print(token)
        err.print(f"API token for {who.name}, {days} days, scope {scope}; stored only as a hash, so this is the only "
                  "time it is shown")
    else:
        out.print(f"Token {revoke_id} revoked.")


@users_app.command("tokens")
def users_tokens(actor: As = None) -> None:
    """Your tokens: kind, scope, label, created, expires, revoked, last used."""
    from lawful.access.credentials import get_tokens

    with _session() as (session, _):
        rows = [(t.id, t.kind, t.scope, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at)
                for t in get_tokens(session, actor=_actor(session, actor))]
    table = Table("id", "kind", "scope", "label", "created", "expires", "revoked", "last used")
    for r in rows:
        table.add_row(str(r[0]), r[1], r[2], r[3], *(f"{t:%Y-%m-%d %H:%M}" if t else "" for t in r[4:]))
    _wide().print(table)


@users_app.command("list")
def users_list() -> None:
    """Every user, their roles and clearance, and how their account stands (enrolment pending, locked, disabled)."""
    from lawful.access.service import get_all, state

    with _session(readonly=True) as (session, _):
        users = [(u.name, u.roles, u.clearance, u.created_at, u.created_by, state(u)) for u in get_all(session)]
    if not users:
        out.print("No users yet. Create the first admin with `lawful users create-admin NAME`.")
    for name, roles, clearance, created, by, st in users:
        out.print(f"{name}: {', '.join(roles)}; clearance {clearance}; {st} (created {created:%Y-%m-%d} by {by})",
                  highlight=False)


# ---- models --------------------------------------------------------------------------------------------------------
@models_app.command("register")
def models_register(card: Annotated[Path, typer.Argument(help="Model card TOML; see examples/governance/.")],
                    actor: As = None) -> None:
    """Register a new version as a draft, from its card. Person scoring and biometric identification are refused."""
    from lawful.governance.card import load_card
    from lawful.governance.registry import register

    data = load_card(card)
    with _session() as (session, _):
        entry = register(session, actor=_actor(session, actor), card=data)
        ref = entry.ref
    out.print(f"Registered {ref} (draft, {data['tier']} risk). Next: attach results, then `lawful models submit {ref}`.")


@models_app.command("attach")
def models_attach(ref: Ref,
                  evaluation: Annotated[Optional[Path], typer.Option(help="JSON from `lawful forecast backtest --json` "
                                                                     "(or a rule report).")] = None,
                  exposure: Annotated[Optional[Path], typer.Option(help="JSON from `lawful forecast audit --json`.")] = None,
                  fria: Annotated[Optional[Path], typer.Option(help="Fundamental-rights impact assessment (TOML): "
                                                               "process_and_frequency, affected_groups, risks, "
                                                               "oversight_measures, materialisation_response, "
                                                               "complaints.")] = None,
                  actor: As = None) -> None:
    """Attach evaluation results, an exposure audit or an impact assessment to a draft."""
    from lawful.governance.registry import attach

    if not (evaluation or exposure or fria):
        raise LawfulError("nothing to attach", "give --evaluation, --exposure and/or --fria")
    ev = {"source": evaluation.name, "records": _read_json(evaluation, "backtest JSON")} if evaluation else None
    if ev and isinstance(ev["records"], dict):
        ev = {"source": evaluation.name, **ev["records"]}
    ex = _read_json(exposure, "exposure-audit JSON") if exposure else None
    ex = {"source": exposure.name, **ex} if isinstance(ex, dict) else ex  # anything else: attach says what is wrong
    fr = None
    if fria:
        from lawful.governance.card import load_fria

        fr = load_fria(fria)
    with _session() as (session, _):
        entry = _entry(session, ref)
        attach(session, actor=_actor(session, actor), entry=entry, evaluation=ev, exposure=ex, fria=fr)
        ref = entry.ref
    out.print(f"Attached to {ref}: " + ", ".join(n for n, v in (("evaluation", ev), ("exposure audit", ex),
                                                                 ("impact assessment", fr)) if v) + ".")


@models_app.command("submit")
def models_submit(ref: Ref, actor: As = None) -> None:
    """Ask for approval. A high-risk entry needs passing evaluation and exposure results attached."""
    from lawful.governance.registry import submit

    with _session() as (session, _):
        entry = _entry(session, ref)
        submit(session, actor=_actor(session, actor), entry=entry, thresholds=_thresholds())
        ref = entry.ref
    out.print(f"Submitted {ref} for approval.")


@models_app.command("approve")
def models_approve(ref: Ref, reason: Reason,
                   purpose: Annotated[list[str], typer.Option("--purpose", help="A purpose this approval covers "
                                                              "(repeat); must be among the card's purposes.")],
                   area: Annotated[Optional[list[str]], typer.Option("--area", help="Limit to an area (repeat); "
                                                                     "none: the whole jurisdiction.")] = None,
                   expires: Annotated[Optional[str], typer.Option(help="Last day (YYYY-MM-DD); default one year.")] = None,
                   sandbox: Annotated[bool, typer.Option("--sandbox", help="Approve for shadow mode only: outputs "
                                                         "are stored and compared, never shown to operations.")] = False,
                   actor: As = None) -> None:
    """Approve a submitted entry for named purposes (and areas) until an expiry. No self-approval; high risk needs
    two different approvers and a complete impact assessment."""
    from lawful.governance.registry import approve, required_approvals

    with _session() as (session, _):
        entry = _entry(session, ref)
        approve(session, actor=_actor(session, actor), entry=entry, reason=reason, purposes=purpose,
                areas=area or [], expires=_date(expires, "--expires") if expires else None,
                thresholds=_thresholds(), sandbox=sandbox)
        state, need, ref = entry.state, required_approvals(entry), entry.ref
    out.print(f"{ref} is now {state}." + (f" It needs {need} approvals from different approvers." if state ==
                                           "submitted" else ""))


@models_app.command("refuse")
def models_refuse(ref: Ref, reason: Reason, actor: As = None) -> None:
    """Send a submission back to its owner as a draft, with the reason."""
    from lawful.governance.registry import refuse

    with _session() as (session, _):
        refuse(session, actor=_actor(session, actor), entry=_entry(session, ref), reason=reason)
    out.print(f"Refused {ref}: {reason}")


def _move(step: str, ref: str, actor: str | None, reason: str = "") -> None:
    from lawful.governance import registry

    with _session() as (session, _):
        entry, who = _entry(session, ref), _actor(session, actor)
        if step == "activate":
            registry.activate(session, actor=who, entry=entry)
        else:
            getattr(registry, step)(session, actor=who, entry=entry, reason=reason)
        state, ref = entry.state, entry.ref
    out.print(f"{ref} is now {state}.")


@models_app.command("activate")
def models_activate(ref: Ref, actor: As = None) -> None:
    """Put an approved entry into use: from now the gate lets its outputs out."""
    _move("activate", ref, actor)


@models_app.command("suspend")
def models_suspend(ref: Ref, reason: Reason, actor: As = None) -> None:
    """The circuit breaker (approver or data-protection officer): the gate refuses every output until it is
    approved again."""
    _move("suspend", ref, actor, reason)


@models_app.command("reinstate")
def models_reinstate(ref: Ref, reason: Reason, actor: As = None) -> None:
    """Ask to bring a suspended entry back: it returns to 'submitted' and needs approving again."""
    _move("reinstate", ref, actor, reason)


@models_app.command("retire")
def models_retire(ref: Ref, reason: Reason, actor: As = None) -> None:
    """Take an entry out of use for good."""
    _move("retire", ref, actor, reason)


@models_app.command("list")
def models_list() -> None:
    """Every registered version with its state."""
    from lawful.governance.registry import get_all

    with _session(readonly=True) as (session, _):
        entries = get_all(session)
        rows = [(e.ref, e.kind, e.tier, e.owner, e.state, e.state_reason) for e in entries]
    if not rows:
        out.print("Nothing is registered. Register with `lawful models register CARD.toml --as OWNER`.")
        return
    table = Table("entry", "kind", "risk", "owner", "state", "why")
    for r in rows:
        table.add_row(*r)
    _wide().print(table)


@models_app.command("card")
def models_card(ref: Ref, html: Annotated[bool, typer.Option("--html", help="HTML instead of Markdown.")] = False,
                out_file: Annotated[Optional[Path], typer.Option("--out", help="Write to this file.")] = None) -> None:
    """The model card, as Markdown (or HTML)."""
    from lawful.governance import card

    with _session(readonly=True) as (session, _):
        entry = _entry(session, ref)
        text = card.html_page(entry) if html else card.markdown(entry)
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")
    else:
        print(text)


@models_app.command("monitor")
def models_monitor(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Compute each entry's monitored figures; the breaker suspends any in use whose figure crosses its threshold."""
    from lawful.governance.monitor import enforce
    from lawful.governance.registry import get_all

    with _session() as (session, _):
        figs = enforce(session, entries=[e for e in get_all(session) if e.state != "retired"],
                       thresholds=_thresholds())
    if as_json:
        print(json.dumps([{"entry": f.entry, "decided": f.decided, "misjudgment": f.misjudgment,
                           "realised_pai": f.realised_pai, "misplaced": f.misplaced, "breaches": f.breaches}
                          for f in figs], indent=2))
        return
    for f in figs:
        mis = "n/a" if f.misjudgment is None else f"{f.misjudgment:.0%}"
        pai = "n/a" if f.realised_pai is None else f"{f.realised_pai:.2f}"
        out.print(f"{f.entry}: {f.decided} decided, misjudgment {mis}, realised PAI {pai}"
                  + (f" -> SUSPENDED: {'; '.join(f.breaches)}" if f.breaches else ""), highlight=False)


# ---- review --------------------------------------------------------------------------------------------------------
@review_app.command("list")
def review_list(actor: As = None) -> None:
    """Outputs waiting for a decision (sandbox ones only for their owner and reviewers of models)."""
    from lawful.governance.review import get_open

    with _session(readonly=True) as (session, _):
        rows = [(o.id, e.ref, o.kind, o.subject, o.purpose, o.issued_by, o.issued_at, o.sandbox)
                for o, e in get_open(session, actor=_actor(session, actor))]
    if not rows:
        out.print("Nothing is waiting for a decision.")
        return
    table = Table("output", "model", "kind", "subject", "purpose", "issued by", "issued", "sandbox")
    for r in rows:
        table.add_row(str(r[0]), r[1], r[2], r[3], r[4], r[5], f"{r[6]:%Y-%m-%d %H:%M}", "yes" if r[7] else "")
    _wide().print(table)


@review_app.command("show")
def review_show(output_id: int, actor: As = None, top: Annotated[int, typer.Option(help="Places to show.")] = 10) -> None:
    """One output with its explanation."""
    from lawful.governance.review import get_output

    with _session() as (session, settings):
        who = _actor(session, actor)
        o = get_output(session, actor=who, output_id=output_id)
        from lawful.trail import audit

        audit.append(session, actor=who.name, action="consultation", obj=f"output:{o.id}", purpose=o.purpose)
        lines = [f"[bold]Output {o.id}[/]: {o.kind}, {o.subject}, for {o.purpose!r}; issued by {o.issued_by} "
                 f"at {o.issued_at:%Y-%m-%d %H:%M} UTC; status {o.status}"]
        if o.kind == "alert":
            lines += [o.explanation[0]["sentence"]]
        else:
            lines += [f"{i + 1:>3}. {x['cell']}: {x['sentence']}" for i, x in enumerate(o.explanation[:top])]
    for line in lines:
        out.print(line, highlight=False)


@review_app.command("decide")
def review_decide(output_id: int, reason: Reason,
                  accept: Annotated[bool, typer.Option("--accept", help="Forecasts: act on it as it is.")] = False,
                  reject: Annotated[bool, typer.Option("--reject", help="Forecasts: do not act on it.")] = False,
                  amend: Annotated[Optional[str], typer.Option("--amend", help="Forecasts: what you changed.")] = None,
                  confirm: Annotated[bool, typer.Option("--confirm", help="Alerts: it was right.")] = False,
                  false_alarm: Annotated[bool, typer.Option("--false-alarm", help="Alerts: it was wrong.")] = False,
                  unclear: Annotated[bool, typer.Option("--unclear", help="Alerts: cannot tell.")] = False,
                  actor: As = None) -> None:
    """Decide on an output, with a reason: accept, reject or amend a forecast; confirm, call a false alarm or mark
    unclear an alert (the verdicts the rules learn from). You cannot decide on an output you issued."""
    from lawful.governance.models import Entry, Output
    from lawful.governance.monitor import enforce
    from lawful.governance.review import decide

    chosen = [d for d, on in (("accepted", accept), ("rejected", reject), ("amended", amend is not None),
                              ("confirmed", confirm), ("false-alarm", false_alarm), ("unclear", unclear)) if on]
    if len(chosen) != 1:
        raise LawfulError("choose exactly one decision", "forecasts: --accept, --reject or --amend TEXT; alerts: "
                          "--confirm, --false-alarm or --unclear")
    with _session() as (session, _):
        r = decide(session, actor=_actor(session, actor), output_id=output_id, decision=chosen[0], reason=reason,
                   amendment={"text": amend} if amend else None)
        entry = session.get(Entry, session.get(Output, output_id).entry_id)
        figs = enforce(session, entries=[entry], thresholds=_thresholds())
        ref = entry.ref
    out.print(f"Output {output_id} {r.decision} by {r.reviewer} after {r.seconds:.0f} s.")
    if figs[0].breaches:
        out.print(f"[bold red]{ref} was suspended by the circuit breaker:[/] {'; '.join(figs[0].breaches)}")


@review_app.command("stats")
def review_stats(by: Annotated[str, typer.Option(help="reviewer or model")] = "reviewer") -> None:
    """Acceptance rate and time to decision per reviewer or per model, with automation-bias warnings."""
    from lawful.governance.review import stats

    if by not in ("reviewer", "model"):
        raise LawfulError(f"--by {by!r}", "use --by reviewer or --by model")
    with _session(readonly=True) as (session, _):
        rows = stats(session, by=by, thresholds=_thresholds())
    if not rows:
        out.print("No decisions yet.")
        return
    table = Table(by, "decisions", "accepted/confirmed", "rejected/false alarm", "amended/unclear", "acceptance",
                  "median s")
    for s in rows:
        table.add_row(s.who, str(s.decisions), str(s.accepted), str(s.rejected), str(s.amended), f"{s.acceptance:.0%}",
                      f"{s.median_seconds:.0f}", style="bold red" if s.warning else None)
    _wide().print(table)
    for s in rows:
        if s.warning:
            out.print(f"[bold red]warning:[/] {s.who} {s.warning}.", highlight=False)


# ---- audit ---------------------------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(public_key: Annotated[Optional[Path], typer.Option(help="Verify with this public key (PEM) "
                                                                    "instead of the local signing key's.")] = None) -> None:
    """Recompute every hash and check every signed checkpoint. Names the first entry altered, removed or inserted,
    including entries cut off the end. Exit 1 if anything is wrong."""
    from lawful.trail import audit

    with _session(readonly=True) as (session, settings):
        v = audit.verify(session, settings=settings, public_key_path=public_key)
    if v.ok:
        out.print(f"[green]OK[/]: {v.entries:,} entries, every hash recomputed; head entry {v.head_seq} "
                  f"({v.head_hash[:16]}...) is covered by a signed checkpoint ({v.checkpoints:,} checkpoints). "
                  f"Retention: kept at least {settings.audit_retention_days} days; Lawful never deletes trail entries.",
                  highlight=False)
        return
    first = v.first
    out.print(f"[bold red]TAMPERED[/]: entry {first.seq}: {first.text}", highlight=False)
    for p in sorted(v.problems, key=lambda p: p.seq)[1:10]:
        out.print(f"  also entry {p.seq}: {p.text}", highlight=False)
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(directory: Annotated[Path, typer.Argument(help="A new or empty directory for the bundle.")],
                 actor: As = None) -> None:
    """Write the trail, its signed checkpoints, the public key and a stand-alone verifier (`python verify.py`)."""
    from lawful.trail import audit

    with _session() as (session, _):  # the export is itself on the trail, signed before the bundle is cut
        who = _actor(session, actor)
        audit.append(session, actor=who.name, action="audit.export", obj="trail", purpose="external audit",
                     details={"directory": str(directory)})
    with _session(readonly=True) as (session, settings):
        b = audit.export(session, settings=settings, out_dir=directory)
    out.print(f"Wrote {b.entries:,} entries and {b.checkpoints:,} checkpoints to {b.path}; verify there with "
              f"`python verify.py`.", highlight=False)


@audit_app.command("log")
def audit_log(limit: Annotated[int, typer.Option(help="How many of the newest entries.")] = 20,
              action: Annotated[Optional[str], typer.Option(help="Only this action, e.g. output.issue.")] = None,
              actor: Annotated[Optional[str], typer.Option("--by", help="Only entries by this actor.")] = None) -> None:
    """The newest trail entries."""
    from lawful.trail import audit

    with _session(readonly=True) as (session, settings):
        rows = audit.get_all(session, action=action, actor=actor, limit=limit)
        tz = ZoneInfo(settings.timezone)
        table = Table("seq", f"time ({settings.timezone})", "actor", "action", "object", "purpose", "details")
        for e in rows:
            at = datetime.fromtimestamp(e.at_us / 1e6, timezone.utc).astimezone(tz)
            table.add_row(str(e.seq), f"{at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.object, e.purpose,
                          e.details if len(e.details) < 60 else e.details[:57] + "...")
    _wide().print(table)


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
                   keep_running: Annotated[Optional[str], typer.Option(help="Do not suspend the model; say why.")] = None,
                   actor: As = None) -> None:
    """Register a serious incident; the deadline runs from awareness and the model is suspended unless you say why not."""
    from lawful.governance.serious import record

    when = _instant(aware_at, "--aware-at", require_offset=True) if aware_at else datetime.now(timezone.utc)
    with _session() as (session, _):
        entry = _entry(session, ref)
        inc = record(session, actor=_actor(session, actor), entry=entry, kind=kind, description=description,
                     aware_at=when, widespread=widespread, death=death, keep_running=keep_running)
        msg = (f"Serious incident {inc.id} recorded; report it by {inc.deadline:%Y-%m-%d %H:%M} UTC. "
               f"{entry.ref} is {entry.state}.")
    out.print(msg, highlight=False)


@serious_app.command("list")
def serious_list() -> None:
    """Every serious incident with its deadline; overdue ones first."""
    from lawful.governance.models import Entry
    from lawful.governance.serious import get_all

    now = datetime.now(timezone.utc)
    with _session(readonly=True) as (session, _):
        rows = [(i, session.get(Entry, i.entry_id).ref) for i in get_all(session)]
        if not rows:
            out.print("No serious incidents recorded.")
            return
        table = Table("id", "model", "kind", "aware", "deadline", "status", "description")
        for i, ref in sorted(rows, key=lambda r: (r[0].reported_at is not None, r[0].deadline)):
            status = (f"reported to {i.reported_to}" if i.reported_at else
                      "[bold red]OVERDUE[/]" if i.deadline < now else "to report")
            table.add_row(str(i.id), ref, i.kind, f"{i.aware_at:%Y-%m-%d %H:%M}", f"{i.deadline:%Y-%m-%d %H:%M}",
                          status, i.description)
    _wide().print(table)


@serious_app.command("reported")
def serious_reported(incident_id: int, to: Annotated[str, typer.Option(help="The authority it was reported to.")],
                     actor: As = None) -> None:
    """Mark an incident as reported."""
    from lawful.governance.serious import mark_reported

    with _session() as (session, _):
        mark_reported(session, actor=_actor(session, actor), incident_id=incident_id, to=to)
    out.print(f"Serious incident {incident_id} marked as reported to {to}.")


# ---- reports -------------------------------------------------------------------------------------------------------
@report_app.command("weekly")
def report_weekly(week_ending: Annotated[Optional[str], typer.Option(help="Last local day of the week "
                                                                     "(YYYY-MM-DD); default today.")] = None,
                  out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write it to this file.")] = None
                  ) -> None:
    """Per model: outputs issued, decisions, acceptance and misjudgment rates, realised accuracy, breaker events,
    and what needs attention, in plain language (Markdown)."""
    from lawful.governance.report import weekly

    with _session(readonly=True) as (session, settings):
        tz = ZoneInfo(settings.timezone)
        day = _date(week_ending, "--week-ending") if week_ending else datetime.now(tz).date()
        text = weekly(session, week_ending=day, tz=tz, thresholds=_thresholds())
    print(text)
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")


# ---- demo ----------------------------------------------------------------------------------------------------------
DEMO_CARD = Path(__file__).resolve().parents[2] / "examples" / "governance" / "demo-forecaster.toml"
DEMO_USERS = {"demo-admin": ["admin"], "demo-owner": ["model-owner"], "demo-approver-1": ["approver"],
              "demo-approver-2": ["approver"], "demo-analyst": ["analyst"], "demo-supervisor": ["supervisor"]}


def demo_governance(evaluation_records: list[dict]) -> None:
    """The governance half of `lawful demo`; safe to run again (it reuses what exists)."""
    import tomllib

    from lawful.access.service import create, get_actor, get_all
    from lawful.cli_forecast import issue_through_gate
    from lawful.forecast.service import exposure_audit
    from lawful.governance import card, registry
    from lawful.trail import audit
    from lawful.governance.review import decide

    card_data = card.load_card(DEMO_CARD)
    fria = tomllib.loads(DEMO_CARD.with_name("demo-forecaster-fria.toml").read_text(encoding="utf-8"))
    with _session() as (session, _):
        existing = {u.name for u in get_all(session)}
        for name, roles in DEMO_USERS.items():  # no default password: a random one for the admin, codes left unused
            if name not in existing:
                create(session, creator=None if name == "demo-admin" else get_actor(session, name="demo-admin"),
                       name=name, roles=roles, first_admin=name == "demo-admin",
                       password=secrets.token_urlsafe(24) if name == "demo-admin" else None)
        active = [e for e in registry.get_all(session) if e.name == card_data["name"] and e.state == "active"]
    if not active:
        m = card_data["model"]
        with _session(readonly=True) as (session, settings):
            a = exposure_audit(session, category=m["category"], start=date(2019, 12, 3), end=date(2019, 12, 31),
                               every_days=7, model=m["estimator"], coverage=m["top_share"], cell=m["cell_m"],
                               window_days=m["window_days"], since=date(2014, 1, 1), tz=ZoneInfo(settings.timezone))
        t = _thresholds()
        with _session() as (session, _):
            owner, a1, a2 = (get_actor(session, name=n) for n in ("demo-owner", "demo-approver-1", "demo-approver-2"))
            entry = registry.register(session, actor=owner, card=card_data)
            registry.attach(session, actor=owner, entry=entry, fria=fria,
                            evaluation={"source": "lawful demo backtest, 4 days of December 2019",
                                        "records": evaluation_records},
                            exposure={"source": "lawful demo exposure audit, 4 days of December 2019",
                                      "model": a.model, "coverage": a.coverage, "days": a.days,
                                      "misplaced": a.misplaced})
            registry.submit(session, actor=owner, entry=entry, thresholds=t)
            for who, why in ((a1, "backtest beats the protocol's baselines; exposure within bounds"),
                             (a2, "impact assessment complete; human review on every output")):
                registry.approve(session, actor=who, entry=entry, reason=why, purposes=["patrol planning"], areas=[],
                                 expires=None, thresholds=t)
            registry.activate(session, actor=owner, entry=entry)
            ref = entry.ref
        out.print(f"Registered {ref} (high risk), attached its backtest, exposure audit and impact assessment, "
                  "approved by demo-approver-1 and demo-approver-2, activated.", highlight=False)
    with _session(readonly=True) as (session, _):
        analyst = get_actor(session, name="demo-analyst")
    _, refused = issue_through_gate(card_data["name"], actor=analyst, day=date(2019, 12, 24),
                                    purpose="investigation 2019-1224", area=None)
    out.print(f"Gate, purpose 'investigation 2019-1224': refused ({refused.refused}).", highlight=False)
    _, result = issue_through_gate(card_data["name"], actor=analyst, day=date(2019, 12, 24),
                                   purpose="patrol planning", area=None)
    with _session() as (session, settings):
        o = result.output
        decide(session, actor=get_actor(session, name="demo-supervisor"), output_id=o.id, decision="accepted",
               reason="flagged places match the briefing; patrols assigned")
        first = o.explanation[0]
        line = (f"Gate, purpose 'patrol planning': output {o.id}, {o.subject}, top {len(o.payload['cells'])} places; "
                f"first: {first['cell']}: {first['sentence']}. Accepted by demo-supervisor.")
    out.print(line, highlight=False)
    with _session(readonly=True) as (session, settings):
        v = audit.verify(session, settings=settings)
    status = "[green]OK[/]" if v.ok else f"[bold red]TAMPERED[/] at entry {v.first.seq}: {v.first.text}"
    out.print(f"Trail: {status}, {v.entries:,} entries, head signed (key {settings.audit_key_path}). "
              f"Next: `lawful audit log`, `lawful models card {card_data['name']}`, `lawful report weekly`.",
              highlight=False)
