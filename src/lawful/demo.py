"""`lawful demo`: the main job on the embedded default, run through the one door.

The operator's part (it runs as the server's account, like `lawful admin`): create or migrate the store, create
the demo people with random passwords (shown once, at the end), mint each a one-hour token for this run. Then it
starts the real server (uvicorn) on a free loopback port in this process, and every step a person would take goes
through the HTTP API with that person's token: load the bundled Toronto data, read the stats, backtest the models,
register, approve and use the demo forecaster through the gate, decide, verify the trail, run the example rules.
It stops the server, revokes the run's tokens, and says how to start the server and sign in."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from lawful import client, db
from lawful.errors import LawfulError
from lawful.server_files import tighten

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DEMO_CARD = EXAMPLES / "governance" / "demo-forecaster.toml"
PEOPLE = {"demo-admin": ["admin"], "demo-owner": ["model-owner"], "demo-approver-1": ["approver"],
          "demo-approver-2": ["approver"], "demo-analyst": ["analyst"], "demo-supervisor": ["supervisor"],
          "demo-auditor": ["auditor"], "demo-dpo": ["dpo"]}
CLEARANCE = {"demo-admin": "secret", "demo-dpo": "confidential", "demo-auditor": "confidential"}


def people(settings) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    """The demo's people, created if missing: each sets a random password through the same enrolment a person
    uses (no default password exists anywhere). Returns ({name: (password, otpauth URI or None)} for the ones made
    now, {name: one-hour token for this run})."""
    from lawful.access.credentials import SignInFailed, create_api_token, enrol
    from lawful.access.service import create, get_actor, get_all

    made: dict[str, tuple[str, str | None]] = {}
    with db.Store(settings) as store, store.transaction() as session:
        existing = {u.name for u in get_all(session)}
        for name, roles in PEOPLE.items():
            if name in existing:
                continue
            password = secrets.token_urlsafe(12)
            if name == "demo-admin":
                _, uri = create(session, creator=None, name=name, roles=roles, first_admin=True,
                                password=password, clearance=CLEARANCE[name])
                made[name] = (password, uri)
                continue
            admin = get_actor(session, name="demo-admin")
            _, code = create(session, creator=admin, name=name, roles=roles,
                             clearance=CLEARANCE.get(name, "internal"))
            done = enrol(session, name=name, code=code, password=password)
            if isinstance(done, SignInFailed):
                raise done
            made[name] = (password, done.uri)
        tokens = {name: create_api_token(session, actor=get_actor(session, name=name), label="lawful demo run",
                                         days=1) for name in PEOPLE}
    return made, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(settings, port: int | None = None):
    """The real server (the app `lawful serve` runs) on a loopback port, in a thread of this process."""
    import uvicorn

    from lawful.web.app import create_app

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, port=port), host="127.0.0.1", port=port,
                                           log_level="warning", server_header=False,
                                           proxy_headers=False))  # X-Forwarded-For is anyone's to send
    thread = threading.Thread(target=server.run, name="lawful-demo-server", daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        if not thread.is_alive():
            raise LawfulError("the demo's server did not start", "see the lines above; run `lawful serve` to "
                              "see why")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run(out, progress) -> None:
    """The whole demo; `out` prints (a rich console), `progress` reports long jobs."""
    from lawful.cli import _print_dataset, _print_stats, _StatsView
    from lawful.cli_admin import operator_settings
    from lawful.db_roles import upgrade_and_grant

    settings = operator_settings(tighten=True)
    _, after, _ = upgrade_and_grant(settings)
    out.print(f"Store: {db.sqlite_path(settings.database_url) or 'PostgreSQL'} (migration {after}).")
    made, tokens = people(settings)
    tighten(settings)  # what people() made, before the server's check
    with serving(settings) as url:
        out.print(f"Server: {url} (this run only; every step below is an HTTP request with a person's token).",
                  highlight=False)
        as_ = {name: client.Client(server=url, token=t) for name, t in tokens.items()}
        try:
            _steps(as_, settings, out, progress, _print_dataset, _print_stats, _StatsView)
        finally:
            for c in as_.values():  # the run's tokens end with it
                try:
                    c.delete("/session")
                except LawfulError:
                    pass
    _goodbye(out, made)


def _steps(as_, settings, out, progress, print_dataset, print_stats, stats_view) -> None:
    from lawful.cli_forecast import show_backtest

    admin, analyst = as_["demo-admin"], as_["demo-analyst"]
    print_dataset(admin.wait(admin.post("/datasets/toronto-mci/load"), progress))
    print_stats(stats_view.of(analyst.get("/incidents/stats")))

    out.print("\n[bold]Forecasting:[/] a short backtest of every model on Break and Enter, December 2019 "
              "(the full protocol: `lawful forecast backtest`).", highlight=False)
    request = {"category": "Break and Enter", "start": "2019-12-03", "end": "2019-12-31", "every_days": 7,
               "window_days": 365, "cell": 200.0, "models": "all", "since": "2014-01-01", "report": True}
    result = analyst.wait(analyst.post("/forecast/backtests", request), progress)
    show_backtest(result, as_json=False, out_dir=settings.data_dir / "reports" / "demo-backtest")

    out.print("\n[bold]Governance:[/] register the demo forecaster with its card, approve it with two approvers, "
              "issue one forecast through the gate, have a supervisor decide, verify the trail.", highlight=False)
    _governance(as_, result["summaries"], out, progress)

    out.print("\n[bold]Early-warning rules:[/] the bird-catching example on its synthetic observation stream, then "
              "near-repeat burglary rules on the first week of December 2019.", highlight=False)
    _rules(analyst, progress)


def _governance(as_, evaluation_records: list[dict], out, progress) -> None:
    from lawful.governance.card import load_card

    card = load_card(DEMO_CARD)
    name, m = card["name"], card["model"]
    fria = DEMO_CARD.with_name("demo-forecaster-fria.toml")
    owner = as_["demo-owner"]
    if not [e for e in owner.get("/models") if e["name"] == name and e["state"] == "active"]:
        a = owner.wait(owner.post("/forecast/audit", {
            "category": m["category"], "start": "2019-12-03", "end": "2019-12-31", "every_days": 7,
            "model": m["estimator"], "coverage": m["top_share"], "cell": m["cell_m"], "window_days": m["window_days"],
            "since": "2014-01-01", "purpose": "model development"}), progress)
        ref = owner.post("/models", {"source": str(DEMO_CARD), "text": DEMO_CARD.read_text(encoding="utf-8")})["ref"]
        owner.post(f"/models/{ref}/attachments", {
            "evaluation": {"source": "lawful demo backtest, 4 days of December 2019",
                           "text": json.dumps({"records": evaluation_records}, default=str)},
            "exposure": {"source": "lawful demo exposure audit, 4 days of December 2019",
                         "text": json.dumps({"model": a["model"], "coverage": a["coverage"], "days": a["days"],
                                             "misplaced": a["misplaced"], "areas": a["areas"]})},
            "fria": {"source": str(fria), "text": fria.read_text(encoding="utf-8")}})
        owner.post(f"/models/{ref}/submit", {})
        for who, why in (("demo-approver-1", "backtest beats the protocol's baselines; exposure within bounds"),
                         ("demo-approver-2", "impact assessment complete; human review on every output")):
            as_[who].post(f"/models/{ref}/approve", {"reason": why, "purposes": ["patrol planning"]})
        owner.post(f"/models/{ref}/activate", {})
        out.print(f"Registered {ref} (high risk), attached its backtest, exposure audit and impact assessment, "
                  "approved by demo-approver-1 and demo-approver-2, activated.", highlight=False)
    analyst = as_["demo-analyst"]
    try:
        analyst.post("/forecast/issue", {"ref": name, "purpose": "investigation 2019-1224", "day": "2019-12-24"})
        raise LawfulError("the gate let out a forecast for a purpose it is not approved for",
                          "report this: the demo expects a refusal")
    except LawfulError as refused:
        if refused.kind != "denied":
            raise
        why = refused.message.removeprefix("the gate refused: ").removesuffix(" The refusal is on the trail.")
    out.print(f"Gate, purpose 'investigation 2019-1224': refused ({why.rstrip('.')}).", highlight=False)
    issued = analyst.post("/forecast/issue", {"ref": name, "purpose": "patrol planning", "day": "2019-12-24"})
    supervisor = as_["demo-supervisor"]
    o = supervisor.get(f"/review/outputs/{issued['id']}")  # read before deciding; on the trail
    supervisor.post(f"/review/outputs/{o['output']}/decision",
                    {"decision": "accepted", "reason": "flagged places match the briefing; patrols assigned"})
    first = o["explanation"][0]
    out.print(f"Gate, purpose 'patrol planning': output {o['output']}, {o['subject']}, top "
              f"{len(o['payload']['cells'])} places; first: {first['cell']}: {first['sentence']}. Accepted by "
              "demo-supervisor.", highlight=False)
    v = as_["demo-auditor"].get("/audit/verify")
    status = "[green]OK[/]" if v["ok"] else (f"[bold red]TAMPERED[/] at entry {v['problems'][0]['seq']}: "
                                            f"{v['problems'][0]['text']}")
    out.print(f"Trail: {status}, {v['entries']:,} entries, every hash recomputed and every signed head checked "
              f"(by demo-auditor, through the API). Next: `lawful audit log`, `lawful models card {name}`, "
              "`lawful report weekly`.", highlight=False)


def _rules(analyst, progress) -> None:
    from lawful.cli_rules import _bundle, show_run

    birds = EXAMPLES / "rules" / "bird-catching.toml"
    rs, _, bundle, _ = _bundle(birds)
    events = EXAMPLES / "rules" / "bird-observations.jsonl"
    result = analyst.wait(analyst.post("/rules/runs", {
        "bundle": bundle, "events": {"name": events.name, "text": events.read_text(encoding="utf-8")}}), progress)
    show_run(result, rs, label=str(events), lateness="0s", limit=3, as_json=False)
    near = EXAMPLES / "rules" / "near-repeat.toml"
    rs, _, bundle, _ = _bundle(near)
    result = analyst.wait(analyst.post("/rules/runs", {"bundle": bundle, "start": "2019-12-01", "end": "2019-12-08",
                                                       "purpose": "crime analysis"}), progress)
    show_run(result, rs, label=f"stored incidents 2019-12-01 to 2019-12-08 (with {rs.lookback_hours / 24:g} days of "
             "history for the windows)", lateness="0s", limit=3, as_json=False)


def _goodbye(out, made: dict[str, tuple[str, str | None]]) -> None:
    out.print("\n[bold]Next:[/] start the server with `make serve` (or `lawful serve`), then sign in with "
              "`lawful login NAME` (the API is at http://127.0.0.1:8000/api/v1, described at /api/v1/openapi.json).",
              highlight=False)
    if not made:
        out.print("The demo accounts existed already; their passwords were shown once, when they were made. An "
                  "admin resets one with `lawful users reset NAME`.", highlight=False)
        return
    out.print("Demo accounts (shown once; no one else knows these passwords, and Lawful keeps only their hashes):",
              highlight=False)
    for name, (password, uri) in made.items():
        line = f"  {name:17s} {', '.join(PEOPLE[name]):12s} password {password}"
        if uri:
            line += f"\n  {'':17s} {'':12s} one-time codes: add {uri} to an authenticator app"
        out.print(line, highlight=False)
    out.print("\n[bold]The console:[/] http://127.0.0.1:8000/console (after `make serve`; sign in as above)", highlight=False)
    out.print("[bold]The public transparency register:[/] http://127.0.0.1:8000/public/ (no sign-in: the demo "
              "forecaster's record, its measured accuracy and exposure by area; complaints at /public/complaints)",
              highlight=False)
