"""`lawful admin ...` and `lawful serve`: the operator's commands, the only ones that open the store or the keys
directly. They run as the server's own account: each refuses unless this process owns and can read the key
directory (or is creating it), so a person who is not that account gets nothing from them."""

from __future__ import annotations

from typing import Annotated

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


def operator_settings() -> Settings:
    """The settings, if this process is the server's account: it owns the key directory, or it does not exist yet
    and is created now, private."""
    from lawful.server_files import can_read_keys, make_private

    settings = Settings.from_env()
    keys = settings.audit_key_path.parent
    if keys.exists() and not can_read_keys(settings):
        raise ConfigError(f"this account cannot read the server's key directory {keys}",
                          "operator commands run as the server's own account; everyone else uses "
                          "`lawful login` and the commands that talk to the server")
    make_private(settings)
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
    uvicorn.run(create_app(settings, door=door, host=host, port=port), host=host, port=port, log_level="warning",
                server_header=False)


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
    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as session:
            _, uri = create(session, creator=None, name=name, roles=["admin"], first_admin=True, password=password)
    finally:
        engine.dispose()
    out.print(f"Created admin {name}.")
    _show_code_enrolment(name, uri)


@admin_app.command("load-dataset")
def admin_load_dataset(name: Annotated[str, typer.Argument(help="Dataset name: toronto-mci.")] = "toronto-mci"
                       ) -> None:
    """Load a bundled dataset into the store on first install (idempotent: a second load adds nothing)."""
    from lawful.cli import _load_dataset

    operator_settings()
    _load_dataset(name)
