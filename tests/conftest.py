"""Fixtures: a fresh store per test, on SQLite always and on PostgreSQL when LAWFUL_TEST_DATABASE_URL is set."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from lawful import db
from lawful.settings import Settings

PG_URL = os.environ.get("LAWFUL_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="LAWFUL_TEST_DATABASE_URL not set"))]

TEST_MAPPING = """
[source]
name = "test-rms"
timezone = "America/Toronto"
crs = "EPSG:4326"
classification = "internal"
retention_days = 3650

[key]
column = "id"

[fields]
category = "offence"
lat = "lat"
lon = "lon"
area_code = "hood"
premises_type = "premises"
occurred_at = { column = "when", format = "%Y-%m-%d %H:%M" }

[categories]
allowed = ["Break and Enter", "Robbery", "Assault"]
rename = { "B&E" = "Break and Enter" }

[extra]
keep = ["weapon"]
"""
HEADER = "id,offence,when,lat,lon,hood,premises,weapon,victim_name"
GOOD_ROWS = [
    "A1,Break and Enter,2019-03-01 22:15,43.6532,-79.3832,Downtown,House,none,Jane Roe",
    "A2,Robbery,2019-03-02 01:05,43.7001,-79.4163,Forest Hill,Outside,knife,John Doe",
    "A3,B&E,2019-12-31 23:30,43.6400,-79.5000,Etobicoke,Apartment,none,",
]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, monkeypatch) -> Settings:
    """Settings for an empty, migrated store; environment set so the CLI uses it too."""
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAWFUL_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # where `lawful login` keeps its token
    monkeypatch.delenv("LAWFUL_SERVER", raising=False)
    for name in ("LAWFUL_TIMEZONE", "LAWFUL_CRS", "LAWFUL_BOUNDS", "LAWFUL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    schema = None
    if request.param == "postgresql":
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in PG_URL else "?"
        monkeypatch.setenv("LAWFUL_DATABASE_URL", f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    settings = Settings.from_env()
    # what the server's account runs with (server_files.make_private): operator commands, like `serve`, refuse a
    # store or key another account can read, so the test's files are made as the server makes them
    umask = os.umask(0o077)
    db.upgrade(settings)
    yield settings
    os.umask(umask)
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def mapping_file(tmp_path) -> Path:
    path = tmp_path / "test-rms.toml"
    path.write_text(TEST_MAPPING)
    return path


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def admin(name: str, capsys) -> None:
    """The first admin, made the way a person makes it."""
    code, _, err = run_cli(["admin", "create-admin", name, "--password-stdin"], capsys, stdin=PASSWORD + "\n")
    assert code == 0, err


# What a request may change even when it is refused: the trail records it, and the token's last use moves.
REQUEST_TABLES = frozenset({"audit_entries", "audit_checkpoints", "tokens"})


class Fingerprint(str):
    """A digest that, when two differ, says which tables did (pytest prints both in the failure)."""

    tables: dict[str, str]

    def __eq__(self, other):
        return str.__eq__(self, other)

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"Fingerprint({dict(self.tables)!r})"


def store_fingerprint(settings: Settings) -> str:
    """A digest of every row of every table but the request bookkeeping (the trail, which records even a refused
    request, and tokens' last use): equal before and after means the request changed no data."""
    from sqlalchemy import inspect

    engine = db.make_engine(settings.database_url)
    tables = {}
    with engine.connect() as conn:
        for table in sorted(set(inspect(conn).get_table_names()) - REQUEST_TABLES):
            h = hashlib.sha256(table.encode())
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")):
                h.update(repr(tuple(row)).encode())
            tables[table] = h.hexdigest()[:12]
    engine.dispose()
    fp = Fingerprint(hashlib.sha256(repr(sorted(tables.items())).encode()).hexdigest())
    fp.tables = tables
    return fp


def trail_length(settings: Settings) -> int:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
    engine.dispose()
    return n


PASSWORD = "correct horse battery staple"


_SERVERS: dict[tuple[str, str], object] = {}  # one in-process server per store, for the length of a test
_TOKENS: dict[tuple[str, str], str] = {}


def in_process_server(settings: Settings):
    """The Lawful server over this store, started on first use (its lifespan runs: file check, policy, server.start)
    and stopped at the end of the test. The CLI reaches it through lawful.client.HTTP_FACTORY."""
    from fastapi.testclient import TestClient

    from lawful.web.app import create_app

    key = (str(settings.data_dir), settings.database_url)
    if key not in _SERVERS:
        make_private(settings)
        client = TestClient(create_app(settings))
        client.__enter__()
        _SERVERS[key] = client
    return _SERVERS[key]


@pytest.fixture(autouse=True)
def _stop_servers():
    yield
    from lawful import client

    for server in _SERVERS.values():
        server.__exit__(None, None, None)
    _SERVERS.clear()
    _TOKENS.clear()
    client.HTTP_FACTORY = None


def _token_of(settings: Settings, name: str) -> str:
    """A real API token for an existing user (tests say `--as NAME`; the CLI itself has no such thing); for an
    unknown name a token the server will refuse."""
    from sqlalchemy import select

    from lawful.access.credentials import create_api_token
    from lawful.access.models import User
    from lawful.access.service import Actor

    key = (str(settings.data_dir), name)
    if key not in _TOKENS:
        engine = db.open_store(settings)
        try:
            with db.transaction(engine, settings=settings) as session:
                user = session.scalar(select(User).where(User.name == name))
                _TOKENS[key] = create_api_token(session, actor=Actor(user.name, frozenset(user.roles), user.clearance),
                                                label="test", days=1) if user else f"no-such-user-{name}"
        finally:
            engine.dispose()
    return _TOKENS[key]


def run_cli(args: list[str], capsys, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `lawful ARGS` in this process against an in-process server over the test's store; returns (exit code,
    stdout, stderr). `stdin` feeds --password-stdin. `--as NAME` is the test's shorthand for signing in as NAME: it
    is replaced by that user's real token, so every request is authenticated as in production."""
    import io

    from lawful import cli, client

    args = list(args)
    token = None
    if "--as" in args:
        i = args.index("--as")
        name = args[i + 1]
        del args[i:i + 2]
        token = _token_of(Settings.from_env(), name)
    settings = Settings.from_env()
    client.HTTP_FACTORY = lambda _server: in_process_server(settings)
    old, old_stdin, old_token = sys.argv, sys.stdin, os.environ.get("LAWFUL_TOKEN")
    sys.argv = ["lawful", *args]
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    if token is not None:
        os.environ["LAWFUL_TOKEN"] = token
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv, sys.stdin = old, old_stdin
        if token is not None:
            if old_token is None:
                os.environ.pop("LAWFUL_TOKEN", None)
            else:
                os.environ["LAWFUL_TOKEN"] = old_token
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def imports_of_the_store(*modules: str) -> list[str]:
    """Which of the database and web modules importing `modules` pulls in, in a fresh interpreter (a pure core
    must pull in none)."""
    import subprocess

    code = (f"import sys, {', '.join(modules)}; "
            "print(','.join(m for m in ('sqlalchemy', 'lawful.db', 'lawful.incidents', 'fastapi') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


def make_private(settings: Settings) -> None:
    """chmod the data directory's files 0600 and directories 0700, as the server's account keeps them."""
    if not settings.data_dir.exists():
        return
    for p in [settings.data_dir, *settings.data_dir.rglob("*")]:
        p.chmod(0o700 if p.is_dir() else 0o600)


def table_schema(settings: Settings, table: str) -> tuple:
    """A table's indexes, constraints and triggers as the database describes them (names and definitions): what a
    migration or a load that drops and remakes them must leave exactly as a freshly migrated store has it."""
    engine = db.make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return _described(conn, table)
    finally:
        engine.dispose()


def _described(conn, table: str) -> tuple:
    if conn.dialect.name == "postgresql":
        indexes = sorted(tuple(r) for r in conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
            "AND schemaname = current_schema()"), {"t": table}))
        constraints = sorted(tuple(r) for r in conn.execute(text(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass)"), {"t": table}))
        # the foreign key's two system triggers get new names when it is added again: compare what they do
        triggers = sorted(tuple(r) for r in conn.execute(text(
            "SELECT tgfoid::regproc::text, tgtype, tgenabled FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass)"),
            {"t": table}))
        return indexes, constraints, triggers
    return sorted(tuple(r) for r in conn.execute(text(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t"), {"t": table}))


def migrate_to(settings: Settings, revision: str) -> None:
    """Move the test's store to a migration: down to REVISION, or up to "head" (what a migration's test needs)."""
    from alembic import command

    engine = db.make_engine(settings.database_url)
    cfg = db.alembic_config(settings.database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if revision != "head" else command.upgrade)(cfg, revision)
    engine.dispose()


def mint_token(settings: Settings, name: str, roles=("analyst",), clearance: str = "internal") -> str:
    """A real API token for `name`, creating the user (and a first admin to create them) if needed: how tests sign
    in. Goes through the same services an admin's request would."""
    from sqlalchemy import select

    from lawful.access.credentials import create_api_token
    from lawful.access.models import User
    from lawful.access.service import Actor, create

    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as session:
            admins = [u for u in session.scalars(select(User)) if "admin" in u.roles]
            if not admins:
                admins = [create(session, creator=None, name="root-admin", roles=["admin"], first_admin=True,
                                 password=PASSWORD, clearance="secret")[0]]
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                root = Actor(admins[0].name, frozenset(admins[0].roles), admins[0].clearance)
                user, _ = create(session, creator=root, name=name, roles=list(roles), clearance=clearance)
            return create_api_token(session, actor=Actor(user.name, frozenset(user.roles), user.clearance),
                                    label="test", days=1)
    finally:
        engine.dispose()


def unused_code(settings, name: str, seed: str) -> str:
    """The current one-time code of `seed`, as if its 30 seconds had not been used yet: the server accepts each
    code once (RFC 6238 5.2), so a test that signs one person in several times forgets the step taken before."""
    import pyotp

    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET totp_last_step = NULL WHERE name = :name"), {"name": name})
    engine.dispose()
    return pyotp.TOTP(seed).now()


def approved_fingerprint(rule_file: Path) -> str:
    """What a rule set's card pins for this example file: its text with the zone file it names (rules.service)."""
    from lawful.rules.language import parse_ruleset
    from lawful.rules.service import fingerprint

    text = rule_file.read_text()
    zones = parse_ruleset(text, rule_file.name).zones_path
    return fingerprint(text, {zones: (rule_file.parent / zones).read_text()} if zones else None)

