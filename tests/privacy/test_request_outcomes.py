"""Requests say what they did: an identity is matched the way ingestion normalised it, and a request that matched
nothing is closed saying "no records matched", never as a plain done."""

from __future__ import annotations


from lawful.privacy import requests
from tests.privacy.common import DORA, ingest, total, tx


def answer(store, kind, field, value, tmp_path=None):
    with tx(store) as s:
        rid = requests.open_request(s, actor=DORA, kind=kind, field=field, value=value, settings=store).id
    with tx(store) as s:
        if kind == "deletion":
            return rid, requests.answer_deletion(s, actor=DORA, request_id=rid)
        return rid, requests.answer_access(s, actor=DORA, request_id=rid)


def result(store, rid):
    with tx(store, readonly=True) as s:
        r = next(r for r in requests.get_all(s) if r.id == rid)
        return r.status, r.result


def test_a_plate_asked_without_its_space_is_found_and_removed(store, tmp_path):
    ingest(store, tmp_path)  # A1's plate is stored from "XYZ 999"
    rid, d = answer(store, "deletion", "plate", "xyz999")
    assert (d.matched, d.removed, d.outcome) == (1, 1, "removed 1 of 1 record(s)")
    assert result(store, rid)[1]["removed"] == 1
    assert total(store) == 2


def test_a_deletion_that_matches_nothing_says_so_and_removes_nothing(store, tmp_path):
    ingest(store, tmp_path)
    rid, d = answer(store, "deletion", "plate", "QQQ 111")
    assert (d.matched, d.removed, d.outcome) == (0, 0, "no records matched")
    status, res = result(store, rid)
    assert res["outcome"] == "no records matched" and res["matched"] == 0
    assert total(store) == 3


def test_an_access_request_that_matches_nothing_says_so(store, tmp_path):
    ingest(store, tmp_path)
    rid, e = answer(store, "access", "victim_name", "Nobody Known", tmp_path)
    assert e.records == 0 and e.outcome == "no records matched"
    assert result(store, rid)[1]["outcome"] == "no records matched"
    assert e.files["records.json"] == []
    rid, e = answer(store, "access", "victim_name", "JANE ROE", tmp_path)
    assert e.records == 2 and e.outcome == "2 record(s) disclosed"
