"""Least privilege on PostgreSQL: migrations run as the schema's owner, the server as an application role that
owns nothing and may only do what the app does.

The trail's triggers (migration 0002) refuse UPDATE, DELETE and TRUNCATE, but a table's owner can disable or drop
them; so the role the server connects as must not own the tables, nor be a member of the role that does. It gets:
USAGE on the schema (never CREATE); SELECT and INSERT on the trail (`audit_entries`, `audit_checkpoints`); SELECT on
`alembic_version`; SELECT, INSERT, UPDATE, DELETE on every other table; USAGE and SELECT on the sequences. Never
TRUNCATE, REFERENCES, TRIGGER, nor any grant option.

The statements name "all tables in the schema", so they cover tables that later migrations add, but only the
tables that exist when they run: they are applied again after every upgrade (`upgrade_and_grant`, which the admin
CLI calls). ALTER DEFAULT PRIVILEGES is not used on purpose: it would hand UPDATE and DELETE on a future append-only
table to the app before anyone revoked them. The statements revoke everything first and grant again in one
transaction, so running them twice changes nothing and a privilege granted by hand is taken back.

`python -m lawful.db_roles --app-role ROLE [--schema SCHEMA]` prints the statements for an operator to read or
run with psql (docs/postgres.md).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from lawful import db
from lawful.errors import ConfigError, LawfulError, NotFound, StoreError
from lawful.settings import Settings

TRAIL_TABLES = ("audit_entries", "audit_checkpoints")  # append-only: SELECT and INSERT
READ_ONLY_TABLES = ("alembic_version",)  # the server checks the revision; only migrations move it


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, double-quoted (so any name is taken literally and nothing can be injected)."""
    if not name or "\x00" in name:
        raise ConfigError(f"{name!r} is not a PostgreSQL name.", "give the role or schema name as PostgreSQL shows it.")
    return '"' + name.replace('"', '""') + '"'


def grant_statements(schema: str, app_role: str) -> list[str]:
    """The statements that give `app_role` exactly the rights the server needs in `schema`; run by its owner."""
    s, r = quote_ident(schema), quote_ident(app_role)
    return [
        # The schema: use it, never create in it (a table of its own there could shadow one of ours).
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"REVOKE ALL ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        # Every table, whichever migration made it: read and write rows, nothing else (no TRUNCATE, no TRIGGER).
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        *(f"REVOKE INSERT, UPDATE, DELETE ON {s}.{quote_ident(t)} FROM {r}" for t in READ_ONLY_TABLES),
        # The trail: append and read only.
        *(f"REVOKE UPDATE, DELETE ON {s}.{quote_ident(t)} FROM {r}" for t in TRAIL_TABLES),
        # Sequences behind serial ids: nextval needs USAGE.
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
    ]


def apply_grants(engine: Engine, *, app_role: str, schema: str | None = None) -> list[str]:
    """Apply `grant_statements` in one transaction on `engine` (connected as the schema's owner); returns them.

    `schema` defaults to the connection's current schema (the search_path in its URL). Refuses, before changing
    anything, a role that does not exist, is a superuser, or owns (or may act as the owner of) the schema or any
    of its tables: such a role could switch the trail's triggers off whatever it is granted.
    """
    if engine.dialect.name != "postgresql":
        raise ConfigError(f"Database roles exist only on PostgreSQL, not on {engine.dialect.name}.",
                          "on SQLite, protect the store file with the server account's file permissions.")
    with engine.begin() as conn:
        schema = schema or conn.execute(text("SELECT current_schema()")).scalar()
        if schema is None or conn.execute(text("SELECT to_regclass(:t)"),
                                          {"t": f"{quote_ident(schema)}.alembic_version"}).scalar() is None:
            raise StoreError(f"Schema {schema!r} holds no Lawful store yet.",
                             "run the migrations as the schema's owner first (`lawful admin db upgrade`).")
        _refuse_powerful(conn, schema, app_role)
        statements = grant_statements(schema, app_role)
        for statement in statements:
            conn.exec_driver_sql(statement)
    return statements


