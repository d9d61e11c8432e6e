"""Retention: the purge removes expired records and nothing else, honours legal holds, changes nothing on a dry
run, and leaves a tombstone on the trail, not the content."""

from __future__ import annotations

from sqlalchemy import select

from lawful import db
from lawful.incidents.models import Incident
from tests.conftest import HEADER, TEST_MAPPING, admin, run_cli, store_fingerprint, write_csv

ROWS = [
    "A1,Break and Enter,2019-03-01 22:15,43.6532,-79.3832,Downtown,House,none,Jane Roe",   # expired
    "A2,Robbery,2019-03-02 01:05,43.7001,-79.4163,Forest Hill,Outside,knife,John Doe",     # expired, held
    "A3,B&E,2019-12-31 23:30,43.6400,-79.5000,Etobicoke,Apartment,none,",                    # expired
    "B1,Robbery,2026-06-01 12:00,43.6500,-79.3900,Downtown,Outside,none,",                   # kept: not expired
]


def keys(store) -> list[str]:
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True) as s:
        out = sorted(s.scalars(select(Incident.source_key)))
    engine.dispose()
    return out


def load(tmp_path, mapping, capsys):
    """The first admin (root) and an analyst (loader) who loads ROWS through `mapping`, signed in."""
    admin("root", capsys)
    assert run_cli(["users", "add", "loader", "--role", "analyst", "--as", "root"], capsys)[0] == 0
    code, _, err = run_cli(["ingest", str(write_csv(tmp_path / "a.csv", ROWS, HEADER)), "--mapping", str(mapping),
                            "--as", "loader"], capsys)
    assert code == 0, err


def test_purge_removes_expired_records_and_nothing_else(store, tmp_path, capsys):
    mapping = tmp_path / "m.toml"
    mapping.write_text(TEST_MAPPING.replace("retention_days = 3650", "retention_days = 365"))
    load(tmp_path, mapping, capsys)
    run_cli(["users", "add", "dora", "--role", "dpo", "--as", "root"], capsys)
    run_cli(["users", "add", "ana", "--role", "analyst", "--as", "root"], capsys)
    code, _, err = run_cli(["privacy", "purge", "--as", "ana"], capsys)
    assert code == 2 and "grants privacy.purge" in err
    code, out, err = run_cli(["privacy", "hold", "--reason", "complaint 2026-17", "--from", "2019-01-01", "--to",
                              "2020-01-01", "--category", "Robbery", "--as", "dora"], capsys)
    assert code == 0, err
    before = store_fingerprint(store)
    code, out, _ = run_cli(["privacy", "purge", "--dry-run", "--as", "dora"], capsys)
    assert "would remove 2 expired record(s) (Break and Enter: 2); 1 expired record(s) kept under legal holds" in out
    assert store_fingerprint(store) == before
    code, out, _ = run_cli(["privacy", "retention", "--as", "dora"], capsys)
    assert "1 active legal hold(s)" in out and "complaint 2026-17" in out
    all_keys = keys(store)
    code, out, err = run_cli(["privacy", "purge", "--as", "dora"], capsys)
    assert code == 0 and "removed 2 expired record(s)" in out
    left = keys(store)
    assert len(left) == 2 and set(left) < set(all_keys)  # the held robbery and the 2026 one
    code, out, _ = run_cli(["audit", "log", "--action", "erasure", "--as", "dora"], capsys)
    assert "dora" in out and "retention" in out and "Jane" not in out
    code, out, _ = run_cli(["privacy", "hold", "--release", "1", "--as", "dora"], capsys)
    code, out, _ = run_cli(["privacy", "purge", "--as", "dora"], capsys)
    assert "removed 1 expired record(s)" in out and len(keys(store)) == 1
    code, out, _ = run_cli(["audit", "verify", "--as", "dora"], capsys)
    assert code == 0


def test_retention_per_category_and_the_minimisation_report(store, tmp_path, capsys):
    mapping = tmp_path / "m.toml"
    mapping.write_text(TEST_MAPPING.replace('retention_days = 365', 'retention_days = 365')
                       .replace('retention_days = 3650', 'retention_days = 365\npurposes = ["crime analysis"]')
                       + '\n[retention]\ncategory = { "Robbery" = 36500 }\n')
    load(tmp_path, mapping, capsys)
    run_cli(["users", "add", "dora", "--role", "dpo", "--as", "root"], capsys)
    code, out, _ = run_cli(["privacy", "purge", "--dry-run", "--as", "dora"], capsys)
    assert "would remove 2 expired record(s) (Break and Enter: 2); 0 expired" in out  # robberies kept 100 years
    code, out, _ = run_cli(["privacy", "fields", "--as", "dora"], capsys)  # without the mapping: what the loads say
    assert "test-rms (4 records; its mapping was not given" in out and "dropped at load (not declared): victim_name" in out
    assert "declared purposes" not in out
    code, out, err = run_cli(["privacy", "fields", "--mapping", str(mapping), "--as", "dora"], capsys)
    assert code == 0, err
    assert "declared purposes: crime analysis" in out and "dropped at load (not declared): victim_name" in out
    assert "Robbery 36500 days" in out and "extra fields kept: weapon" in out
