"""incident_key_index: on SQLite, the incidents' unique key becomes a named unique index instead of a table constraint

Why (issue 16, docs/design-notes.md "A first load builds the unique key once"): a table constraint's index cannot be
dropped, so every row of a large load went into it one at a time, at a random place (source keys do not follow time),
a cost that grows with the table (benchmarks/bench_key_index.py: 2.41 million rows in 21 s that way, 11 s with the
index built once after them). A named unique index enforces exactly the same
rule (ON CONFLICT (source, source_key) uses it alike), and a large first load of a source can drop it and build it
once, sorted, at the end of the same transaction, as PostgreSQL's loads already do with its constraint. PostgreSQL is
unchanged.

The table is rebuilt from its own stored definition with only that clause taken out, so every other column,
constraint and CHECK stays as it was; the rows keep their ids.

Revision ID: 0014
Revises: 0013
"""
import re

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_CLAUSE = re.compile(r",\s*CONSTRAINT uq_incidents_source_key UNIQUE \(source, source_key\)")
_INDEX = "CREATE UNIQUE INDEX uq_incidents_source_key ON incidents (source, source_key)"


def _rebuild(new_definition) -> None:
    conn = op.get_bind()
    (table_sql,) = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'incidents'").one()
    indexes = [sql for (sql,) in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' AND sql IS NOT NULL "
        "AND name != 'uq_incidents_source_key' ORDER BY name")]
    columns = ", ".join(f'"{row[1]}"' for row in conn.exec_driver_sql("PRAGMA table_info(incidents)"))
    new_sql = new_definition(table_sql)
    op.execute(re.sub(r"^CREATE TABLE \"?incidents\"?", "CREATE TABLE incidents_new", new_sql, count=1))
    op.execute(f"INSERT INTO incidents_new ({columns}) SELECT {columns} FROM incidents ORDER BY id")
    # No table of Lawful's refers to incidents. An operator's own table that does, and holds rows, makes this DROP
    # fail (foreign keys are on): the migration then rolls back whole and the store stays at 0013.
    op.execute("DROP TABLE incidents")
    op.execute("ALTER TABLE incidents_new RENAME TO incidents")
    for sql in indexes:
        op.execute(sql)


def _without_constraint(table_sql: str) -> str:
    new_sql, n = _CLAUSE.subn("", table_sql)
    if n != 1:
        raise RuntimeError("migration 0014: the incidents table's unique key is not where migration 0001 put it; "
                           "the store's schema was changed by hand")
    return new_sql


def _with_constraint(table_sql: str) -> str:
    head, close = table_sql.rstrip().rsplit(")", 1)
    return f"{head.rstrip()}, \n\tCONSTRAINT uq_incidents_source_key UNIQUE (source, source_key)\n){close}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(_without_constraint)
    op.execute(_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX uq_incidents_source_key")
    _rebuild(_with_constraint)
