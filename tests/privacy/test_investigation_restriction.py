"""A subject-access export withholds the trail entries of an ongoing investigation (Law Enforcement Directive
Art. 15) and tells the person how many and on what ground, not their content. An investigation is ongoing while an
active legal hold's reason begins with its purpose."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from lawful.privacy import requests, retention
from lawful.privacy.requests import under_investigation
from lawful.privacy.service import reidentify
from tests.privacy.common import DORA, SUE, ingest, tx


def export(store):
    """An access request for Jane Roe, answered: the export and the content of its trail.json."""
    with tx(store) as s:
        rid = requests.open_request(s, actor=DORA, kind="access", field="victim_name", value="Jane Roe",
                                    settings=store).id
    with tx(store) as s:
        e = requests.answer_access(s, actor=DORA, request_id=rid)
    return e, e.files["trail.json"]


def test_entries_of_an_ongoing_investigation_are_withheld_and_counted_until_its_hold_is_released(store, tmp_path):
    ingest(store, tmp_path)
    with tx(store) as s:
        reidentify(s, actor=SUE, field="victim_name", value="Jane Roe", purpose="investigation 2026-0412",
                   settings=store)
        reidentify(s, actor=SUE, field="victim_name", value="Jane Roe", purpose="investigation 2025-0007",
                   settings=store)  # an investigation no hold names: not restricted
        hold = retention.add_hold(s, actor=DORA, reason="investigation 2026-0412: burglary ring",
                                  occurred_from=datetime(2024, 1, 1, tzinfo=timezone.utc),
                                  occurred_to=datetime(2025, 1, 1, tzinfo=timezone.utc)).id

    e, trail = export(store)
    assert e.records == 2 and e.withheld == 1
    purposes = [t["purpose"] for t in trail]
    assert "investigation 2025-0007" in purposes and "investigation 2026-0412" not in purposes
    notice = json.dumps(e.files["withheld.json"])
    assert json.loads(notice)["trail_entries_withheld"] == 1 and "Art. 15" in json.loads(notice)["legal_ground"]
    assert "sue" not in notice and "2026-0412" not in notice and "psn:" not in notice  # the fact, not the content

    with tx(store) as s:
        retention.release_hold(s, actor=DORA, hold_id=hold)
    e, trail = export(store)
    assert e.withheld == 0 and "withheld.json" not in e.files
    assert {"investigation 2026-0412", "investigation 2025-0007"} <= {t["purpose"] for t in trail}


def test_what_counts_as_an_ongoing_investigation():
    holds = ["investigation 2026-0412: burglary ring", "court case 55"]
    assert under_investigation("investigation 2026-0412", holds)
    assert under_investigation("Investigation  2026-0412", holds)
    assert not under_investigation("investigation 2026-04", holds)  # a prefix of another case's number
    assert not under_investigation("investigation 2026-04121", holds)
    assert not under_investigation("court case 55", holds)  # holds for other reasons restrict nothing
    assert not under_investigation("crime analysis", ["crime analysis"])
    assert under_investigation("investigation 9", ["investigation 9"])
