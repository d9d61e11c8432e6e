"""Bulk writes of incident records. Same result on SQLite and PostgreSQL; each takes its fastest path.

Rows whose (source, source_key) is already stored are skipped by the database itself (ON CONFLICT DO NOTHING),
which is what makes a re-load add nothing. Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from lawful.incidents.models import CLASSIFICATIONS
from lawful.incidents.validate import RECORD_COLUMNS

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
TIME_COLUMNS = ("occurred_at", "occurred_from", "occurred_to", "reported_at", "ingested_at", "retention_until")
PER_LOAD = ("source", "classification", "ingested_at")  # one value for the whole load: bound once, not per row
CHUNK = 20_000
_PG_TYPES = {"source": "varchar", "classification": "varchar", "ingested_at": "timestamptz", "load_id": "integer"}


def _time_text(col: pd.Series, dialect: str) -> list:
    """UTC timestamps as the text each database stores; SQLite's form is the one SQLAlchemy reads back."""
    return _time_arrow(col, dialect).to_pylist()


def _time_arrow(col: pd.Series, dialect: str) -> pa.Array:
    naive = pa.array(col.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]"))
    text = pc.cast(naive, pa.string())  # '2014-03-02 05:00:00.000000', nulls stay null
    if dialect == "postgresql":
        text = pc.binary_join_element_wise(text, pa.scalar("+00"), "")
    return text


def _per_row(records: pd.DataFrame, dialect: str) -> tuple[list[str], list[tuple]]:
    """The columns that vary by row (all-null ones left to their NULL default) and the rows as tuples."""
    names, cols = [], []
    for name in RECORD_COLUMNS:
        col = records[name]
        if name in PER_LOAD or not col.notna().any():
            continue
        names.append(name)
        if name in TIME_COLUMNS:
            cols.append(_time_text(col, dialect))
        elif name == "attributes":
            cols.append([None if v is None else json.dumps(v, ensure_ascii=False) for v in col])
        else:
            cols.append(col.astype(object).where(col.notna(), None).tolist())
    return names, list(zip(*cols))


def _per_load(records: pd.DataFrame, load_id: int, dialect: str) -> dict[str, object]:
    values = {name: records[name].iloc[0] for name in PER_LOAD}
    values["ingested_at"] = _time_text(records["ingested_at"].iloc[:1], dialect)[0]
    values["load_id"] = load_id
    return values


def insert_incidents(session: Session, records: pd.DataFrame, load_id: int, progress: Progress | None = None) -> int:
    """Insert the records, skipping keys already stored; returns how many were new."""
    if records.empty:
        return 0
    dialect = session.get_bind().dialect.name
    names, rows = _per_row(records, dialect)
    constants = _per_load(records, load_id, dialect)
    dbapi = session.connection().connection.driver_connection
    if progress:
        progress("writing", 0, len(rows))
    if dialect == "postgresql":
        return _insert_postgres(dbapi, names, rows, constants, progress)
    return _insert_sqlite(dbapi, names, rows, constants, progress)


def _insert_sqlite(conn, names: list[str], rows: list[tuple], constants: dict, progress: Progress | None) -> int:
    # Bind only the per-row columns into an in-memory staging table, then copy with one INSERT ... SELECT that
    # adds the per-load values: measured 2x faster than binding every column of every row into the indexed table.
    cols = ", ".join(names)
    cur = conn.cursor()
    cur.execute(f"CREATE TEMP TABLE incidents_stage ({cols})")
    try:
        done = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            cur.executemany(f"INSERT INTO incidents_stage VALUES ({', '.join('?' * len(names))})", chunk)
            done += len(chunk)
            if progress:
                progress("writing", done, len(rows))
        # "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.
        cur.execute(f"INSERT INTO incidents ({', '.join(constants)}, {cols}) "
                    f"SELECT {', '.join('?' * len(constants))}, {cols} FROM incidents_stage WHERE true "
                    "ON CONFLICT (source, source_key) DO NOTHING", list(constants.values()))
        return cur.rowcount
    finally:
        cur.execute("DROP TABLE incidents_stage")


