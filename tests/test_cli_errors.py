"""Bad options and targets on the client side: one located line, exit 2, no traceback, nothing changed."""

from __future__ import annotations

import pytest

from tests.conftest import mint_token, run_cli, store_fingerprint


@pytest.mark.parametrize("args, says", [
    (["login", "ana", "--password-stdin", "--hours", "nan"], "hours"),
    (["login", "ana", "--password-stdin", "--hours", "-3"], "hours"),
    (["login", "ana", "--password-stdin", "--hours", "1e400"], "hours"),
    (["login", "a" * 100_000, "--password-stdin"], "name"),
])
def test_sign_in_options_outside_their_bounds_are_refused(store, capsys, args, says):
    mint_token(store, "ana")
    before = store_fingerprint(store)
    code, _, err = run_cli(args, capsys, stdin="correct horse battery staple\n")
    assert code == 2 and "Traceback" not in err and says in err.lower() and err.count("\n") <= 2, err
    assert store_fingerprint(store) == before


@pytest.mark.parametrize("target", ["/proc/lawful-export", "a-file"])
def test_an_export_target_that_cannot_hold_a_bundle_is_refused(store, capsys, tmp_path, target):
    mint_token(store, "aud", ("auditor",))
    if target == "a-file":
        target = tmp_path / "a-file"
        target.write_text("keep me")
    code, _, err = run_cli(["audit", "export", str(target), "--as", "aud"], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    if target != "/proc/lawful-export":
        assert target.read_text() == "keep me"
