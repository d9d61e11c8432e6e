"""The decision trail on a real store: the database refuses changes, `lawful audit verify` names every tampered
entry, the export verifies with the public key alone, and concurrent processes leave one chain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import json
import textwrap

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lawful import db
from lawful.trail import audit
from tests.conftest import mint_token, admin, run_cli


def append_entries(settings, n: int, per_tx: int = 1) -> None:
    engine = db.open_store(settings)
    for start in range(0, n, per_tx):
        with db.transaction(engine, settings=settings) as s:
            for i in range(start, min(n, start + per_tx)):
                audit.append(s, actor="tester", action="consultation", obj=f"incident:{i}", purpose="investigation 7",
                             details={"i": i, "note": "ünïcode\tand tab"})
    engine.dispose()


def sql(settings, statement: str) -> None:
    engine = db.make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def drop_guards(settings) -> None:
    """What an attacker with database-owner rights would do first."""
    if db.sqlite_path(settings.database_url):
        sql(settings, "DROP TRIGGER audit_entries_no_update")
        sql(settings, "DROP TRIGGER audit_entries_no_delete")
        sql(settings, "DROP TRIGGER audit_checkpoints_no_delete")
    else:
        sql(settings, "DROP TRIGGER audit_entries_no_change ON audit_entries")
        sql(settings, "DROP TRIGGER audit_checkpoints_no_change ON audit_checkpoints")


def verify(capsys) -> tuple[int, str]:
    code, out, err = run_cli(["admin", "verify"], capsys)
    return code, out + err


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET actor = 'x' WHERE seq = 2",
                                       "DELETE FROM audit_entries WHERE seq = 3",
                                       "DELETE FROM audit_checkpoints"])
def test_the_database_refuses_updates_and_deletes(store, statement):
    append_entries(store, 3)
    with pytest.raises(DBAPIError, match="append-only"):
        sql(store, statement)


def test_postgresql_owner_has_no_update_or_delete_privilege(store):
    if db.sqlite_path(store.database_url):
        pytest.skip("privileges are a PostgreSQL wall")
    engine = db.make_engine(store.database_url)
    with engine.connect() as conn:
        privs = set(conn.execute(text("SELECT privilege_type FROM information_schema.role_table_grants "
                                      "WHERE table_name = 'audit_entries' AND table_schema = current_schema() "
                                      "AND grantee = current_user")).scalars())
    engine.dispose()
    assert "INSERT" in privs and not privs & {"UPDATE", "DELETE", "TRUNCATE"}


@pytest.mark.parametrize("tamper, named", [
    ("UPDATE audit_entries SET purpose = 'patrol planning' WHERE seq = 4", "entry 4 was altered"),
    ("DELETE FROM audit_entries WHERE seq = 5", "entry 5 is missing"),
    ("DELETE FROM audit_entries WHERE seq >= 9", "entries 9 to 10 were cut off"),
    ("INSERT INTO audit_entries (seq, at_us, actor, action, object, purpose, details, prev_hash, hash) "
     "SELECT 11, at_us, 'intruder', action, object, purpose, details, hash, "
     "'0000000000000000000000000000000000000000000000000000000000000011' FROM audit_entries WHERE seq = 10",
     "entry 11 was altered"),
])
def test_verify_names_the_entry_edited_deleted_or_inserted_in_sql(store, capsys, tamper, named):
    append_entries(store, 10, per_tx=2)
    code, out = verify(capsys)
    assert code == 0 and "OK" in out and "10 entries" in out
    drop_guards(store)
    sql(store, tamper)
    code, out = verify(capsys)
    assert code == 1 and "TAMPERED" in out and named in out


def test_a_consistently_rewritten_entry_is_caught_by_the_signed_checkpoint(store, capsys):
    from lawful.trail.chain import entry_hash

    append_entries(store, 3)
    drop_guards(store)
    engine = db.make_engine(store.database_url)
    with engine.begin() as conn:  # rewrite the newest entry and recompute its hash: the chain alone looks fine
        row = conn.execute(text("SELECT seq, at_us, actor, action, object, purpose, details, prev_hash "
                                "FROM audit_entries WHERE seq = 3")).one()
        forged = entry_hash(row.seq, row.at_us, "nobody", row.action, row.object, row.purpose, row.details,
                            row.prev_hash)
        conn.execute(text("UPDATE audit_entries SET actor = 'nobody', hash = :h WHERE seq = 3"), {"h": forged})
    engine.dispose()
    code, out = verify(capsys)
    assert code == 1 and "entry 3 differs from what checkpoint 3 signed" in out


def test_export_verifies_elsewhere_with_the_public_key_alone(store, tmp_path, capsys):
    append_entries(store, 5)
    admin("root", capsys)
    code, _, err = run_cli(["audit", "export", str(tmp_path / "bundle"), "--as", "root"], capsys)
    assert code == 2 and "denied" in err and not (tmp_path / "bundle").exists()  # an admin is no auditor
    mint_token(store, "aud", ("auditor",))
    code, out, err = run_cli(["audit", "export", str(tmp_path / "bundle"), "--as", "aud"], capsys)
    assert code == 0, err
    elsewhere = tmp_path / "auditor"
    shutil.copytree(tmp_path / "bundle", elsewhere)  # a different machine: no Lawful, no store, no private key
    env = {"PATH": os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-I", "verify.py"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    entries = len((elsewhere / "entries.jsonl").read_text(encoding="utf-8").splitlines())
    assert entries > 5 and f"OK: {entries} entries" in done.stdout  # 5, the admin's creation, the export itself
    manifest = json.loads((elsewhere / "manifest.json").read_text())
    assert manifest["fingerprint"] in done.stdout and "names" not in done.stdout  # the key given is the pinned one
    lines = (elsewhere / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("investigation 7", "investigation 8")
    (elsewhere / "entries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "verify.py"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "entry 3: altered" in done.stdout


WRITER = textwrap.dedent("""
    import sys
    from lawful.settings import Settings
    from tests.governance.test_trail import append_entries
    append_entries(Settings.from_env(), int(sys.argv[1]), per_tx=int(sys.argv[2]))