def _insert_postgres(conn, names: list[str], rows: list[tuple], constants: dict, progress: Progress | None) -> int:
    # COPY into a session-private staging table, then one INSERT ... SELECT: an order of magnitude faster than
    # row-by-row INSERTs, and still all-or-nothing with the rest of the load.
    cols = ", ".join(names)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE incidents_stage ON COMMIT DROP AS SELECT {cols} FROM incidents WITH NO DATA")
        with cur.copy(f"COPY incidents_stage ({cols}) FROM STDIN") as copy:
            for i, row in enumerate(rows, start=1):
                copy.write_row(row)
                if progress and i % CHUNK == 0:
                    progress("writing", i, len(rows))
        const_names = ", ".join(constants)
        const_values = ", ".join(f"%({k})s::{_PG_TYPES[k]}" for k in constants)
        # An anti-join rather than ON CONFLICT: measured 1.7x faster here (no speculative insertion per row). A
        # concurrent load of the same source then hits the unique index and rolls back whole (see service).
        cur.execute(f"INSERT INTO incidents ({const_names}, {cols}) SELECT {const_values}, {cols} FROM incidents_stage s "
                    "WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.source = %(source)s::varchar AND i.source_key = s.source_key)",
                    constants)
        inserted = cur.rowcount
        cur.execute("DROP TABLE incidents_stage")
    if progress:
        progress("writing", len(rows), len(rows))
    return inserted


# ---- a streamed load: records written a chunk at a time -------------------------------------------------------------
STAGED = tuple(c for c in RECORD_COLUMNS if c not in PER_LOAD)  # every per-row column, all-null ones included
UNIQUE_KEY_INDEX = "uq_incidents_source_key"  # (source, source_key); a named index on SQLite since migration 0014
LOAD_CACHE_KIB = 65_536  # SQLite: page cache (and sorter) while a streamed load writes
REBUILD_CACHE_KIB = 32_768  # SQLite: the same while it builds the indexes it dropped (see finish)
# A load "large for the table" (at least REBUILD_MIN_ROWS rows, and at least REBUILD_FRACTION of the rows already
# stored) writes incidents without its secondary indexes (and, on PostgreSQL, its primary key and foreign key) and
# builds them again, by sorting, before the transaction commits: measured 2-4x faster than growing them row by
# row (docs/design-notes.md, "Streamed loads at bulk speed"). The unique key's index stays, but for a large file
# into an empty PostgreSQL table, which holds the table alone and checks every key when it adds the key back.
REBUILD_MIN_ROWS = 50_000
REBUILD_FRACTION = 0.25
_PG_STAGE_TYPES = {**_PG_TYPES, "source_key": "varchar", "category": "varchar", "occurred_at": "timestamptz",
                   "occurred_from": "timestamptz", "occurred_to": "timestamptz", "reported_at": "timestamptz",
                   "lat": "float8", "lon": "float8", "x": "float8", "y": "float8", "area_code": "varchar",
                   "premises_type": "varchar", "attributes": "jsonb", "retention_until": "timestamptz"}
_FLOATS = ("lat", "lon", "x", "y")
_PG_COPIED = ("source", "classification", "ingested_at", "load_id") + STAGED  # the CSV a PostgreSQL load writes
_CLASSIFICATION_CHECK = "CHECK (classification IN (" + ", ".join(f"'{c}'" for c in CLASSIFICATIONS) + "))"


def _literal(value) -> str:
    """A constant of the load (source, classification, time text, load id) written into SQLite's INSERT. The
    mapping refuses control characters in a source name, so quoting the quote is all a text needs."""
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _json_texts(col: pd.Series) -> list:
    return [None if v is None else json.dumps(v, ensure_ascii=False) for v in col]


