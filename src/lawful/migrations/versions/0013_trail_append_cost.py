"""trail_append_cost: the trail's entries lose the unique index on their hash; on SQLite the sequence number becomes
the table's own key (rowid)

Why (issue 16, docs/design-notes.md "The trail's hash is not indexed"): every entry's hash is random, so its unique
index took one random leaf page per entry. A group-commit batch of 50 entries dirtied about 50 index pages, and the
more the trail grew the more of them each commit wrote and checkpointed: `benchmarks/bench_trail.py --grouped-only
--threads 64 --repeat 5` fell run by run (4,012-5,512/s, median 4,275) and gives 6,061-7,190/s without it. Nothing looks an entry up by its hash, and the index guarded nothing: the hash covers the
sequence number and the previous hash, so two equal hashes would take a SHA-256 collision, and `lawful audit verify`
recomputes every hash and link anyway. On SQLite, `BIGINT PRIMARY KEY` is a second B-tree beside the rowid table;
`INTEGER PRIMARY KEY` makes the sequence number the rowid itself (same 64-bit range), so an append writes one tree.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_COLUMNS = "seq, at_us, actor, action, object, purpose, details, prev_hash, hash"
# A frozen copy of migration 0002's guard (its APPEND_ONLY and _append_only): a migration must keep doing what it did
# when it shipped, so it does not import another migration's code, which may change.
_APPEND_ONLY = "the decision trail is append-only: audit_entries rows cannot be changed or removed"


def _sqlite_rebuild(seq_type: str, hash_unique: bool) -> None:
    """SQLite cannot drop a table constraint: build the table anew, copy every row in order, and put its index and
    its append-only triggers back (DROP TABLE fires no trigger, and takes them with it)."""
    unique = ", UNIQUE (hash)" if hash_unique else ""
    op.execute(f"""CREATE TABLE audit_entries_new (
        seq {seq_type} NOT NULL PRIMARY KEY, at_us BIGINT NOT NULL, actor VARCHAR(100) NOT NULL,
        action VARCHAR(60) NOT NULL, object VARCHAR(300) NOT NULL, purpose VARCHAR(300) NOT NULL,
        details TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL{unique})""")
    op.execute(f"INSERT INTO audit_entries_new ({_COLUMNS}) SELECT {_COLUMNS} FROM audit_entries ORDER BY seq")
    op.execute("DROP TABLE audit_entries")
    op.execute("ALTER TABLE audit_entries_new RENAME TO audit_entries")
    op.execute("CREATE INDEX ix_audit_entries_action ON audit_entries (action)")
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                   f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild("INTEGER", hash_unique=False)
        return
    # PostgreSQL named the constraint itself (audit_entries_hash_key by default): find it rather than guess
    name = op.get_bind().exec_driver_sql(
        "SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = t.oid "
        "WHERE n.nspname = current_schema() AND t.relname = 'audit_entries' AND c.contype = 'u' "
        "AND c.conkey = ARRAY[a.attnum] AND a.attname = 'hash'").scalar()
    if name:
        op.execute(f'ALTER TABLE audit_entries DROP CONSTRAINT "{name}"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild("BIGINT", hash_unique=True)
        return
    op.execute("ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_hash_key UNIQUE (hash)")
