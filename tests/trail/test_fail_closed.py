"""The writer never signs a rewritten history or signs with a swapped key, and verification with the original
public key names the point where a forged trail departs from what was signed (issue 11, parts 1 and 2)."""

from __future__ import annotations

import json
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import text

from lawful import db
from lawful.access.credentials import sign_in
from lawful.errors import LawfulError
from lawful.trail import chain
from lawful.trail.audit import head_path
from lawful.trail.keys import public_pem, signing_key
from tests.conftest import admin, run_cli
from tests.trail.helpers import (append_entries, counts, drop_all_guards, export_bundle, new_process, rewrite,
                                 run_verify_py, state)


@pytest.fixture
def trail(store, tmp_path):
    """A trail of 12 entries, and the public key the agency published when it began (kept by the auditor)."""
    append_entries(store, 12)
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    return store, original


def failed_sign_in(settings) -> None:
    """An ordinary append: someone types a name that does not exist."""
    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as s:
            sign_in(s, name="nobody-such", password="guess")
    finally:
        engine.dispose()


def verify(capsys, original, *more) -> tuple[int, str]:
    code, out, err = run_cli(["admin", "verify", "--public-key", str(original), *more], capsys)
    return code, out + err


@pytest.mark.parametrize("fresh", [False, True], ids=["same-process", "new-process"])
def test_the_issue_reproduction_is_refused_at_append_time_with_nothing_written(trail, fresh):
    store, _ = trail
    rewrite(store, drop=7, renumber=True)  # entry 7 gone, the rest re-hashed consistently, checkpoints deleted
    if fresh:
        new_process()  # then only the head file beside the key remembers what was signed
    before = state(store)
    with pytest.raises(LawfulError, match="refuses to sign.*needs an auditor") as caught:
        failed_sign_in(store)
    assert caught.value.kind == "conflict"
    assert "entry 12" in str(caught.value)  # the head file signed entry 12; the rewritten trail ends at 11
    assert state(store) == before


def test_a_rewrite_that_keeps_the_length_is_refused_too(trail):
    store, _ = trail
    rewrite(store, drop=7, renumber=False)  # a gap at 7, and 8..12 re-linked to 6 and re-hashed
    new_process()
    before = state(store)
    with pytest.raises(LawfulError, match="entry 12 no longer has the hash the head file signed"):
        failed_sign_in(store)
    assert state(store) == before


def test_with_the_head_file_and_the_checkpoints_gone_the_writer_still_refuses(trail):
    store, _ = trail
    rewrite(store, drop=7, renumber=True)
    head_path(store).unlink()
    new_process()
    with pytest.raises(LawfulError, match="no signed head to check them against"):
        failed_sign_in(store)


def test_an_append_between_two_of_a_servers_appends_sees_the_rewrite_without_the_head_file(trail):
    store, _ = trail
    rewrite(store, drop=7, renumber=True)
    head_path(store).unlink()  # only what this long-running process signed last is left
    with pytest.raises(LawfulError, match="the last head this process signed signed entry 12"):
        failed_sign_in(store)


@pytest.mark.parametrize("renumber, named", [(True, "entry 12: a signed head-file checkpoint covers entry 12 but "
                                                    "the trail ends at entry 11"),
                                             (False, "entry 7: entry 7 is missing")])
def test_a_rewrite_left_alone_fails_verification_naming_the_point_here_and_in_the_export(
        trail, capsys, tmp_path, renumber, named):
    store, original = trail
    rewrite(store, drop=7, renumber=renumber)
    code, out = verify(capsys, original)
    assert code == 1 and f"TAMPERED: {named}" in out
    bundle = export_bundle(store, tmp_path / "bundle")
    done = run_verify_py(bundle, tmp_path, "--public-key", str(original))
    assert done.returncode == 1, done.stdout + done.stderr
    assert named.replace(": ", ": removed: " if not renumber else ": truncated: ", 1) in done.stdout


def test_a_head_file_naming_another_hash_at_the_same_entry_is_a_mismatch(trail, capsys):
    store, original = trail
    real = signing_key(store)  # even a head file signed with the real key must not count as agreement
    h = json.loads(head_path(store).read_text())
    forged = "f" * 64
    h.update(hash=forged, signature=chain.sign_checkpoint(real, h["seq"], forged, h["at_us"]))
    head_path(store).write_text(json.dumps(h))
    new_process()
    with pytest.raises(LawfulError, match="sign different hashes for entry 12"):
        failed_sign_in(store)
    code, out = verify(capsys, original)
    assert code == 1 and "entry 12 differs from what head-file checkpoint 12 signed" in out


# ---- the key ----------------------------------------------------------------------------------------------------

