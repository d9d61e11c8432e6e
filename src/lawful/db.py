"""Engine, sessions and migrations. SQLite file under the data directory by default; PostgreSQL by URL.

The caller owns the transaction: services never commit, so a whole load or a whole approval is atomic.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lawful.errors import StoreError
from lawful.settings import Settings


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer; a killed writer leaves no trace
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-262144")
    cur.execute("PRAGMA temp_store=MEMORY")  # 256 MiB: index pages of a whole load stay in memory
    cur.close()


def _sqlite_manual_transactions(dbapi_connection, _record) -> None:
    # pysqlite's own BEGIN is lazy and always DEFERRED; we emit BEGIN ourselves (below) so a writing
    # transaction can take the write lock first, which is what keeps concurrent trail writers in one chain.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("lawful_readonly") else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "postgresql":
        # More connections than the server's request threads (anyio's 40): with fewer, requests that queue on the
        # trail's advisory lock hold every pooled connection and the rest time out of the pool (503s at 50 clients).
        engine = create_engine(url, pool_size=20, max_overflow=30, pool_pre_ping=True)
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_manual_transactions)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "lawful:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(settings: Settings) -> tuple[str | None, str]:
    """Apply every migration; returns (revision before, revision after)."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        before = _revision_or_raise(engine, settings)
        cfg = alembic_config(settings.database_url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return before, head_revision()
    finally:
        engine.dispose()


def _revision_or_raise(engine: Engine, settings: Settings) -> str | None:
    try:
        return current_revision(engine)
    except OperationalError as exc:
        raise StoreError(
            f"Cannot reach the store at {_safe(settings.database_url)}: {' '.join(str(exc.orig).split())}",
            "check LAWFUL_DATABASE_URL and that the database server is running.",
        ) from None


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def open_store(settings: Settings) -> Engine:
    """An engine for a store that exists and is at the newest migration, or a StoreError saying how to get there."""
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        raise StoreError(f"There is no Lawful store at {path}.", "create it with `lawful admin db upgrade` (as the server's account).")
    engine = make_engine(settings.database_url)
    current = _revision_or_raise(engine, settings)
    head = head_revision()
    if current != head:
        engine.dispose()
        state = "empty (no migrations applied)" if current is None else f"at migration {current}"
        raise StoreError(
            f"The store at {_safe(settings.database_url)} is {state}; this Lawful needs migration {head}.",
            "run `lawful admin db upgrade` (as the server's account).",
        )
    return engine


_FACTORIES: "weakref.WeakKeyDictionary[Engine, dict]" = weakref.WeakKeyDictionary()


def _factory(engine: Engine, readonly: bool) -> sessionmaker:
    # One sessionmaker per engine: each new one builds a Session subclass and its event dispatch, a cost paid on
    # every transaction otherwise (it dominated bench_trail's single-entry appends).
    per_engine = _FACTORIES.setdefault(engine, {})
    if readonly not in per_engine:
        bound = engine.execution_options(lawful_readonly=True) if readonly else engine
        per_engine[readonly] = sessionmaker(bind=bound, expire_on_commit=False)
    return per_engine[readonly]


@contextmanager
def transaction(engine: Engine, *, readonly: bool = False, settings: Settings | None = None) -> Iterator[Session]:
    """One session, one transaction: committed if the block ends normally, rolled back on any exception.

    On SQLite a writing transaction takes the write lock when it begins (BEGIN IMMEDIATE), so it never fails half
    way on a lock another writer took after its first read; `readonly=True` (long analyses) does not, and may not
    write the trail. `settings` tells the trail where the signing key is (default: from the environment).
    """
    if engine.dialect.name == "sqlite" and not readonly:
        # One writer at a time within this process: SQLite allows one anyway, and threads that wait here wake as
        # soon as the lock is free instead of polling the database's busy handler (which sleeps up to 100 ms).
        # Re-entrant: a thread may open a transaction inside another (SQLite itself then decides, as before), and
        # bounded like the busy handler, so a stuck writer is an error, never a hang.
        lock = _WRITE_LOCKS.setdefault(engine, threading.RLock())
        if not lock.acquire(timeout=WRITE_WAIT_S):
            raise StoreError(f"the store stayed busy for {WRITE_WAIT_S:g} s; nothing was written",
                             "try again; if it persists, a long write is holding the store")
        try:
            yield from _transaction(engine, readonly, settings)
        finally:
            lock.release()
    else:
        yield from _transaction(engine, readonly, settings)


WRITE_WAIT_S = 30.0
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()


def _transaction(engine: Engine, readonly: bool, settings: Settings | None) -> Iterator[Session]:
    with _factory(engine, readonly)() as session:
        session.info["readonly"] = readonly
        if settings is not None:
            session.info["settings"] = settings
        with session.begin():
            yield session


class Store:
    """The open store as the server holds it: one engine, the settings in force, and short transactions on demand.
    Flows (operations of several transactions: check -> compute read-only -> issue) take a Store; services take the
    session of one transaction."""

    def __init__(self, settings: Settings, engine: Engine | None = None):
        self.settings = settings
        self.engine = engine if engine is not None else open_store(settings)

    def transaction(self, *, readonly: bool = False):
        return transaction(self.engine, readonly=readonly, settings=self.settings)

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.dispose()
