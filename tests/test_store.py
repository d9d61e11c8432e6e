"""The store says clearly when it is missing or behind, and how to fix it."""

from __future__ import annotations

from alembic import command

from lawful import db
from tests.conftest import mint_token, run_cli


def test_missing_store_says_how_to_create_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    code, _, err = run_cli(["incidents", "stats"], capsys)
    assert code == 2
    assert "There is no Lawful store at" in err and "lawful admin db upgrade" in err
    assert not (tmp_path / "nowhere").exists()  # asking did not create anything


def test_store_behind_migrations_says_upgrade(store, capsys):
    engine = db.make_engine(store.database_url)
    cfg = db.alembic_config(store.database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    engine.dispose()
    code, _, err = run_cli(["incidents", "stats"], capsys)
    assert code == 2 and "is empty (no migrations applied)" in err and "run `lawful admin db upgrade`" in err
    code, out, _ = run_cli(["admin", "db", "upgrade"], capsys)
    assert code == 0 and "migrated from empty to" in out
    code, out, _ = run_cli(["admin", "db", "upgrade"], capsys)
    assert code == 0 and "up to date" in out
    code, _, err = run_cli(["incidents", "stats"], capsys)
    assert code == 2 and "needs a bearer token" in err  # the store is back, and it asks who you are
    mint_token(store, "ana")
    code, out, _ = run_cli(["incidents", "stats", "--as", "ana"], capsys)
    assert code == 0 and "no incidents yet" in out


def test_unreachable_database_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))  # the operator's key directory: not the tester's home
    monkeypatch.setenv("LAWFUL_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    code, _, err = run_cli(["admin", "db", "upgrade"], capsys)
    assert code == 2 and "Cannot reach the store" in err and err.count("\n") == 1


def test_help_teaches(capsys):
    code, out, _ = run_cli(["ingest", "--help"], capsys)
    assert code == 0 and "quarantine" in out and "--mapping" in out
    code, out, _ = run_cli(["ingest", "export.csv", "--help"], capsys)
    assert code == 0 and "--mapping" in out and "--strict" in out
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0 and all(word in out for word in ("demo", "ingest", "datasets", "incidents", "admin", "login", "serve"))


def test_unknown_dataset_is_refused(store, capsys):
    code, _, err = run_cli(["datasets", "load", "chicago"], capsys)
    assert code == 2 and "toronto-mci" in err
