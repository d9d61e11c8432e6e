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
    assert not v.ok and all(p.kind in ("bad-signature", "unsigned") for p in v.problems)


def test_a_forged_signature_is_refused():
    entries, cps = build(5)
    seq, own, at, kid, sig = cps[-1]
    cps[-1] = (seq, own, at, kid, sig[:-2] + ("00" if sig[-2:] != "00" else "11"))
    assert any(p.kind == "bad-signature" for p in check(entries, cps).problems)


@pytest.mark.parametrize("sign_every", [1, 4])
def test_only_the_head_needs_to_be_signed_for_a_chain_to_verify(sign_every):
    assert check(*build(12, sign_every)).ok
