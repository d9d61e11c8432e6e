"""Once the store holds pseudonyms, a missing or different pseudonymisation key is refused instead of silently
replaced (which made a deletion request close with 0 records removed while the person's records remained); the
key's fingerprint, never the key, is on the trail."""

from __future__ import annotations

import secrets

import pytest

from lawful.errors import LawfulError
from lawful.privacy import requests
from lawful.privacy.pseudonyms import fingerprint, normalise, read_key
from lawful.privacy.service import recorded_fingerprint, reidentify
from lawful.trail import audit
from tests.privacy.common import DORA, ROWS, SUE, ingest, total, tx


def open_deletion(store, value="Jane Roe"):
    with tx(store) as s:
        return requests.open_request(s, actor=DORA, kind="deletion", field="victim_name", value=value,
                                     settings=store).id


def test_a_new_key_is_made_once_and_only_its_fingerprint_goes_on_the_trail(store):
    assert not store.pseudonym_key_path.exists()
    open_deletion(store)  # the first use: nothing is pseudonymised yet, so a key is made
    key = read_key(store.pseudonym_key_path)
    open_deletion(store, "John Doe")
    assert read_key(store.pseudonym_key_path) == key
    with tx(store, readonly=True) as s:
        assert recorded_fingerprint(s) == fingerprint(key)
        entries = audit.get_all(s, action="config.change", obj="pseudonym-key")
        everything = [e.details for e in audit.get_all(s, limit=1000)]
    assert len(entries) == 1 and entries[0].actor == "dora" and '"created":true' in entries[0].details
    assert not any(key.hex() in d for d in everything)
    assert fingerprint(key) != fingerprint(secrets.token_bytes(32))


def test_a_missing_key_is_refused_once_records_hold_pseudonyms(store, tmp_path):
    ingest(store, tmp_path)  # ingestion made the key; nothing on the trail names it yet
    store.pseudonym_key_path.unlink()
    with pytest.raises(LawfulError) as e:
        open_deletion(store)
    assert str(store.pseudonym_key_path) in str(e.value) and "restore" in e.value.fix and "backup" in e.value.fix
    assert e.value.kind == "unavailable"
    assert not store.pseudonym_key_path.exists()  # no new key was made behind the user's back
    with tx(store, readonly=True) as s:
        assert requests.get_all(s) == []


def test_a_lost_or_replaced_key_is_refused_and_the_restored_one_finds_the_person_again(store, tmp_path):
    ingest(store, tmp_path)
    path = store.pseudonym_key_path
    original = path.read_bytes()
    with tx(store) as s:  # the first checked use adopts the key ingestion made, and records its fingerprint
        assert len(reidentify(s, actor=SUE, field="victim_name", value="JANE ROE", purpose="investigation 2026-0412",
                              settings=store)) == 2
    with tx(store, readonly=True) as s:
        assert recorded_fingerprint(s) == fingerprint(bytes.fromhex(original.decode()))

    path.write_text(secrets.token_hex(32))  # e.g. a new server whose key was not restored, and made again
    for attempt in (lambda: open_deletion(store),
                    lambda: reidentify_once(store)):
        with pytest.raises(LawfulError) as e:
            attempt()
        assert str(path) in str(e.value) and "not the key this store's pseudonyms were made with" in str(e.value)
        assert "restore the original" in e.value.fix

    path.unlink()
    with pytest.raises(LawfulError) as e:
        open_deletion(store)
    assert str(path) in str(e.value) and "missing" in str(e.value) and not path.exists()

    path.write_bytes(original)  # restored from backup: the request finds the person's records again
    rid = open_deletion(store)
    with tx(store) as s:
        d = requests.answer_deletion(s, actor=DORA, request_id=rid)
    assert (d.matched, d.removed) == (2, 2)
    assert total(store) == 1


def reidentify_once(store):
    with tx(store) as s:
        reidentify(s, actor=SUE, field="victim_name", value="Jane Roe", purpose="investigation 1", settings=store)


def test_ingesting_with_a_lost_key_is_refused(store, tmp_path):
    ingest(store, tmp_path)
    open_deletion(store)  # the key's fingerprint is on the trail
    store.pseudonym_key_path.unlink()
    with pytest.raises(LawfulError):
        ingest(store, tmp_path, rows=[ROWS[0].replace("A1", "B1")], name="b.csv")


def test_identifiers_match_whatever_their_case_spacing_and_punctuation():
    assert normalise("XYZ 999") == normalise("xyz999") == normalise("xyz-999") == normalise("ＸＹＺ９９９")
    assert normalise("  JANE   roe ") == normalise("Jane Roe")
    assert normalise("XYZ 999") != normalise("XYZ 998") and normalise("Jane Roe") != normalise("John Doe")
