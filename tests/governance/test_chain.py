"""The chain verifier on its own: every kind of tampering is found and the right entry is named."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.trail import chain

KEY = Ed25519PrivateKey.generate()


def build(n: int, sign_every: int = 1) -> tuple[list[tuple], list[tuple]]:
    entries, cps, prev = [], [], chain.GENESIS
    for seq in range(1, n + 1):
        details = json.dumps({"n": seq}, separators=(",", ":"))
        at = 1_700_000_000_000_000 + seq
        own = chain.entry_hash(seq, at, f"user{seq % 3}", "consultation", f"output:{seq}", "patrol planning",
                               details, prev)
        entries.append((seq, at, f"user{seq % 3}", "consultation", f"output:{seq}", "patrol planning", details, prev,
                        own))
        if seq % sign_every == 0 or seq == n:
            cps.append((seq, own, at, chain.key_id(KEY.public_key()), chain.sign_checkpoint(KEY, seq, own, at)))
        prev = own
    return entries, cps


def check(entries, cps):
    return chain.verify(entries, cps, KEY.public_key())


def test_an_untouched_chain_verifies():
    v = check(*build(50))
    assert v.ok and v.entries == 50 and v.head_seq == 50 and v.signed_seq == 50


@settings(max_examples=60, deadline=None)
@given(victim=st.integers(1, 30), field=st.integers(1, 6), text=st.text(min_size=1, max_size=5))
def test_any_edit_of_any_field_names_that_entry(victim, field, text):
    entries, cps = build(30)
    row = list(entries[victim - 1])
    changed = row[field] + 1 if isinstance(row[field], int) else row[field] + text
    row[field] = changed
    entries[victim - 1] = tuple(row)
    v = check(entries, cps)
    assert not v.ok and v.first.seq == victim and v.first.kind == "altered"


def test_an_edit_with_a_recomputed_hash_is_still_found_at_that_entry():
    entries, cps = build(10)
    seq, at, actor, action, obj, purpose, details, prev, _ = entries[4]
    forged = chain.entry_hash(seq, at, "someone-else", action, obj, purpose, details, prev)
    entries[4] = (seq, at, "someone-else", action, obj, purpose, details, prev, forged)
    v = check(entries, cps)
    assert not v.ok and v.first.seq == 5  # the signed checkpoint at 5 and the link from 6 both disagree


def test_a_removed_entry_is_named():
    entries, cps = build(10)
    del entries[3]
    v = check(entries, cps)
    assert v.first.seq == 4 and v.first.kind == "removed"


def test_entries_cut_off_the_end_are_found_through_the_signed_head():
    entries, cps = build(10)
    v = check(entries[:7], cps)
    assert not v.ok and v.first.seq == 8 and v.first.kind == "truncated"


def test_an_entry_appended_without_the_key_is_named():
    entries, cps = build(10)
    seq, prev = 11, entries[-1][8]
    own = chain.entry_hash(seq, 1, "intruder", "consultation", "x", "p", "{}", prev)
    entries.append((seq, 1, "intruder", "consultation", "x", "p", "{}", prev, own))
    v = check(entries, cps)
    assert v.first.seq == 11 and v.first.kind == "unsigned"


def test_a_checkpoint_from_another_key_is_refused():
    entries, cps = build(5)
    other = Ed25519PrivateKey.generate()
    v = chain.verify(entries, cps, other.public_key())
    assert not v.ok and v.first.seq == 1 and v.first.kind == "wrong-key"
    assert all(p.kind in ("wrong-key", "unsigned") for p in v.problems)


def test_a_forged_signature_is_refused():
    entries, cps = build(5)
    seq, own, at, kid, sig = cps[-1]
    cps[-1] = (seq, own, at, kid, sig[:-2] + ("00" if sig[-2:] != "00" else "11"))
    assert any(p.kind == "bad-signature" for p in check(entries, cps).problems)


@pytest.mark.parametrize("sign_every", [1, 4])
def test_only_the_head_needs_to_be_signed_for_a_chain_to_verify(sign_every):
    assert check(*build(12, sign_every)).ok


def test_every_checkpoint_signature_is_checked_even_where_it_agrees_with_the_chain():
    entries, cps = build(8)
    seq, own, at, kid, sig = cps[2]
    cps[2] = (seq, own, at, kid, sig[:-2] + ("00" if sig[-2:] != "00" else "11"))
    v = check(entries, cps)
    assert not v.ok and v.first.seq == 3 and v.first.kind == "bad-signature"


def test_a_head_file_at_the_same_entry_with_another_hash_is_a_mismatch():
    entries, cps = build(6)
    seq, own, at, kid, _ = cps[-1]
    other = "e" * 64
    cps.append((seq, other, at, kid, chain.sign_checkpoint(KEY, seq, other, at), "head-file checkpoint"))
    v = check(entries, cps)
    assert not v.ok and v.first.seq == 6 and "differs from what head-file checkpoint 6 signed" in v.first.text


NEW = Ed25519PrivateKey.generate()


def rotated(n_before: int, n_after: int, vouch_with=KEY, announce=NEW):
    """A trail signed by KEY, a `trail.key` entry handing over to `announce`, then entries signed by NEW."""
    entries, cps = build(n_before)
    prev, at = entries[-1][8], 1_800_000_000_000_000
    r = n_before + 1
    details = json.dumps({"event": "rotate", "from_key_id": chain.key_id(KEY.public_key()),
                          "key_id": chain.key_id(announce.public_key()),
                          "fingerprint": chain.fingerprint(announce.public_key()),
                          "public_key": chain.raw_public(announce.public_key()).hex()}, sort_keys=True,
                         separators=(",", ":"))
    own = chain.entry_hash(r, at, "root", chain.KEY_ACTION, "trail", "key rotation", details, prev)
    entries.append((r, at, "root", chain.KEY_ACTION, "trail", "key rotation", details, prev, own))
    cps.append((r, own, at, chain.key_id(vouch_with.public_key()), chain.sign_checkpoint(vouch_with, r, own, at)))
    prev = own
    for seq in range(r + 1, r + 1 + n_after):
        own = chain.entry_hash(seq, at + seq, "u", "consultation", "x", "p", "{}", prev)
        entries.append((seq, at + seq, "u", "consultation", "x", "p", "{}", prev, own))
        cps.append((seq, own, at + seq, chain.key_id(NEW.public_key()), chain.sign_checkpoint(NEW, seq, own, at + seq)))
        prev = own
    return entries, cps


def test_a_rotation_signed_by_the_old_key_verifies_from_the_original_key_only():
    entries, cps = rotated(4, 3)
    v = check(entries, cps)
    assert v.ok and v.keys == [(0, chain.key_id(KEY.public_key())), (5, chain.key_id(NEW.public_key()))]
    v = chain.verify(entries, cps, NEW.public_key())
    assert not v.ok and v.first.seq == 1 and v.first.kind == "wrong-key"


def test_a_rotation_not_signed_by_the_key_it_replaces_is_named():
    entries, cps = rotated(4, 3, vouch_with=NEW)
    v = check(entries, cps)
    assert not v.ok and v.first.seq == 5 and v.first.kind in ("bad-rotation", "wrong-key")
    assert any(p.kind == "bad-rotation" and "not signed by the key it replaces" in p.text for p in v.problems)


def test_a_key_change_without_a_rotation_entry_is_named_where_it_happens():
    entries, cps = build(6)
    intruder = Ed25519PrivateKey.generate()
    for i in (4, 5):  # entries 5 and 6 signed by another key, with no entry handing over to it
        seq, own, at, _, _ = cps[i]
        cps[i] = (seq, own, at, chain.key_id(intruder.public_key()), chain.sign_checkpoint(intruder, seq, own, at))
    v = check(entries, cps)
    assert not v.ok and v.first.seq == 5 and v.first.kind == "wrong-key" and "no key change hands over" in v.first.text


def test_witness_heads_are_read_from_a_file_or_a_directory(tmp_path):
    entries, cps = build(3)
    lines = [json.dumps(dict(zip(("seq", "hash", "at_us", "key_id", "signature"), c))) for c in cps]
    (tmp_path / "heads.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "dir").mkdir()
    for i, line in enumerate(lines):
        (tmp_path / "dir" / f"h{i}.json").write_text(line)
    for where in (tmp_path / "heads.jsonl", tmp_path / "dir"):
        heads = chain.read_witness(where)
        assert [h[0] for h in heads] == [1, 2, 3] and all(h[5] == "witness head" for h in heads)
        assert not check(entries[:2], cps[:2] + heads).ok  # the witness knows of entry 3
