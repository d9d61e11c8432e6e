"""Operator commands refuse, as `serve` does, a signing key or store that another account can read: a key restored
from a backup as 0644 was used to rotate, verify and sign as if it were still a secret."""

from __future__ import annotations

import pytest

from tests.conftest import admin, run_cli
from tests.trail.helpers import append_entries


@pytest.mark.parametrize("command", [["admin", "rotate-key"], ["admin", "verify"]])
def test_a_key_others_can_read_stops_operator_commands(store, capsys, command):
    admin("root", capsys)
    append_entries(store, 2)
    before = store.audit_key_path.read_bytes()
    store.audit_key_path.chmod(0o644)
    code, out, err = run_cli(command, capsys)
    assert code == 2 and "open to other accounts" in err and str(store.audit_key_path) in err
    assert store.audit_key_path.read_bytes() == before  # no key change happened
    store.audit_key_path.chmod(0o600)
    code, out, err = run_cli(command, capsys)
    assert code == 0, err