def test_a_deleted_key_is_not_silently_replaced(trail):
    store, _ = trail
    store.audit_key_path.unlink()
    store.audit_key_path.with_suffix(".pub").unlink()
    from lawful.trail import keys

    keys.forget(store)  # a new process: the key is not in memory either
    before = state(store)
    with pytest.raises(LawfulError, match="signing key .* is missing, but the trail has already begun.*"
                                          "restore the key .* from backup"):
        failed_sign_in(store)
    assert state(store) == before and not store.audit_key_path.exists()


def _swap_key(store) -> Ed25519PrivateKey:
    from lawful.trail import keys

    intruder = Ed25519PrivateKey.generate()
    store.audit_key_path.write_bytes(intruder.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    store.audit_key_path.with_suffix(".pub").write_bytes(public_pem(intruder.public_key()))
    keys.forget(store)
    new_process()
    return intruder


def test_a_swapped_key_is_refused_at_append_time(trail):
    store, _ = trail
    intruder = _swap_key(store)
    before = state(store)
    with pytest.raises(LawfulError, match=f"the trail's key is {chain.key_id(trail_key(store))}.*the signing key "
                                          f".* is {chain.key_id(intruder.public_key())}: the key file was replaced"):
        failed_sign_in(store)
    assert state(store) == before


def trail_key(store):
    from lawful.trail.keys import read_public_key

    return read_public_key(store.audit_key_path.with_name(store.audit_key_path.stem + "-origin.pub"))


def test_a_trail_re_signed_under_a_swapped_key_fails_with_the_original_key_naming_the_point(trail, capsys, tmp_path):
    store, original = trail
    intruder = _swap_key(store)
    drop_all_guards(store)
    engine = db.make_engine(store.database_url)
    kid = chain.key_id(intruder.public_key())
    with engine.begin() as conn:  # every checkpoint re-signed, the head file too: locally the trail looks whole
        for seq, h, at in conn.execute(text("SELECT seq, hash, at_us FROM audit_checkpoints")).all():
            conn.execute(text("UPDATE audit_checkpoints SET key_id = :k, signature = :s WHERE seq = :q"),
                         {"k": kid, "s": chain.sign_checkpoint(intruder, seq, h, at), "q": seq})
    engine.dispose()
    h = json.loads(head_path(store).read_text())
    h.update(key_id=kid, signature=chain.sign_checkpoint(intruder, h["seq"], h["hash"], h["at_us"]))
    head_path(store).write_text(json.dumps(h))
    code, out = verify(capsys, store.audit_key_path.with_suffix(".pub"))
    assert code == 0, out  # under the intruder's own key it verifies: that is why the key is pinned elsewhere
    code, out = verify(capsys, original)
    assert code == 1 and f"TAMPERED: entry 1: the checkpoint at entry 1 is signed by key {kid}" in out
    done = run_verify_py(export_bundle(store, tmp_path / "bundle"), tmp_path, "--public-key", str(original))
    assert done.returncode == 1 and f"entry 1: wrong-key: the checkpoint at entry 1 is signed by key {kid}" in done.stdout


def test_rotation_is_an_entry_signed_by_the_old_key_and_verifies_from_the_original(store, capsys, tmp_path):
    admin("root", capsys)
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    code, out, err = run_cli(["admin", "rotate-key"], capsys)
    assert code == 0, err
    new_kid = out.split("is now ")[1].split()[0]
    append_entries(store, 3)
    n, _ = counts(store)
    code, out = verify(capsys, original)
    assert code == 0 and f"then {new_kid}" in out, out
    code, out, _ = run_cli(["admin", "verify"], capsys)  # locally: from the recorded original key
    assert code == 0, out
    code, out = verify(capsys, store.audit_key_path.with_suffix(".pub"))  # the new key cannot vouch for the past
    assert code == 1 and "TAMPERED: entry 1: the checkpoint at entry 1 is signed by key" in out
    bundle = export_bundle(store, tmp_path / "bundle")
    done = run_verify_py(bundle, tmp_path, "--public-key", str(original))
    assert done.returncode == 0 and f"OK: {n} entries" in done.stdout, done.stdout


def test_only_an_admin_rotates_the_key(gov_store_people):
    store, engine = gov_store_people
    from lawful.access.service import get_actor
    from lawful.trail.audit import rotate_key

    with pytest.raises(LawfulError, match="may not change the trail's key"), \
            db.transaction(engine, settings=store) as s:
        rotate_key(s, settings=store, actor=get_actor(s, name="analyst"))


@pytest.fixture
def gov_store_people(store):
    from tests.governance.conftest import Gov

    g = Gov(store)
    yield store, g.engine
    g.engine.dispose()
