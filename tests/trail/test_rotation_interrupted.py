"""A key change interrupted after its trail.key entry committed (a full disk as the new key is moved into place and
the head file written): a fresh process does not go on signing with the old key, and running the change again does
not overwrite `.next`, the only copy of the key the trail was handed to."""

from __future__ import annotations

import pytest

from lawful.trail import audit, keys
from tests.conftest import admin, run_cli
from tests.trail.helpers import append_entries, new_process


def _full(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_after_an_interrupted_key_change_the_old_key_signs_nothing(store, capsys, monkeypatch):
    admin("root", capsys)
    saved = audit._advance_head_file, keys.install_next
    monkeypatch.setattr(audit, "_advance_head_file", _full)
    monkeypatch.setattr(keys, "install_next", _full)
    code, out, err = run_cli(["admin", "rotate-key"], capsys)
    assert code != 0 and "refuses to sign" in out + err
    monkeypatch.setattr(audit, "_advance_head_file", saved[0])
    monkeypatch.setattr(keys, "install_next", saved[1])
    new_process()  # no memory of the change: only the database's newest checkpoint (the trail.key entry) says so
    with pytest.raises(audit.TrailRefused, match="move .*trail-ed25519.pem.next into place"):
        append_entries(store, 1)
    keys.next_path(store).replace(store.audit_key_path)  # what the message says to do
    keys.forget(store)
    new_process()
    append_entries(store, 2)  # signed by the new key from here on


def test_running_the_change_again_keeps_the_key_the_trail_was_handed_to(store, capsys, monkeypatch):
    admin("root", capsys)
    saved = keys.install_next
    monkeypatch.setattr(keys, "install_next", _full)
    code, out, err = run_cli(["admin", "rotate-key"], capsys)
    assert code != 0
    monkeypatch.setattr(keys, "install_next", saved)
    announced = keys.next_path(store).read_bytes()
    new_process()
    code, out, err = run_cli(["admin", "rotate-key"], capsys)
    assert code != 0 and "did not finish" in out + err
    assert keys.next_path(store).read_bytes() == announced