""")


def test_two_processes_appending_at_once_leave_one_valid_chain(store, capsys):
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, "150", str(k)], env=env, cwd=root,
                              stderr=subprocess.PIPE, text=True) for k in (1, 3)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    code, out = verify(capsys)
    assert code == 0 and "300 entries" in out, out


def test_a_read_only_transaction_cannot_write_the_trail(store):
    engine = db.open_store(store)
    with pytest.raises(RuntimeError, match="read-only"), db.transaction(engine, readonly=True) as s:
        audit.append(s, actor="x", action="consultation", obj="y")
    engine.dispose()


def test_control_characters_in_fields_are_refused_so_the_encoding_stays_unambiguous(store):
    from lawful.errors import LawfulError

    engine = db.open_store(store)
    with pytest.raises(LawfulError, match="control characters"), db.transaction(engine, settings=store) as s:
        audit.append(s, actor="x\x1fy", action="consultation", obj="y")
    engine.dispose()


def test_cutting_entries_and_their_checkpoints_off_the_end_is_caught_by_the_head_file(store, capsys):
    append_entries(store, 6)
    drop_guards(store)
    if db.sqlite_path(store.database_url):
        sql(store, "DROP TRIGGER audit_checkpoints_no_update")
    sql(store, "DELETE FROM audit_entries WHERE seq >= 5")
    sql(store, "DELETE FROM audit_checkpoints WHERE seq >= 5")  # the database alone now looks whole
    code, out = verify(capsys)
    assert code == 1 and "entries 5 to 6 were cut off" in out


def test_the_head_file_only_moves_forward(store):
    from lawful.trail.audit import head_path, read_head_file

    append_entries(store, 3)
    assert read_head_file(head_path(store))["seq"] == 3
    from lawful.trail.audit import _advance_head_file

    _advance_head_file(head_path(store), {"seq": 2, "hash": "x", "at_us": 0, "key_id": "k", "signature": "s"})
    assert read_head_file(head_path(store))["seq"] == 3
