"""Least privilege on PostgreSQL: migrated by the schema's owner, served by an application role that can append to the
trail and do the app's work, and cannot change, empty or unprotect the trail. Runs only against a real server."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from lawful import db, db_roles
from lawful.errors import LawfulError
from lawful.incidents.mapping import load_mapping
from lawful.incidents.service import ingest_file
from lawful.settings import Settings
from lawful.trail import audit
from tests.conftest import GOOD_ROWS, TEST_MAPPING, write_csv

PG_URL = os.environ.get("LAWFUL_TEST_DATABASE_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="LAWFUL_TEST_DATABASE_URL not set")


def _url(role: str, schema: str) -> str:
    """PG_URL with another user (trust auth lets any role log in) and the schema as the search path."""
    url = make_url(PG_URL).set(username=role, password=None)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def roles(tmp_path, monkeypatch):
    """A fresh schema owned by a fresh owner role, migrated by it, and a separate application role granted its rights.
    Yields (owner settings, app settings); drops schema and roles afterwards whatever happened."""
    tag = uuid.uuid4().hex[:10]
    schema, owner, app = f"lp_{tag}", f"lp_owner_{tag}", f"lp_app_{tag}"
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))
    for name in ("LAWFUL_DATABASE_URL", "LAWFUL_MIGRATE_URL"):
        monkeypatch.delenv(name, raising=False)
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
            conn.execute(text(f"CREATE ROLE {app} LOGIN"))
            conn.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {owner}"))
        base = Settings.from_env()
        yield replace(base, database_url=_url(owner, schema)), replace(base, database_url=_url(app, schema),
                                                                           migrate_url=_url(owner, schema))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            for role in (app, owner):
                if _exists(conn, role):
                    conn.execute(text(f"DROP OWNED BY {role} CASCADE"))  # grants and anything left elsewhere
                    conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def _exists(conn, role: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is not None


def _refused(engine, statement: str) -> str:
    """Run `statement` as the engine's role; it must fail. Returns PostgreSQL's message."""
    with pytest.raises(DBAPIError) as caught:
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    return str(caught.value.orig)


@needs_pg
def _notices(engine, statement: str) -> list[str]:
    """Run `statement` as the engine's role; returns the warnings PostgreSQL sent back."""
    seen: list[str] = []
    handler = lambda diagnostic: seen.append(diagnostic.message_primary)  # noqa: E731
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        driver.add_notice_handler(handler)
        try:
            conn.exec_driver_sql(statement)
        finally:
            driver.remove_notice_handler(handler)
    return seen


