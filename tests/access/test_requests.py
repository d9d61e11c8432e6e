"""Data-subject requests: an access export holds exactly that person's records and the trail entries about them;
deletion respects legal holds and says so; deadlines and overdue warnings."""

from __future__ import annotations

import json

from tests.access.test_pseudonyms import MAPPING
from tests.conftest import HEADER, admin, run_cli, write_csv
from tests.privacy.common import total

ROWS = [
    "A1,Break and Enter,2024-03-01 22:15,43.6532,-79.3832,Downtown,House,none,Jane Roe",
    "A2,Robbery,2024-03-02 01:05,43.7001,-79.4163,Forest Hill,Outside,knife,John Doe",
    "A3,Assault,2024-04-11 23:30,43.6400,-79.5000,Etobicoke,Apartment,none,jane  roe",
    "A4,Robbery,2024-05-01 12:00,43.6500,-79.3900,Downtown,Outside,none,",
]


def setup(tmp_path, capsys):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    admin("root", capsys)
    run_cli(["users", "add", "loader", "--role", "analyst", "--as", "root"], capsys)
    assert run_cli(["ingest", str(write_csv(tmp_path / "a.csv", ROWS, HEADER)), "--mapping", str(mapping),
                    "--as", "loader"], capsys)[0] == 0
    run_cli(["users", "add", "dora", "--role", "dpo", "--as", "root"], capsys)
    run_cli(["users", "add", "sue", "--role", "supervisor", "--as", "root"], capsys)
    run_cli(["privacy", "reidentify", "--field", "victim_name", "--value", "Jane Roe", "--purpose",
             "investigation 2026-0412", "--as", "sue"], capsys)


def test_access_export_holds_exactly_that_persons_records_and_trail(store, tmp_path, capsys):
    setup(tmp_path, capsys)
    code, out, err = run_cli(["requests", "open", "--kind", "access", "--field", "victim_name", "--value", "JANE ROE",
                              "--as", "dora"], capsys)
    assert code == 0 and "Request 1 (access) opened; answer by" in out, err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    code, _, err = run_cli(["requests", "export", "1", str(tmp_path / "full"), "--as", "dora"], capsys)
    assert code == 2 and "not a new or empty directory" in err  # refused before the server closes the request
    code, out, err = run_cli(["requests", "export", "1", str(tmp_path / "sar"), "--as", "dora"], capsys)
    assert code == 0, err
    records = json.loads((tmp_path / "sar" / "records.json").read_text())
    assert sorted(r["category"] for r in records) == ["Assault", "Break and Enter"]  # A1 and A3: both spellings
    trail = json.loads((tmp_path / "sar" / "trail.json").read_text())
    assert any(e["action"] == "combination" and e["actor"] == "sue" for e in trail)  # the re-identification
    assert all("John" not in json.dumps(e) for e in trail)
    code, out, _ = run_cli(["requests", "list", "--as", "dora"], capsys)
    assert "done" in out
    code, _, err = run_cli(["requests", "export", "1", str(tmp_path / "again"), "--as", "dora"], capsys)
    assert code == 2 and "already done" in err


def test_deletion_respects_legal_holds_and_says_so(store, tmp_path, capsys):
    setup(tmp_path, capsys)
    run_cli(["privacy", "hold", "--reason", "court case 55", "--from", "2024-04-01", "--to", "2024-05-01",
             "--category", "Assault", "--as", "dora"], capsys)
    run_cli(["requests", "open", "--kind", "deletion", "--field", "victim_name", "--value", "Jane Roe", "--as", "dora"],
            capsys)
    code, out, err = run_cli(["requests", "delete", "1", "--as", "dora"], capsys)
    assert code == 0, err
    assert "Removed 1 of 2 matching record(s). Kept under legal holds, as the law requires: incidents" in out
    assert total(store) == 3


def test_overdue_requests_are_flagged(store, tmp_path, capsys):
    setup(tmp_path, capsys)
    run_cli(["requests", "open", "--kind", "access", "--field", "victim_name", "--value", "John Doe",
             "--received", "2026-01-05", "--as", "dora"], capsys)
    code, out, _ = run_cli(["requests", "list", "--as", "dora"], capsys)
    assert "OVERDUE" in out and "past their deadline" in out
    code, _, err = run_cli(["requests", "open", "--kind", "access", "--field", "victim_name", "--value", "x",
                            "--as", "sue"], capsys)
    assert code == 2 and "grants privacy.requests" in err


def test_a_breach_lists_what_and_whom_the_trail_says_it_touched(store, tmp_path, capsys):
    setup(tmp_path, capsys)  # sue re-identified Jane Roe: one combination, one person
    code, out, err = run_cli(["breaches", "record", "--description", "supervisor account used from an unknown device",
                              "--from", "2020-01-01", "--to", "2100-01-01", "--suspect", "sue", "--as", "dora"], capsys)
    assert code == 0, err
    assert "notify the supervisory authority by" in out
    assert "combination 1" in out and "by sue" in out and "1 pseudonymised person(s) involved" in out
    code, out, _ = run_cli(["breaches", "list", "--as", "dora"], capsys)
    assert "not yet" in out
    assert run_cli(["breaches", "notified", "1", "--to", "Information and Privacy Commissioner of Ontario",
                    "--as", "dora"], capsys)[0] == 0
