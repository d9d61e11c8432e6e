"""When the disk or the key directory fails, the user is told exactly what happened (issue 11, part 8)."""

from __future__ import annotations

import os

import pytest

from lawful.errors import LawfulError
from lawful.trail.audit import head_path, read_head_file
from tests.conftest import run_cli
from tests.trail.helpers import append_entries, counts


def test_a_head_file_that_cannot_be_written_reports_the_commit_and_catches_up_later(store, capsys):
    append_entries(store, 2)
    hp = head_path(store)
    blocker = hp.with_name(f".{hp.name}.{os.getpid()}")  # the temporary file's name, taken by a directory
    blocker.mkdir()
    with pytest.raises(LawfulError) as caught:
        append_entries(store, 1)
    e = caught.value
    assert e.kind == "unavailable" and getattr(e, "committed", False)
    assert str(e).startswith("committed: the work and its trail entries up to 3 are saved and signed in the database, "
                             f"but the trail's head file {hp} could not be updated")
    assert counts(store) == (3, 3) and read_head_file(hp)["seq"] == 2  # committed; the head file lags
    code, out, _ = run_cli(["admin", "verify"], capsys)
    assert code == 0, out
    blocker.rmdir()
    append_entries(store, 1)  # the next write brings it up to date
    assert read_head_file(hp)["seq"] == 4


def test_an_unwritable_key_directory_is_an_error_with_nothing_written(store):
    keys_dir = store.audit_key_path.parent
    assert not keys_dir.exists() or not any(keys_dir.iterdir())
    if keys_dir.exists():
        keys_dir.rmdir()
    keys_dir.parent.mkdir(parents=True, exist_ok=True)
    keys_dir.write_text("not a directory")  # mkdir and open fail there as on a read-only or full disk
    with pytest.raises(LawfulError, match="cannot create the trail signing key .*nothing was written") as caught:
        append_entries(store, 1)
    assert caught.value.kind == "unavailable"
    assert counts(store) == (0, 0)
