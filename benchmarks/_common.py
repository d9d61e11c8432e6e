"""Helpers shared by the benchmark scripts: a fresh store in a temp dir, and the machine's description."""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def fresh_sqlite_env() -> Path:
    """Point Lawful at a new, empty SQLite store in a temp directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="lawful-bench-"))
    os.environ["LAWFUL_DATA_DIR"] = str(data_dir)
    os.environ.pop("LAWFUL_DATABASE_URL", None)
    return data_dir


def fresh_postgres_env(url: str) -> None:
    """Point Lawful at an empty schema `lawful_bench` of a PostgreSQL database (only ever a benchmark database), with
    a fresh data directory for its keys and the trail's signed-head file: a head file left by an earlier run would
    (rightly) make the trail refuse to sign the emptied schema's new history."""
    from sqlalchemy import create_engine

    fresh_sqlite_env()  # the data directory only; the database URL is set below

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS lawful_bench CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA lawful_bench")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    os.environ["LAWFUL_DATABASE_URL"] = f"{url}{sep}options=-csearch_path%3Dlawful_bench"


def toronto_store():
    """A new SQLite store in a temp dir, migrated, holding the bundled Toronto data: its engine."""
    from lawful import db
    from lawful.incidents.datasets import load_toronto
    from lawful.settings import Settings

    fresh_sqlite_env()
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine) as session:
        load_toronto(session, settings=settings)
    return engine
