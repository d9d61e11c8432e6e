"""Migration 0013 takes the unique index off the entries' hashes (and, on SQLite, rebuilds the table around its
sequence number): a trail written before it comes through whole, still verifies, still refuses changes, and goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from lawful import db
from lawful.trail import audit
from tests.conftest import migrate_to as _migrate, table_schema
from tests.trail.helpers import append_entries, rows, sql


def _append_at_old_revision(settings, n: int, per_tx: int) -> None:
    """append_entries, through a bare engine: open_store (rightly) refuses a store behind the migrations."""
    engine = db.make_engine(settings.database_url)
    for start in range(0, n, per_tx):
        with db.transaction(engine, settings=settings) as s:
            for i in range(start, min(n, start + per_tx)):
                audit.append(s, actor="tester", action="consultation", obj=f"incident:{i}", purpose="before 0013",
                             details={"i": i})
    engine.dispose()


def _hash_is_unique(settings) -> bool:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        found = any(u["column_names"] == ["hash"] for u in inspect(conn).get_unique_constraints("audit_entries"))
    engine.dispose()
    return found


def _indexes(settings) -> set[str]:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("audit_entries")}
    engine.dispose()
    return names


def _verified(settings) -> int:
    engine = db.open_store(settings)
    with db.transaction(engine, readonly=True, settings=settings) as s:
        v = audit.verify(s, settings=settings)
    engine.dispose()
    assert v.ok, v.first
    return v.entries


def test_a_trail_written_before_the_migration_comes_through_whole_and_goes_on(store):
    fresh = table_schema(store, "audit_entries")
    _migrate(store, "0012")
    assert _hash_is_unique(store)  # the old schema, as stores before 0013 have it
    _append_at_old_revision(store, 40, per_tx=7)
    before = rows(store)

    _migrate(store, "head")

    assert not _hash_is_unique(store)
    assert table_schema(store, "audit_entries") == fresh  # its index and append-only triggers, as a new store has them
    assert "ix_audit_entries_action" in _indexes(store)  # (a fresh store runs 0013 too: named, not only compared)
    assert rows(store) == before  # every entry, in order, byte for byte
    assert _verified(store) == 40
    for statement in ("UPDATE audit_entries SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_entries WHERE seq = 3"):
        with pytest.raises(DBAPIError, match="append-only"):  # the rebuilt table kept its guards
            sql(store, statement)
    append_entries(store, 5)  # the signed head written before the migration still anchors the next append
    assert _verified(store) == 45
    engine = db.make_engine(store.database_url)
    with engine.connect() as conn:
        actions = conn.execute(text("SELECT count(*) FROM audit_entries WHERE action = 'consultation'")).scalar_one()
    engine.dispose()
    assert actions == 45


def test_downgrading_puts_the_unique_index_back_without_losing_an_entry(store):
    append_entries(store, 12, per_tx=5)
    before = rows(store)
    _migrate(store, "0012")
    assert _hash_is_unique(store) and rows(store) == before
    _migrate(store, "head")
    assert _verified(store) == 12
