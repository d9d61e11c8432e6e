"""Bulk writes of incident records. Same result on SQLite and PostgreSQL; each takes its fastest path.

Rows whose (source, source_key) is already stored are skipped by the database itself (ON CONFLICT DO NOTHING),
which is what makes a re-load add nothing. Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from lawful.incidents.validate import RECORD_COLUMNS

Progress = Callable[[str, int, int], None]
TIME_COLUMNS = ("occurred_at", "occurred_from", "occurred_to", "reported_at", "ingested_at", "retention_until")
PER_LOAD = ("source", "classification", "ingested_at")  # one value for the whole load: bound once, not per row
CHUNK = 20_000
_PG_TYPES = {"source": "varchar", "classification": "varchar", "ingested_at": "timestamptz", "load_id": "integer"}


def _time_text(col: pd.Series, dialect: str) -> list:
    """UTC timestamps as the text each database stores; SQLite's form is the one SQLAlchemy reads back."""
    naive = pa.array(col.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]"))
    text = pc.cast(naive, pa.string())  # '2014-03-02 05:00:00.000000', nulls stay null
    if dialect == "postgresql":
        text = pc.binary_join_element_wise(text, pa.scalar("+00"), "")
    return text.to_pylist()


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
