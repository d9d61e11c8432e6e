"""A load large for the table writes incidents without its secondary indexes (and, on PostgreSQL, its primary key
and foreign key) and makes them again before the transaction ends: afterwards the schema is exactly what the
migrations made, and the records exactly what a load with every index kept gives; a load that fails half-way,
indexes dropped, leaves schema and rows as they were. Thresholds are lowered so a few hundred rows count as large."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from lawful import db
from lawful.errors import InputError
from lawful.incidents import store as store_module
from lawful.incidents.mapping import load_mapping
from lawful.incidents.store import Stage
from lawful.incidents.stream import ingest_path
from tests.conftest import GOOD_ROWS, store_fingerprint, table_schema, write_csv
from tests.incidents.test_streaming import HASH_MAPPING, _rows, _snapshot


def _schema(settings) -> tuple:
    return table_schema(settings, "incidents")


def _load(settings, path, mapping, **kw):
    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as s:
            return ingest_path(s, path=path, mapping=mapping, settings=settings, actor="t", **kw)
    finally:
        engine.dispose()


@pytest.fixture
def rebuilt(monkeypatch):
    """Every load counts as large; the names of what each load made again are collected."""
    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 0)
    monkeypatch.setattr(store_module, "REBUILD_FRACTION", 0.0)
    seen: list[list[str]] = []
    real = Stage.finish

    def finish(self):
        out = real(self)
        seen.append(list(self.rebuilt))
        return out

    monkeypatch.setattr(Stage, "finish", finish)
    return seen


def _mapping(tmp_path, body=HASH_MAPPING):
    path = tmp_path / "m.toml"
    path.write_text(body)
    return load_mapping(path)


def test_a_large_load_gives_the_same_records_and_leaves_the_migrated_schema(store, tmp_path, monkeypatch):
    mapping = _mapping(tmp_path)
    csv = write_csv(tmp_path / "export.csv", _rows(600))
    migrated = _schema(store)
    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 10**9)  # first with every index kept: the reference
    kept = _load(store, csv, mapping, block_bytes=2048)
    expected = _snapshot(store)
    engine = db.make_engine(store.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM quarantine"))
        conn.execute(text("DELETE FROM incidents"))
    engine.dispose()
    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 0)
    monkeypatch.setattr(store_module, "REBUILD_FRACTION", 0.0)
    seen: list[list[str]] = []
    real = Stage.finish
    monkeypatch.setattr(Stage, "finish", lambda self: (real(self), seen.append(list(self.rebuilt)))[0])
    large = _load(store, csv, mapping, block_bytes=2048)
    assert seen and "ix_incidents_occurred" in seen[0] and "ix_incidents_category_occurred" in seen[0]
    if store.database_url.startswith("postgresql"):
        # into an empty table under ACCESS EXCLUSIVE: the unique key too, rebuilt with the rest before commit
        assert {"incidents_pkey", "incidents_load_id_fkey", "uq_incidents_source_key"} <= set(seen[0])
    else:  # a first load of the source: its unique key too (a named index since migration 0014), built once at the end
        assert "uq_incidents_source_key" in seen[0]
    assert _snapshot(store) == expected
    for field in ("rows_read", "inserted", "already_present", "quarantined_rows", "problem_counts", "notes"):
        assert getattr(large, field) == getattr(kept, field), field
    assert _schema(store) == migrated


def test_a_large_re_load_into_a_full_table_adds_nothing(store, tmp_path, rebuilt):
    mapping = _mapping(tmp_path)
    csv = write_csv(tmp_path / "export.csv", _rows(300))
    migrated = _schema(store)
    first = _load(store, csv, mapping, block_bytes=1024)
    again = _load(store, csv, mapping, block_bytes=4096)
    assert first.inserted > 0 and again.inserted == 0 and again.already_present == first.inserted
    assert len(rebuilt) == 2 and all(rebuilt)
    # the source is stored already: the re-load's ON CONFLICT needs the unique key, so it stays
    assert "uq_incidents_source_key" not in rebuilt[1]
    assert _schema(store) == migrated


@pytest.mark.parametrize("where", ["second chunk", "rebuild"])
def test_a_large_load_that_fails_with_its_indexes_dropped_leaves_schema_and_rows_as_before(
        store, tmp_path, monkeypatch, rebuilt, where):
    mapping = _mapping(tmp_path)
    _load(store, write_csv(tmp_path / "first.csv", GOOD_ROWS), mapping)  # the table holds rows already
    migrated, before = _schema(store), store_fingerprint(store)
    if where == "second chunk":  # SQLite has dropped its indexes at the first chunk, PostgreSQL not yet
        real_add = Stage.add
        calls = []

        def add(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("the load fails here")
            return real_add(self, *args, **kwargs)

        monkeypatch.setattr(Stage, "add", add)
    else:  # indexes dropped, rows written, then the first statement that makes them again fails
        real_drop, real_sqlite = store_module._drop_for_load_postgres, Stage._start_sqlite

        def drop(cur):
            return [("boom", "SELECT 1 / 0")] + real_drop(cur)

        def start(self, expected_rows):
            real_sqlite(self, expected_rows)
            self._indexes.insert(0, ("boom", "CREATE INDEX ix_boom ON no_such_table (x)"))

        monkeypatch.setattr(store_module, "_drop_for_load_postgres", drop)
        monkeypatch.setattr(Stage, "_start_sqlite", start)
    with pytest.raises(Exception) as info:
        _load(store, write_csv(tmp_path / "export.csv", _rows(600)), mapping, block_bytes=2048)
    assert "the load fails here" in str(info.value) or "no_such_table" in str(info.value) or "division" in str(info.value)
    assert _schema(store) == migrated
    assert store_fingerprint(store) == before
    # and the store still loads: the same file, run to the end, with its indexes made again
    monkeypatch.undo()
    summary = _load(store, tmp_path / "export.csv", mapping, block_bytes=2048)
    assert summary.inserted > 0 and _schema(store) == migrated


def test_an_empty_postgres_table_takes_each_chunk_straight_into_incidents(store, tmp_path, monkeypatch, rebuilt):
    if not store.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite always writes chunks straight into incidents")
    directs = []
    real = Stage._start_postgres

    def start(self, expected_rows):
        real(self, expected_rows)
        directs.append(self.direct)

    monkeypatch.setattr(Stage, "_start_postgres", start)
    mapping = _mapping(tmp_path)
    _load(store, write_csv(tmp_path / "a.csv", _rows(200)), mapping, block_bytes=2048)
    _load(store, write_csv(tmp_path / "b.csv", _rows(200)[:50]), mapping, block_bytes=2048)
    assert directs == [True, False]  # the second table is not empty: staged, then one INSERT ... SELECT


def test_ids_repeated_across_chunks_are_quarantined_and_the_rebuilt_unique_key_holds(store, tmp_path, rebuilt):
    """The unique key is rebuilt, not kept, when a large load is its source's first: the file's repeated
    ids must still be caught (as they are read, across chunks), and the key must hold again afterwards."""
    from tests.conftest import TEST_MAPPING

    mapping = _mapping(tmp_path, TEST_MAPPING)  # keyed by the id column; _rows repeats ids 11 rows x 37 apart
    csv = write_csv(tmp_path / "export.csv", _rows(600))
    first = _load(store, csv, mapping, block_bytes=2048)
    _, quarantine = _snapshot(store)
    dupes = [r for r in quarantine if r[1] == "id" and "duplicate key" in r[3]]
    assert first.inserted > 400 and len(dupes) > 10 and max(r[0] for r in dupes) > 400
    assert "uq_incidents_source_key" in rebuilt[0]
    engine = db.make_engine(store.database_url)
    try:
        with pytest.raises(Exception, match="(?i)unique"), engine.begin() as conn:
            conn.execute(text("INSERT INTO incidents (source, source_key, category, occurred_at, lat, lon, x, y, "
                              "classification, ingested_at, load_id) SELECT source, source_key, category, "
                              "occurred_at, lat, lon, x, y, classification, ingested_at, load_id FROM incidents "
                              "LIMIT 1"))
    finally:
        engine.dispose()
    again = _load(store, csv, mapping, block_bytes=4096)
    assert again.inserted == 0 and again.already_present == first.inserted


@pytest.mark.parametrize("columns, kept", [("(id)", "incidents_pkey"),
                                            ("(source, source_key)", "uq_incidents_source_key")],
                         ids=["primary key", "unique key"])
def test_a_key_another_table_refers_to_is_never_dropped(store, tmp_path, rebuilt, columns, kept):
    """An operator's own table may refer to incidents (a case register, say): a large load leaves that key and that
    table's foreign key alone, drops the rest, and the load still succeeds."""
    sqlite = not store.database_url.startswith("postgresql")
    if sqlite and columns == "(id)":
        pytest.skip("SQLite's primary key is the table's rowid: never dropped")
    engine = db.make_engine(store.database_url)
    types = ["integer"] if columns == "(id)" else ["varchar(100)", "varchar(200)"]
    names = [f"r{i}" for i in range(len(types))]
    declared = ", ".join(f"{n} {t}" for n, t in zip(names, types))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE referring ({declared}, FOREIGN KEY ({', '.join(names)}) "
                          f"REFERENCES incidents {columns})"))
    try:
        summary = _load(store, write_csv(tmp_path / "a.csv", _rows(200)), _mapping(tmp_path), block_bytes=2048)
        assert summary.inserted > 100
        assert kept not in rebuilt[0] and "ix_incidents_occurred" in rebuilt[0]
        with engine.connect() as conn:
            fks = conn.execute(text(
                "SELECT count(DISTINCT id) FROM pragma_foreign_key_list('referring')" if sqlite else
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'referring'::regclass AND contype = 'f'")).scalar()
        assert fks == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE referring"))
        engine.dispose()


def test_a_load_leaves_the_pooled_sqlite_connection_as_it_found_it(store, tmp_path, rebuilt):
    if store.database_url.startswith("postgresql"):
        pytest.skip("SQLite's connection settings")
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as s:
            conn = s.connection().connection.driver_connection
            cache = conn.execute("PRAGMA cache_size").fetchone()[0]
            ingest_path(s, path=write_csv(tmp_path / "a.csv", _rows(200)), mapping=_mapping(tmp_path), settings=store,
                        actor="t")
            assert conn.execute("PRAGMA cache_size").fetchone()[0] == cache
            assert conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
    finally:
        engine.dispose()


def test_an_error_on_the_reading_thread_is_raised_and_the_thread_ends(store, tmp_path, mapping_file):
    before = store_fingerprint(store)
    rows = [f"A{i},Robbery,2019-03-02 01:05,43.70,-79.41,Hood,House,none," for i in range(400)]
    path = write_csv(tmp_path / "export.csv", rows)
    data = path.read_bytes()
    path.write_bytes(data[:-200] + b"\xff" + data[-199:])  # a bad byte in the file's last block
    threads = threading.active_count()
    with pytest.raises(InputError, match="not valid utf-8"):
        _load(store, path, load_mapping(mapping_file), block_bytes=1024)
    assert store_fingerprint(store) == before
    assert threading.active_count() == threads


def test_records_that_appear_under_the_load_roll_it_back_with_the_reason(store, tmp_path, monkeypatch):
    """Another load of the source committed between this load's check and its writes (simulated: the check is
    told the source is empty): the unique key stops it, the whole load is rolled back, and the message says why."""
    from lawful.errors import StoreError

    mapping = _mapping(tmp_path)
    csv = write_csv(tmp_path / "export.csv", _rows(200))
    _load(store, csv, mapping)
    before = store_fingerprint(store)
    real_pg, real_sqlite = Stage._start_postgres, Stage._start_sqlite

    def blind_sqlite(self, expected_rows):
        real_sqlite(self, expected_rows)
        self.on_conflict = False

    monkeypatch.setattr(Stage, "_start_sqlite", blind_sqlite)
    monkeypatch.setattr(store_module, "_drop_for_load_postgres", lambda cur: [])
    monkeypatch.setattr(store_module, "large_for_table", lambda rows, stored: True)

    def blind_pg(self, expected_rows):  # as if the table had been empty: COPY straight into incidents
        real_pg(self, max(expected_rows, store_module.REBUILD_MIN_ROWS))
        self.direct = True

    monkeypatch.setattr(Stage, "_start_postgres", blind_pg)
    monkeypatch.setattr(store_module, "REBUILD_MIN_ROWS", 0)
    with pytest.raises(StoreError, match="Another load of source") as info:
        _load(store, csv, mapping)
    assert "rolled back" in str(info.value)
    assert store_fingerprint(store) == before


def test_a_connection_whose_checks_cannot_be_restored_is_never_reused(tmp_path, monkeypatch):
    """The SQLite load switches the classification CHECK off for its own statements; if switching it back fails,
    the connection is thrown away (invalidated), not returned to the pool with CHECKs off."""
    from sqlalchemy.orm import Session


    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with Session(engine) as session:
        stage = Stage(session, load_id=1, per_load={"source": "s", "classification": "internal"})
        stage._checks_off = True

        class Broken:
            def cursor(self):
                raise RuntimeError("connection lost")

        stage.conn = Broken()
        invalidated = []
        monkeypatch.setattr(type(session.connection()), "invalidate", lambda self, *a, **k: invalidated.append(1))
        with pytest.raises(RuntimeError):
            stage.close()
        assert invalidated == [1]
    engine.dispose()
