"""`lawful admin ...` and `lawful serve`: the operator's commands, the only ones that open the store or the keys
directly. They run as the server's own account: each refuses unless this process owns and can read the key
directory (or is creating it), so a person who is not that account gets nothing from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lawful import db
from lawful.cli_common import out
from lawful.errors import ConfigError
from lawful.settings import Settings

admin_app = typer.Typer(no_args_is_help=True, help=(
    "Operator commands, run as the server's own account: create and migrate the store, create the first admin, "
    "load the bundled data, serve. Everyone else uses the commands that talk to the server."))
admin_db_app = typer.Typer(no_args_is_help=True, help="Create and migrate the store (SQLite by default; PostgreSQL "
                                                      "via LAWFUL_DATABASE_URL, migrations as LAWFUL_MIGRATE_URL).")
admin_app.add_typer(admin_db_app, name="db")


def operator_settings(*, tighten: bool = False) -> Settings:
    """The settings, if this process is the server's account: it owns the key directory, or it does not exist yet
    and is created now, private."""
    from lawful.server_files import can_read_keys, make_private, refuse_shared, tighten as tighten_files

    settings = Settings.from_env()
    keys = settings.audit_key_path.parent
    if keys.exists() and not can_read_keys(settings):
        raise ConfigError(f"this account cannot read the server's key directory {keys}",
                          "operator commands run as the server's own account; everyone else uses "
                          "`lawful login` and the commands that talk to the server")
    make_private(settings)
    if tighten:  # the demo's own store: made private, where every other operator command refuses it
        tighten_files(settings)
    refuse_shared(settings)  # as `serve` does: a key another account can read is no secret to sign or rotate with
    return settings


@admin_db_app.command("upgrade")
def admin_db_upgrade() -> None:
    """Create the store if needed and apply every migration (as the owner role on PostgreSQL, then re-grant the
    server's role). Safe to run again."""
    settings = operator_settings()
    from lawful.db_roles import upgrade_and_grant

    before, after, grants = upgrade_and_grant(settings)
    where = db.sqlite_path(settings.database_url) or "the PostgreSQL database"
    if grants:
        out.print(f"Granted the server's role its rights again ({len(grants)} statements).")
    if before == after:
        out.print(f"Store at {where} is up to date (migration {after}).")
    else:
        out.print(f"Store at {where} migrated from {before or 'empty'} to {after}.")


@admin_db_app.command("status")
def admin_db_status() -> None:
    """Say where the store is and whether it is at the newest migration."""
    settings = operator_settings()
    db.open_store(settings).dispose()
    out.print(f"Store at {db.sqlite_path(settings.database_url) or 'the PostgreSQL database'} is at migration "
              f"{db.head_revision()} (newest).")


def serve(host: Annotated[str, typer.Option(help="Address to listen on. Loopback by default: put a TLS proxy in "
                                                 "front to serve others.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          jobs: Annotated[int, typer.Option(min=1, max=16, help="Long jobs (backtests, loads) run at once.")] = 1,
          trusted_proxy: Annotated[Optional[str], typer.Option(
              help="The address of a reverse proxy that REPLACES X-Forwarded-For with the client's address (nginx: "
                   "proxy_set_header X-Forwarded-For $remote_addr). Only then is that header believed, for the "
                   "public rate limit and the access log; by default it is ignored, since anyone can send it.")]
          = None,
          ) -> None:
    """Run the Lawful server: the one process that opens the store and reads the keys. It refuses to start when
    its private files are readable by other accounts, reads the access policy once (a change needs a restart,
    which the trail records), and writes `server.start` to the trail."""
    import uvicorn

    from lawful.web.app import create_app, open_door

    settings = operator_settings()
    door = open_door(settings, host=host, port=port, jobs=jobs)
    out.print(f"Lawful server on http://{host}:{port} (store: {db.sqlite_path(settings.database_url) or 'PostgreSQL'}"
              f"; policy SHA-256 {door.policy_sha256[:16]}...). Ctrl-C stops it.", highlight=False)
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: behind a proxy that passes the header through (a
    # TLS terminator), every request could name a new client address and the public rate limit would be void.
    uvicorn.run(create_app(settings, door=door, host=host, port=port), host=host, port=port, log_level="warning",
                server_header=False, proxy_headers=trusted_proxy is not None,
                forwarded_allow_ips=trusted_proxy or None)


admin_app.command("serve")(serve)


@admin_app.command("create-admin")
def admin_create_admin(name: Annotated[str, typer.Argument(help="The first admin's user name.")],
                       password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                                    help="Read the password from standard input.")]
                       = False) -> None:
    """Create the first admin, with a password and one-time codes. There is no default account: nothing exists
    until this is run, and it refuses once an admin exists."""
    from lawful.access.service import create
    from lawful.cli_governance import _password, _show_code_enrolment

    settings = operator_settings()
    password = _password(password_stdin, f"password for {name}")
    with db.Store(settings) as store, store.transaction() as session:
        _, uri = create(session, creator=None, name=name, roles=["admin"], first_admin=True, password=password)
    out.print(f"Created admin {name}.")
    _show_code_enrolment(name, uri)


@admin_app.command("load-dataset")
def admin_load_dataset(name: Annotated[str, typer.Argument(help="Dataset name: toronto-mci.")] = "toronto-mci"
                       ) -> None:
    """Load a bundled dataset into the store on first install (idempotent: a second load adds nothing)."""
    from dataclasses import asdict

    from lawful.cli import _print_dataset
    from lawful.cli_common import _Reporter
    from lawful.incidents.datasets import load_dataset

    settings = operator_settings()
    with db.Store(settings) as store, store.transaction() as session, _Reporter() as progress:
        summary = load_dataset(session, name=name, settings=settings, actor="operator", progress=progress)
    _print_dataset({"loads": [asdict(s) for s in summary.loads], "quirks": summary.quirks})


@admin_app.command("witness")
def admin_witness(dest: Annotated[Path, typer.Argument(help="Outside the data directory: a file (one JSON line per "
                                                       "head is appended) or a directory (one file per head), e.g. "
                                                       "a share synced to another machine.")]) -> None:
    """Publish the trail's current signed head (seq, hash, time, key, signature, key fingerprint) to a place the
    database's owner cannot rewrite; `lawful audit verify --witness DEST` then checks the trail against it. Run it
    from cron as the server's account."""
    from lawful.trail import witness

    settings = operator_settings()
    with db.Store(settings) as store, store.transaction(readonly=True) as session:
        h = witness.publish(session, settings=settings, dest=dest)
    out.print(f"Published head entry {h['seq']} ({h['hash'][:16]}...), key {h['key_id']}, to {dest}.", highlight=False)


@admin_app.command("rotate-key")
def admin_rotate_key() -> None:
    """Hand the trail over to a new signing key: a `trail.key` entry naming it, signed by the old key. Back up the
    new key; the old public key is kept beside it as retired. Publish the new public key to your auditors."""
    from lawful.access.service import Actor
    from lawful.trail import audit

    settings = operator_settings()
    with db.Store(settings) as store, store.transaction() as session:
        old, new = audit.rotate_key(session, settings=settings, actor=Actor("operator", frozenset({"admin"}), "secret"))
    out.print(f"The trail's key is now {new} (was {old}); back up {settings.audit_key_path}.", highlight=False)


@admin_app.command("verify")
def admin_verify(public_key: Annotated[Optional[Path], typer.Option(help="Verify with this public key (PEM): the key "
                                                                    "the trail was started with, as the agency "
                                                                    "published it. Default: the local record of it.")]
                 = None,
                 witness: Annotated[Optional[Path], typer.Option(help="Also check the heads published with `lawful "
                                                                 "admin witness` (a file or directory).")] = None
                 ) -> None:
    """Verify the trail in the store directly, as the server's account: what an auditor runs with the operator when
    the server refuses to sign (a trail that does not extend its last signed head stops every request until it is
    examined). Recomputes every hash and checks every signed head (checkpoints, the head file, witness heads) and
    the key that signed it; names the first entry altered, removed or inserted. Exit 1 if anything is wrong."""
    from lawful.trail import audit

    settings = operator_settings()
    with db.Store(settings) as store, store.transaction(readonly=True) as session:
        v = audit.verify(session, settings=settings, public_key_path=public_key, witness=witness)
    if v.ok:
        keys = ", then ".join(f"{kid} (from entry {start + 1})" if start else kid for start, kid in v.keys)
        out.print(f"[green]OK[/]: {v.entries:,} entries, every hash recomputed; head entry {v.head_seq} "
                  f"({v.head_hash[:16]}...) is covered by a signed checkpoint ({v.checkpoints:,} signed heads checked"
                  f"{', witness included' if witness else ''}; key {keys}). "
                  f"Retention: kept at least {settings.audit_retention_days} days; Lawful never deletes trail entries.",
                  highlight=False)
        return
    first = v.first
    out.print(f"[bold red]TAMPERED[/]: entry {first.seq}: {first.text}", highlight=False)
    for p in sorted(v.problems, key=lambda p: p.seq)[1:10]:
        out.print(f"  also entry {p.seq}: {p.text}", highlight=False)
    raise typer.Exit(1)
