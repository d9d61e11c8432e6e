"""Signed heads published outside the data directory catch what the database and the head file alone cannot:
entries cut off the end together with their checkpoints, and the head file rolled back (issue 11, part 3)."""

from __future__ import annotations

import json
import shutil

import pytest

from lawful.trail.audit import head_path
from tests.conftest import run_cli
from tests.trail.helpers import append_entries, drop_all_guards, export_bundle, run_verify_py, sql


def witness(capsys, dest) -> tuple[int, str]:
    code, out, err = run_cli(["admin", "witness", str(dest)], capsys)
    return code, out + err


def cut_off_and_roll_back(store, keep: int, old_head: bytes) -> None:
    """Delete every entry after `keep` and their checkpoints, and put back the head file of that time."""
    drop_all_guards(store)
    sql(store, f"DELETE FROM audit_entries WHERE seq > {keep}")
    sql(store, f"DELETE FROM audit_checkpoints WHERE seq > {keep}")
    head_path(store).write_bytes(old_head)


@pytest.mark.parametrize("as_dir", [False, True], ids=["jsonl-file", "directory"])
def test_witness_catches_truncation_with_a_rolled_back_head_file(store, capsys, tmp_path, as_dir):
    dest = tmp_path / "published" / ("heads" if as_dir else "heads.jsonl")
    if as_dir:
        dest.mkdir(parents=True)
    append_entries(store, 5)
    old_head = head_path(store).read_bytes()
    assert witness(capsys, dest)[0] == 0
    append_entries(store, 4)
    code, out = witness(capsys, dest)
    assert code == 0 and "Published head entry 9" in out
    heads = ([json.loads(p.read_text()) for p in sorted(dest.iterdir())] if as_dir
             else [json.loads(line) for line in dest.read_text().splitlines()])
    assert [h["seq"] for h in heads] == [5, 9]
    assert set(heads[1]) >= {"seq", "hash", "at_us", "key_id", "signature", "fingerprint"}

    cut_off_and_roll_back(store, 5, old_head)
    code, out, _ = run_cli(["admin", "verify"], capsys)
    assert code == 0, out  # the database and the head file agree with each other: only the witness knows better
    code, out, err = run_cli(["admin", "verify", "--witness", str(dest)], capsys)
    assert code == 1 and "TAMPERED: entry 6: a signed witness head covers entry 9 but the trail ends at entry 5: " \
                         "entries 6 to 9 were cut off" in out + err
    done = run_verify_py(export_bundle(store, tmp_path / "bundle"), tmp_path, "--witness", str(dest))
    assert done.returncode == 1 and "entry 6: truncated: a signed witness head covers entry 9" in done.stdout
    done = run_verify_py(export_bundle(store, tmp_path / "bundle2"), tmp_path)
    assert done.returncode == 0, done.stdout  # without the witness the export cannot tell


def test_publishing_refuses_a_trail_that_lost_the_last_published_head(store, capsys, tmp_path):
    dest = tmp_path / "heads.jsonl"
    append_entries(store, 5)
    assert witness(capsys, dest)[0] == 0
    cut_off_and_roll_back(store, 3, head_path(store).read_bytes())
    sql(store, "DELETE FROM audit_checkpoints WHERE seq > 2")
    code, out = witness(capsys, dest)
    assert code == 2 and "the newest checkpoint (entry 2) is not the trail's head (entry 3)" in out
    assert len(dest.read_text().splitlines()) == 1


@pytest.mark.parametrize("inside", ["data", "data/keys/heads.jsonl", "data/sub/heads"])
def test_a_witness_inside_the_data_directory_is_refused(store, capsys, tmp_path, inside):
    append_entries(store, 2)
    code, out = witness(capsys, tmp_path / inside)
    assert code == 2 and "is inside the data directory" in out and "proves nothing" in out
    assert not (tmp_path / "data" / "sub").exists()


def test_verify_names_a_witness_file_it_cannot_read(store, capsys, tmp_path):
    append_entries(store, 2)
    bad = tmp_path / "heads.jsonl"
    bad.write_text('{"seq": 1}\n')
    code, out, err = run_cli(["admin", "verify", "--witness", str(bad)], capsys)
    assert code == 2 and f"{bad} line 1 is not a published head" in out + err


def test_a_copied_witness_stays_valid_after_more_appends(store, capsys, tmp_path):
    dest = tmp_path / "heads.jsonl"
    append_entries(store, 3)
    assert witness(capsys, dest)[0] == 0
    shutil.copy(dest, tmp_path / "copy.jsonl")
    append_entries(store, 3)
    code, out, err = run_cli(["admin", "verify", "--witness", str(tmp_path / "copy.jsonl")], capsys)
    assert code == 0 and "witness included" in out, out + err