def _refuse_powerful(conn, schema: str, app_role: str) -> None:
    role = conn.execute(text("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :r"),
                        {"r": app_role}).first()
    if role is None:
        raise NotFound(f"There is no PostgreSQL role {app_role!r}.",
                       f"create it first: CREATE ROLE {quote_ident(app_role)} LOGIN (docs/postgres.md).")
    if role.rolsuper:
        raise LawfulError(f"PostgreSQL role {app_role!r} is a superuser; no grant can limit what it does.",
                          "serve as an ordinary role (docs/postgres.md).", kind="denied")
    if role.rolcreaterole:  # it may grant itself the owner's role (PostgreSQL 15), then disable the trail's triggers
        raise LawfulError(f"PostgreSQL role {app_role!r} has CREATEROLE: it can make itself a member of the owner's "
                          "role and switch off the trail's protections.",
                          f"ALTER ROLE {quote_ident(app_role)} NOCREATEROLE, or serve as an ordinary role "
                          "(docs/postgres.md).", kind="denied")
    owners = conn.execute(text(
        "SELECT n.nspowner::regrole::text FROM pg_namespace n "
        "WHERE n.nspname = :s AND pg_has_role(:r, n.nspowner, 'MEMBER') "
        "UNION SELECT c.relowner::regrole::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND pg_has_role(:r, c.relowner, 'MEMBER')"), {"s": schema, "r": app_role}).scalars().all()
    if owners:
        raise LawfulError(
            f"PostgreSQL role {app_role!r} owns, or may act as, {', '.join(sorted(owners))}, which owns schema "
            f"{schema!r} or its tables; it could switch off the trail's protections.",
            "migrate as the owner (LAWFUL_MIGRATE_URL) and serve as a separate role that is not a member of it "
            "(docs/postgres.md).", kind="denied")


def upgrade_and_grant(settings: Settings) -> tuple[str | None, str, list[str]]:
    """The admin upgrade path: migrate as the owner (`settings.migrate_url`), then grant the server's role (the user
    of `settings.database_url`) its rights again. Returns (revision before, revision after, statements applied).

    Without a migrate URL, or on SQLite, it is `db.upgrade` as before and applies no statements.
    """
    if settings.migrate_url is None:
        return (*db.upgrade(settings), [])
    for name, url in (("LAWFUL_MIGRATE_URL", settings.migrate_url), ("LAWFUL_DATABASE_URL", settings.database_url)):
        if make_url(url).get_backend_name() != "postgresql":
            raise ConfigError(f"{name} is not a PostgreSQL URL; a separate migration role exists only on PostgreSQL.",
                              "unset LAWFUL_MIGRATE_URL on SQLite, or give both URLs for the same PostgreSQL database.")
    app_role = make_url(settings.database_url).username
    if not app_role:
        raise ConfigError("LAWFUL_DATABASE_URL names no user, so there is no application role to grant rights to.",
                          "put the application role in it: postgresql://lawful_app@HOST:5432/DB.")
    before, after = db.upgrade(replace(settings, database_url=settings.migrate_url))
    engine = db.make_engine(settings.migrate_url)
    try:
        return before, after, apply_grants(engine, app_role=app_role)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lawful.db_roles",
                                     description="Print the SQL that gives Lawful's server role its rights.")
    parser.add_argument("--app-role", required=True, help="the role the server connects as, e.g. lawful_app")
    parser.add_argument("--schema", default="public", help="the schema that holds Lawful's tables (default: public)")
    args = parser.parse_args(argv)
    print("BEGIN;")
    for statement in grant_statements(args.schema, args.app_role):
        print(statement + ";")
    print("COMMIT;")


if __name__ == "__main__":
    main()