@needs_pg
def test_app_role_appends_and_works_but_cannot_touch_the_trail(roles, tmp_path):
    owner_settings, app_settings = roles
    before, after, statements = db_roles.upgrade_and_grant(app_settings)
    assert (before, after) == (None, db.head_revision())
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA" in " ".join(statements)

    # The server's ordinary work, as the app role: a load (COPY into a temp table, serial ids, an UPDATE of its
    # load row, a trail entry and a signed checkpoint) and a trail entry of its own.
    app = db.open_store(app_settings)
    try:
        csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)
        mapping = tmp_path / "test-rms.toml"
        mapping.write_text(TEST_MAPPING)
        with db.transaction(app, settings=app_settings) as s:
            summary = ingest_file(s, path=csv, mapping=load_mapping(mapping), settings=app_settings, actor="os:test")
        assert summary.inserted == 3
        with db.transaction(app, settings=app_settings) as s:
            seq = audit.append(s, actor="alice", action="consultation", obj="incidents", purpose="test")
        with db.transaction(app, readonly=True, settings=app_settings) as s:
            assert audit.verify(s, settings=app_settings).ok
            assert s.execute(text("SELECT count(*) FROM incidents")).scalar() == 3
        assert seq == 2

        # What the trail's protections rest on: none of these may work for the server's role.
        for table in db_roles.TRAIL_TABLES:
            for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET seq = seq", f"TRUNCATE {table}"):
                assert "permission denied" in _refused(app, statement), statement  # the privilege, not the trigger
            # Without a grant option PostgreSQL answers GRANT with a warning, not an error: it grants nothing.
            assert _notices(app, f"GRANT UPDATE, DELETE, TRUNCATE ON {table} TO PUBLIC, CURRENT_USER") == \
                [f'no privileges were granted for "{table}"']
            assert "permission denied" in _refused(app, f"DELETE FROM {table}")
            assert "must be owner" in _refused(app, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            assert "must be owner" in _refused(app, f"DROP TRIGGER {table}_no_change ON {table}")
            assert "permission denied" in _refused(app, f"CREATE TRIGGER sneak BEFORE DELETE ON {table} "
                                                        f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()")
        assert "permission denied" in _refused(app, "CREATE TABLE audit_shadow (seq integer)")
        assert "permission denied" in _refused(app, "UPDATE alembic_version SET version_num = 'x'")
        with db.transaction(app, readonly=True) as s:
            assert s.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 2  # nothing was lost
    finally:
        app.dispose()


@needs_pg
def test_grants_cover_every_table_and_a_table_a_later_migration_adds(roles):
    owner_settings, app_settings = roles
    db_roles.upgrade_and_grant(app_settings)
    owner = db.make_engine(owner_settings.database_url)
    app_role = make_url(app_settings.database_url).username
    try:
        with owner.begin() as conn:  # what a later migration (0007, say) does as the owner
            conn.exec_driver_sql("CREATE TABLE later_things (id serial PRIMARY KEY, note text)")
        first = db_roles.apply_grants(owner, app_role=app_role)
        assert db_roles.apply_grants(owner, app_role=app_role) == first  # idempotent: the same state again
        with owner.connect() as conn:
            rights = dict(conn.execute(text(
                "SELECT c.relname, string_agg(p.priv, ',' ORDER BY p.priv) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace, "
                "unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(priv) "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND has_table_privilege(:r, c.oid, p.priv) GROUP BY c.relname"), {"r": app_role}).all())
            create = conn.execute(text("SELECT has_schema_privilege(:r, current_schema(), 'CREATE')"),
                                  {"r": app_role}).scalar()
        assert rights.pop("audit_entries") == rights.pop("audit_checkpoints") == "INSERT,SELECT"
        assert rights.pop("alembic_version") == "SELECT"
        assert rights["later_things"] == "DELETE,INSERT,SELECT,UPDATE"
        assert {"incidents", "loads", "users"} <= set(rights)
        assert set(rights.values()) == {"DELETE,INSERT,SELECT,UPDATE"}
        assert create is False
        app = db.make_engine(app_settings.database_url)
        try:
            with app.begin() as conn:  # the new table's serial works for the app (sequence USAGE)
                conn.exec_driver_sql("INSERT INTO later_things (note) VALUES ('x')")
        finally:
            app.dispose()
    finally:
        owner.dispose()


@needs_pg
def test_refuses_to_grant_to_the_owner_itself(roles):
    owner_settings, app_settings = roles
    db.upgrade(owner_settings)
    same = replace(app_settings, database_url=owner_settings.database_url)  # serving as the owner: refused
    with pytest.raises(LawfulError) as caught:
        db_roles.upgrade_and_grant(same)
    assert caught.value.kind == "denied" and "could switch off the trail's protections" in str(caught.value)


@needs_pg
def test_refuses_a_role_that_could_make_itself_the_owner(roles):
    """CREATEROLE lets a role grant itself the owner's role (PostgreSQL 15), then switch the trail's guards off."""
    owner_settings, app_settings = roles
    app_role = make_url(app_settings.database_url).username
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"ALTER ROLE {app_role} CREATEROLE"))
        with pytest.raises(LawfulError) as caught:
            db_roles.upgrade_and_grant(app_settings)
        assert caught.value.kind == "denied" and "CREATEROLE" in str(caught.value)
        with admin.begin() as conn:
            conn.execute(text(f"ALTER ROLE {app_role} NOCREATEROLE"))
        db_roles.upgrade_and_grant(app_settings)  # as an ordinary role: granted
    finally:
        admin.dispose()


@needs_pg
def test_the_server_role_loads_a_file_large_for_the_table(roles, tmp_path, monkeypatch):
    """Only the owner may drop and rebuild incidents' indexes: the server's role keeps them and loads through the
    staging table (a large load as the server's role failed outright: must be owner of table incidents)."""
    from lawful.incidents import store as incident_store

    owner_settings, app_settings = roles
    db_roles.upgrade_and_grant(app_settings)
    monkeypatch.setattr(incident_store, "REBUILD_MIN_ROWS", 1)  # every load is "large": the path a big file takes
    monkeypatch.setattr(incident_store, "REBUILD_FRACTION", 0.0)
    app = db.open_store(app_settings)
    mapping = tmp_path / "test-rms.toml"
    mapping.write_text(TEST_MAPPING)
    try:
        for rows, added in ((GOOD_ROWS[:1], 1), (GOOD_ROWS, 2)):  # into an empty table, then into one with rows
            csv = write_csv(tmp_path / "export.csv", rows)
            with db.transaction(app, settings=app_settings) as s:
                from lawful.incidents.stream import ingest_path

                summary = ingest_path(s, path=csv, mapping=load_mapping(mapping), settings=app_settings, actor="os:t")
            assert summary.inserted == added
        with db.transaction(app, readonly=True) as s:
            assert s.execute(text("SELECT count(*) FROM incidents")).scalar() == 3
            indexes = {r[0] for r in s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'incidents'"))}
        assert {"ix_incidents_occurred", "ix_incidents_category_occurred"} <= indexes
    finally:
        app.dispose()


def test_statements_printed_for_operators(capsys):
    db_roles.main(["--app-role", "lawful_app", "--schema", "lawful"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "BEGIN;" and out[-1] == "COMMIT;"
    assert 'REVOKE UPDATE, DELETE ON "lawful"."audit_entries" FROM "lawful_app";' in out
    assert 'GRANT USAGE ON SCHEMA "lawful" TO "lawful_app";' in out
    assert not any("TRUNCATE" in line or "CREATE" in line and "REVOKE" not in line for line in out)


def test_migrate_url_is_read_and_refused_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAWFUL_MIGRATE_URL", "postgresql://lawful_owner@127.0.0.1:5432/lawful")
    settings = Settings.from_env()
    assert settings.migrate_url == "postgresql+psycopg://lawful_owner@127.0.0.1:5432/lawful"
    with pytest.raises(LawfulError) as caught:  # a SQLite store has no roles: the owner URL is a mistake, said so
        db_roles.upgrade_and_grant(settings)
    assert "LAWFUL_DATABASE_URL is not a PostgreSQL URL" in str(caught.value)
    assert not (tmp_path / "data").exists()  # refused before anything was created
