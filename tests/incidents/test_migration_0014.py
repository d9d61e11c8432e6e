"""Migration 0014 turns SQLite's unique key on incidents into a named unique index (so a large first load can build
it once): every incident keeps its id and values, the key and the classification CHECK still hold, and going down
and up again gives back the schema a fresh store has. On PostgreSQL it changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lawful import db
from tests.conftest import migrate_to as _migrate, table_schema, write_csv
from tests.governance.test_trail import sql
from tests.incidents.test_stream_bulk import _load, _mapping
from tests.incidents.test_streaming import _rows


def _all_rows(settings) -> list[tuple]:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text("SELECT * FROM incidents ORDER BY id"))]
    engine.dispose()
    return out


COPY_FIRST = ("INSERT INTO incidents (source, source_key, category, occurred_at, lat, lon, x, y, classification, "
              "ingested_at, load_id) SELECT source, source_key, category, occurred_at, lat, lon, x, y, {cls}, "
              "ingested_at, load_id FROM incidents ORDER BY id LIMIT 1")


def test_down_and_up_keeps_every_incident_and_every_rule(store, tmp_path):
    fresh = table_schema(store, "incidents")
    _load(store, write_csv(tmp_path / "a.csv", _rows(300)), _mapping(tmp_path))
    before = _all_rows(store)
    assert len(before) > 200

    _migrate(store, "0013")
    assert _all_rows(store) == before
    if not store.database_url.startswith("postgresql"):
        engine = db.make_engine(store.database_url)
        with engine.connect() as conn:
            (table_sql,) = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'incidents'")).one()
            named = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'uq_incidents_source_key'"))
            assert named.scalar() == 0
        engine.dispose()
        assert "CONSTRAINT uq_incidents_source_key UNIQUE (source, source_key)" in table_sql

    _migrate(store, "head")
    assert _all_rows(store) == before  # ids and values, byte for byte
    assert table_schema(store, "incidents") == fresh  # exactly what a store migrated from scratch has
    with pytest.raises(Exception, match="(?i)unique"):
        sql(store, COPY_FIRST.format(cls="classification"))
    with pytest.raises(Exception, match="(?i)check"):
        sql(store, COPY_FIRST.format(cls="'bogus'").replace("SELECT source, source_key,",
                                                                      "SELECT source, source_key || '-x',"))
    assert _all_rows(store) == before