def large_for_table(rows: int, stored: int) -> bool:
    """Whether a load of `rows` rows into a table of about `stored` rows rebuilds its secondary indexes."""
    return rows >= REBUILD_MIN_ROWS and rows >= REBUILD_FRACTION * stored


class Stage:
    """A load's good records, written a chunk at a time inside the caller's one transaction; `finish` completes
    them and returns how many were new. A failure or kill -9 at any point leaves the store as it was.

    SQLite: each chunk goes straight into `incidents`, in time order within the chunk, with one prepared INSERT
    over tuples (the load's constants written into the statement, not bound per row); ON CONFLICT only when the
    source already has records (the load holds the write lock, so none can appear meanwhile). A load large for the
    table (judged from `expected_rows`, the reader's estimate, at the first chunk) drops the table's secondary
    indexes first (the unique key's too when the source has no record yet and no table refers to incidents) and
    creates them again, from their own stored definitions, in `finish`. Readers see the last
    commit meanwhile (WAL), indexes and all.

    PostgreSQL: chunks are COPied (CSV written by Arrow, time-sorted) into a temporary table, and `finish` copies
    them into `incidents` with one INSERT ... SELECT in time order, skipping keys already stored; if the load is
    large for the table it first drops the indexes other than the unique key's, the primary key and the foreign
    key (their definitions read from the catalog) and adds them back before returning. Into an empty table, a large
    file's chunks are COPied straight into `incidents`, those indexes and the unique key dropped at the first chunk.
    DDL is transactional, so a failure, a rollback or kill -9 restores them. Dropping takes an ACCESS EXCLUSIVE lock on
    incidents (and SHARE ROW EXCLUSIVE on loads) until the commit: readers of incidents wait for the load."""

    def __init__(self, session: Session, load_id: int, per_load: dict):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.conn = session.connection().connection.driver_connection
        self.values = {**per_load, "load_id": load_id}
        self.rows = 0  # records given to add
        self.inserted = 0  # SQLite: records written so far
        self.rebuilt: list[str] = []  # what was dropped and made again (for tests and the benchmark)
        self._started = False
        self._saved_cache: int | None = None
        self._checks_off = False
        self.on_conflict = True  # SQLite: whether the source already has records (decided at the first chunk)
        self._indexes: list[tuple[str, str]] = []  # SQLite: (name, CREATE INDEX ...) dropped for this load
        self.direct = False  # PostgreSQL: chunks COPied straight into incidents (an empty table, a large load)
        self._restore: list[tuple[str, str]] = []  # PostgreSQL: what to make again before the load ends
        self._owner = False  # PostgreSQL: whether this role owns incidents (may drop and rebuild its indexes)

    # -- adding a chunk ------------------------------------------------------------------------------------------
    def convert(self, records: pd.DataFrame):
        """A chunk's records in the form `add` writes (SQLite: sorted columns of Python values; PostgreSQL: CSV
        bytes). Touches no connection: the load runs it on its reading thread, one chunk ahead of the writes."""
        if records.empty:
            return None
        if self.dialect == "postgresql":
            return self._csv_postgres(records)
        return self._columns_sqlite(records)

    def add(self, records: pd.DataFrame, expected_rows: int | None = None, converted=None) -> None:
        """Write one chunk (`converted`: what `convert` made of it, if done already)."""
        if records.empty:
            return
        data = converted if converted is not None else self.convert(records)
        if self.dialect == "postgresql":
            if not self._started:
                self._start_postgres(max(expected_rows or 0, len(records)))
            with self.conn.cursor() as cur:
                target = "incidents" if self.direct else "incidents_stream"
                with cur.copy(f"COPY {target} ({', '.join(_PG_COPIED)}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                self.inserted += max(cur.rowcount, 0)
        else:
            self._insert_sqlite(data, max(expected_rows or 0, len(records)))
        self.rows += len(records)

    def _start_postgres(self, expected_rows: int) -> None:
        with self.conn.cursor() as cur:
            self._owner = _owns_incidents(cur)
            cur.execute("SELECT EXISTS (SELECT 1 FROM incidents)")
            if expected_rows >= REBUILD_MIN_ROWS and self._owner and not cur.fetchone()[0]:
                # An empty table and a large file: the load takes the table now (ACCESS EXCLUSIVE until it
                # commits), drops all but the unique key's index and writes each chunk straight into it, so the
                # server stores one chunk while this process reads and checks the next.
                # The unique key goes too: no other transaction can write the table until this one ends, and the
                # file's own repeated keys were quarantined as it was read, so rebuilding it (one sort) cannot
                # fail but for a bug; if it did, the load would roll back whole (measured: 25% off a 3x load).
                self._restore = _drop_for_load_postgres(cur, unique=True)
                self.rebuilt = [name for name, _ in self._restore]
                cur.execute("SELECT EXISTS (SELECT 1 FROM incidents)")  # another load may have won the lock
                self.direct = not cur.fetchone()[0]
            if not self.direct:
                cols = ", ".join(f"{c} {_PG_STAGE_TYPES[c]}" for c in _PG_COPIED)
                # typed here, not copied from incidents: no lock on it until finish
                cur.execute(f"CREATE TEMP TABLE incidents_stream ({cols}) ON COMMIT DROP")
        self._started = True

    def _start_sqlite(self, expected_rows: int) -> None:
        cur = self.conn.cursor()
        try:
            (cache,) = cur.execute("PRAGMA cache_size").fetchone()
            self._saved_cache = int(cache)
            cur.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
            (table_sql,) = cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'incidents'").fetchone()
            if (table_sql.count("CHECK") == 1 and _CLASSIFICATION_CHECK in table_sql
                    and self.values["classification"] in CLASSIFICATIONS):
                # The table's one CHECK is on the classification, a constant of the load just found to pass it;
                # SQLite evaluates that IN list per row (measured: a third of the insert's time), so it is skipped
                # for this load's own statements (restored in close).
                cur.execute("PRAGMA ignore_check_constraints=ON")
                self._checks_off = True
            self.on_conflict = cur.execute("SELECT 1 FROM incidents WHERE source = ? LIMIT 1",
                                           (self.values["source"],)).fetchone() is not None
            (stored,) = cur.execute("SELECT coalesce(max(id), 0) FROM incidents").fetchone()
            if large_for_table(expected_rows, stored):
                try:  # index builds sort in a temporary file, not in memory (only before the temp schema is used)
                    cur.execute("PRAGMA temp_store=FILE")
                except Exception:  # noqa: BLE001 - sqlite3.OperationalError: then in memory
                    pass
                # The unique key's index goes too when the source has no record yet (migration 0014 made it an
                # index that can go): this transaction holds the write lock, so nobody else can write a key until
                # it ends, and the file's own repeated keys were quarantined as it was read, so building the
                # index again cannot fail but for a bug, which would roll the load back whole. With records of
                # the source stored, ON CONFLICT needs it: kept. (Autoindexes have no sql: never dropped.)
                self._indexes = [(name, sql) for name, sql in cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' "
                    "AND sql IS NOT NULL ORDER BY name")
                    if name != UNIQUE_KEY_INDEX or not (self.on_conflict or _referred_to_sqlite(cur))]
                for name, _ in self._indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                self.rebuilt = [name for name, _ in self._indexes]
        finally:
            cur.close()
        self._started = True

    def _columns_sqlite(self, records: pd.DataFrame) -> tuple[list[str], list[list]]:
        records = records.sort_values("occurred_at", kind="stable")
        names, cols = [], []
        for c in STAGED:
            col = records[c]
            if c in TIME_COLUMNS:
                if col.isna().all():
                    continue
                cols.append(_time_text(col, "sqlite"))
            elif c == "attributes":
                texts = _json_texts(col)
                if all(t is None for t in texts):
                    continue
                cols.append(texts)
            elif c in _FLOATS:
                cols.append(col.to_numpy(dtype=float).tolist())
            else:
                nulls = col.isna()
                if nulls.all():
                    continue
                cols.append(col.astype(object).where(~nulls, None).tolist() if nulls.any() else col.tolist())
            names.append(c)
        return names, cols

    def _insert_sqlite(self, data: tuple[list[str], list[list]], expected_rows: int) -> None:
        if not self._started:
            self._start_sqlite(expected_rows)
        names, cols = data
        consts = ", ".join(_literal(v) for v in self.values.values())
        sql = (f"INSERT INTO incidents ({', '.join(self.values)}, {', '.join(names)}) "
               f"VALUES ({consts}, {', '.join('?' * len(names))})")
        if self.on_conflict:
            sql += " ON CONFLICT (source, source_key) DO NOTHING"
        cur = self.conn.cursor()
        try:
            cur.executemany(sql, zip(*cols))
            self.inserted += cur.rowcount
        finally:
            cur.close()

    def _csv_postgres(self, records: pd.DataFrame) -> memoryview:
        import io

        import pyarrow.csv as pacsv

        records = records.sort_values("occurred_at", kind="stable")
        n = len(records)
        v = self.values
        arrays = [pa.array([v["source"]] * n, type=pa.string()), pa.array([v["classification"]] * n, type=pa.string()),
                  pa.array([v["ingested_at"]] * n, type=pa.string()), pa.array(np.full(n, v["load_id"], dtype=np.int64))]
        for c in STAGED:
            col = records[c]
            if c in TIME_COLUMNS:
                arrays.append(_time_arrow(col, "postgresql"))
            elif c == "attributes":
                arrays.append(pa.array(_json_texts(col), type=pa.string()))
            elif c in _FLOATS:
                arrays.append(pa.array(col.to_numpy(dtype=float), type=pa.float64()))
            else:
                arrays.append(pa.array(col.astype(object).where(col.notna(), None), type=pa.string(),
                                       from_pandas=True))
        buf = io.BytesIO()
        # Strings quoted, nulls written as nothing: COPY's CSV form reads an unquoted empty field as NULL.
        pacsv.write_csv(pa.table(arrays, names=list(_PG_COPIED)), buf,
                        pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        return buf.getbuffer()

    # -- finishing -----------------------------------------------------------------------------------------------
    def finish(self) -> int:
        """Complete the load: returns how many records were new (the rest were already stored)."""
        if self.dialect == "postgresql":
            return self._finish_postgres()
        cur = self.conn.cursor()
        try:
            if self._indexes:
                # An index build sorts in memory up to the cache's size before it spills to a temporary file, on
                # top of the page cache: half of each keeps the load's peak where the writes left it (10x Toronto,
                # one process: 500-515 -> 435 MB; the builds took as long: 5.5 s).
                cur.execute(f"PRAGMA cache_size=-{REBUILD_CACHE_KIB}")
            for name, sql in self._indexes:  # exactly as the migrations made them (sqlite_master's own text)
                t0 = time.perf_counter()
                cur.execute(sql)
                log.debug("made %s again in %.2f s", name, time.perf_counter() - t0)
            self._indexes = []
        finally:
            cur.close()
            self.close()
        return self.inserted

    def _finish_postgres(self) -> int:
        values, cols = self.values, ", ".join(_PG_COPIED)
        anti_join = ("WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.source = %(source)s::varchar "
                     "AND i.source_key = s.source_key) ")
        with self.conn.cursor() as cur:
            if self.direct:
                inserted = self.inserted
            elif not self._started:
                inserted = 0
            else:
                cur.execute("SELECT coalesce(max(id), 0) FROM incidents")
                (stored,) = cur.fetchone()
                if large_for_table(self.rows, stored) and self._owner:
                    self._restore = _drop_for_load_postgres(cur)
                    self.rebuilt = [name for name, _ in self._restore]
                    # the table is now this transaction's alone: with no record of this source, nothing to skip
                    cur.execute("SELECT 1 FROM incidents WHERE source = %(source)s::varchar LIMIT 1", values)
                    if cur.fetchone() is None:
                        anti_join = ""
                # An anti-join rather than ON CONFLICT (no speculative insertion per row). A concurrent load of the
                # same source then hits the unique index and rolls back whole (see stream).
                t0 = time.perf_counter()
                cur.execute(f"INSERT INTO incidents ({cols}) SELECT {cols} FROM incidents_stream s {anti_join}"
                            "ORDER BY s.occurred_at", values)
                inserted = cur.rowcount
                log.debug("copied %d staged records into incidents in %.2f s (%s)", inserted,
                          time.perf_counter() - t0, "without " + ", ".join(self.rebuilt) if self._restore
                          else "all indexes kept")
                cur.execute("DROP TABLE incidents_stream")
            if self._restore:
                cur.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the server's sort for each index build
            for name, statement in self._restore:
                t0 = time.perf_counter()
                cur.execute(statement)
                log.debug("made %s again in %.2f s", name, time.perf_counter() - t0)
            self._restore = []
        return inserted

    def close(self) -> None:
        """Undo this object's settings on the connection (SQLite's cache size). Safe to call twice."""
        if self.dialect == "postgresql":
            return
        try:
            cur = self.conn.cursor()
            try:
                if self._checks_off:
                    cur.execute("PRAGMA ignore_check_constraints=OFF")
                    self._checks_off = False
                if self._saved_cache is not None:
                    cur.execute(f"PRAGMA cache_size={self._saved_cache}")
                    self._saved_cache = None
            finally:
                cur.close()
        except BaseException:
            # fail closed: a connection whose CHECKs may still be off never goes back to the pool for reuse
            if self._checks_off:
                self.session.connection().invalidate()
            raise


def _owns_incidents(cur) -> bool:
    """Whether this connection's role may drop and re-create incidents' indexes and keys (only the table's owner may).
    The least-privilege server role (docs/postgres.md) may not: its loads keep every index and write through the
    staging table, slower for a large first load but the same result (a large load failed outright before)."""
    cur.execute("SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
                "WHERE c.oid = 'incidents'::regclass")
    row = cur.fetchone()
    return bool(row and row[0])


def _drop_for_load_postgres(cur, unique: bool = False) -> list[tuple[str, str]]:
    """Drop incidents' indexes other than unique constraints', its primary key and its foreign keys, and with
    `unique` its unique constraints too (never a key another table's foreign key refers to); returns (name,
    statement) pairs that make each again exactly as it was (the catalog's own definitions), keys first, foreign
    keys last."""
    from psycopg import sql as pgsql

    cur.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
    # a key another table's foreign key refers to stays (dropping it would fail, or drop that foreign key)
    cur.execute("SELECT c.conname, c.contype, pg_get_constraintdef(c.oid), EXISTS (SELECT 1 FROM pg_constraint r "
                "WHERE r.contype = 'f' AND r.confrelid = c.conrelid AND r.conindid = c.conindid) "
                "FROM pg_constraint c WHERE c.conrelid = 'incidents'::regclass AND c.contype IN ('p', 'f', 'u') "
                "ORDER BY c.contype = 'f', c.contype DESC, c.conname")
    constraints = cur.fetchall()
    cur.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = 'incidents'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY i.relname")
    indexes = cur.fetchall()
    first, last = [], []
    for name, kind, definition, referenced in constraints:
        if (kind in ("p", "u") and referenced) or (kind == "u" and not unique):
            continue
        ident = pgsql.Identifier(name).as_string(cur)
        cur.execute(f"ALTER TABLE incidents DROP CONSTRAINT {ident}")
        (last if kind == "f" else first).append((name, f"ALTER TABLE incidents ADD CONSTRAINT {ident} {definition}"))
    for name, definition in indexes:
        cur.execute(f"DROP INDEX {pgsql.Identifier(name).as_string(cur)}")
        first.append((name, definition))
    return first + last


def _referred_to_sqlite(cur) -> bool:
    """Whether any table (an operator's case register, say) refers to incidents by foreign key: then the unique
    key it may point at stays in place for the whole load, as on PostgreSQL."""
    return cur.execute("SELECT 1 FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
                       "AND f.\"table\" = 'incidents' LIMIT 1").fetchone() is not None


def per_load_values(source: str, classification: str, ingested_at, dialect: str) -> dict:
    """The values every record of one load shares, bound once (see PER_LOAD)."""
    return {"source": source, "classification": classification,
            "ingested_at": _time_text(pd.Series([pd.Timestamp(ingested_at)]), dialect)[0]}


# ---- reading a window as columns: no Python object per row ---------------------------------------------------------
def fetch_window(session: Session, *, category: str | None, lo: str | object, hi: str | object):
    """(ids int64, t datetime64[us] UTC, x, y float64, area object) of the incidents with lo <= occurred_at < hi (of
    one category, if given), ordered by time then id; lo and hi bound as the dialect stores times (SQLite: the text
    'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; PostgreSQL: an aware datetime).

    The database writes the window as one CSV text (PostgreSQL: COPY ... TO STDOUT; SQLite: group_concat of the
    rows, reals printed with 17 digits so they come back bit for bit) and Arrow parses it into columns: the driver
    never builds a tuple per row, so the time grows with the rows read and nothing else."""
    import io

    import pyarrow.csv as pacsv

    dialect = session.get_bind().dialect.name
    conn = session.connection().connection.driver_connection
    where = "occurred_at >= {lo} AND occurred_at < {hi}" + (" AND category = {cat}" if category is not None else "")
    if dialect == "postgresql":
        sql = ("COPY (SELECT id, (extract(epoch FROM occurred_at) * 1000000)::bigint, x, y, area_code FROM incidents "
               f"WHERE {where.format(lo='%(lo)s', hi='%(hi)s', cat='%(cat)s')} ORDER BY occurred_at, id) "
               "TO STDOUT (FORMAT csv)")
        buf = bytearray()
        with conn.cursor() as cur:
            # psycopg binds parameters client-side only outside COPY: render the statement with them first
            from psycopg import sql as pgsql

            rendered = pgsql.SQL(sql.replace("%(lo)s", "{lo}").replace("%(hi)s", "{hi}").replace("%(cat)s", "{cat}"))
            query = rendered.format(lo=pgsql.Literal(lo), hi=pgsql.Literal(hi), cat=pgsql.Literal(category))
            with cur.copy(query) as copy:
                for block in copy:
                    buf += block
        data, quote = bytes(buf), '"'
        time_type = pa.int64()
    else:
        sql = ("SELECT group_concat(line, char(10)) FROM (SELECT id || ',' || occurred_at || ',' || printf('%!.17g', x) "
               "|| ',' || printf('%!.17g', y) || ',' || ifnull(quote(area_code), '') AS line FROM incidents "
               f"WHERE {where.format(lo=':lo', hi=':hi', cat=':cat')} ORDER BY occurred_at, id)")
        (text,) = conn.execute(sql, {"lo": lo, "hi": hi, "cat": category}).fetchone()
        data, quote = (text or "").encode(), "'"
        time_type = pa.timestamp("us")
    names = ["id", "t", "x", "y", "area"]
    if not data.strip():
        empty = np.array([], dtype=float)
        return (np.array([], dtype=np.int64), np.array([], dtype="datetime64[us]"), empty, empty,
                np.array([], dtype=object))
    table = pacsv.read_csv(
        io.BytesIO(data), read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(quote_char=quote, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={"id": pa.int64(), "t": time_type, "x": pa.float64(), "y": pa.float64(), "area": pa.string()},
            strings_can_be_null=True, quoted_strings_can_be_null=False))
    t = table["t"].to_numpy()
    t = t.astype("datetime64[us]")
    return (table["id"].to_numpy(), t, table["x"].to_numpy(), table["y"].to_numpy(),
            table["area"].to_numpy(zero_copy_only=False).astype(object))
