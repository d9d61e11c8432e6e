"""Personal identifiers are stored only as keyed pseudonyms; re-identifying one person needs its own permission and
an investigation, and each search is on the trail."""

from __future__ import annotations


from sqlalchemy import select

from lawful import db
from lawful.incidents.models import Incident
from lawful.privacy.pseudonyms import normalise
from tests.conftest import GOOD_ROWS, TEST_MAPPING, admin, run_cli, write_csv

MAPPING = TEST_MAPPING.replace('keep = ["weapon"]', 'keep = ["weapon"]\npseudonymise = ["victim_name"]')


def load(store, tmp_path, capsys):
    """The first admin (root) and an analyst (loader) who loads the file, signed in."""
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    admin("root", capsys)
    assert run_cli(["users", "add", "loader", "--role", "analyst", "--as", "root"], capsys)[0] == 0
    code, out, err = run_cli(["ingest", str(write_csv(tmp_path / "a.csv", GOOD_ROWS)), "--mapping", str(mapping),
                              "--as", "loader"], capsys)
    assert code == 0, err


def stored(store) -> list[Incident]:
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True) as s:
        rows = list(s.scalars(select(Incident).order_by(Incident.source_key)))
    engine.dispose()
    return rows


def test_names_are_stored_only_as_pseudonyms(store, tmp_path, capsys):
    load(store, tmp_path, capsys)
    names = [r.attributes["victim_name"] for r in stored(store)]
    assert names[0].startswith("psn:") and names[1].startswith("psn:") and names[2] is None
    assert names[0] != names[1]
    path = db.sqlite_path(store.database_url)
    if path:  # nowhere in the database file, not even in free pages or the WAL
        import sqlite3

        sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        assert b"Jane Roe" not in path.read_bytes() and b"John Doe" not in path.read_bytes()
    assert normalise("  JANE   roe ") == normalise("Jane Roe")


def test_reidentification_needs_the_permission_an_investigation_and_leaves_a_trail(store, tmp_path, capsys):
    load(store, tmp_path, capsys)
    for name, role in (("ana", "analyst"), ("sue", "supervisor"), ("dora", "dpo")):
        run_cli(["users", "add", name, "--role", role, "--as", "root"], capsys)
    ask = ["privacy", "reidentify", "--field", "victim_name", "--value", "jane ROE"]
    code, _, err = run_cli(ask + ["--purpose", "investigation 2026-0412", "--as", "ana"], capsys)
    assert code == 2 and "no role of ana (analyst) grants incidents.reidentify" in err
    code, _, err = run_cli(ask + ["--purpose", "crime analysis", "--as", "sue"], capsys)
    assert code == 2 and "may only serve investigation" in err
    code, out, err = run_cli(ask + ["--purpose", "investigation 2026-0412", "--as", "sue"], capsys)
    assert code == 0, err
    assert "1 record(s)" in out and "Break and Enter" in out
    code, out, _ = run_cli(["audit", "log", "--action", "combination", "--as", "dora"], capsys)
    assert "sue" in out and "investigation 2026-0412" in out and "jane" not in out.lower()
    code, out, _ = run_cli(["access", "denials", "--as", "dora"], capsys)
    assert "incidents.reidentify" in out and "ana" in out and "sue" in out
