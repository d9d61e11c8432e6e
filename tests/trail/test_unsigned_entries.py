"""Entries written without the key are never signed over. Someone with only the server's database rights (INSERT on
the trail, no guard dropped, no key read) can append entries that chain correctly: the hash needs no secret. Every
transaction that writes entries signs its head as it commits, so such entries sit after the newest signed head. The
next write must refuse rather than sign them into the trail's history, and the auditor's own check must still
answer and name them."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from lawful import db
from lawful.access.service import Actor
from lawful.trail import audit, chain, service
from tests.governance.test_trail import append_entries
from tests.trail.helpers import FIELDS, counts, new_process, rows


def forge(settings, n: int = 2) -> int:
    """Append n correctly chained entries with plain INSERTs (what the server's database role may do)."""
    last = rows(settings)[-1]
    seq, at, prev = last[0], last[1], last[8]
    engine = db.make_engine(settings.database_url)
    with engine.begin() as conn:
        for _ in range(n):
            seq, at = seq + 1, at + 1
            e = dict(seq=seq, at_us=at, actor="dpo-alice", action="model.approve", object="model:forged@1",
                     purpose="governance", details='{"forged":true}', prev_hash=prev)
            e["hash"] = chain.entry_hash(seq, at, e["actor"], e["action"], e["object"], e["purpose"], e["details"],
                                         prev)
            conn.execute(text(f"INSERT INTO audit_entries ({FIELDS}) VALUES (:seq, :at_us, :actor, :action, :object, "
                              ":purpose, :details, :prev_hash, :hash)"), e)
            prev = e["hash"]
    engine.dispose()
    return seq


@pytest.mark.parametrize("fresh_process", [False, True])
def test_the_next_write_refuses_to_sign_over_forged_entries(store, tmp_path, fresh_process):
    append_entries(store, 5)
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    forged = forge(store)
    if fresh_process:  # no remembered head: the head file and the newest checkpoint are the anchors
        new_process()
    before = counts(store)
    with pytest.raises(audit.TrailRefused, match=f"entries 6 to {forged} come after the newest signed head"):
        append_entries(store, 1)
    assert counts(store) == before  # nothing written, nothing signed
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True, settings=store) as s:
        v = audit.verify(s, settings=store, public_key_path=original)
    engine.dispose()
    assert not v.ok and v.first.seq == 6 and v.first.kind == "unsigned"


def test_the_auditors_verify_still_answers_and_names_them(store):
    append_entries(store, 5)
    forge(store)
    s = db.Store(store)
    try:
        result = service.verify_trail(s, actor=Actor(name="aud", roles=frozenset({"auditor"})))
    finally:
        s.engine.dispose()
    assert not result["ok"]
    assert "never signed" in result["refused"]
    assert [p["kind"] for p in result["problems"]][:1] == ["unsigned"] and result["problems"][0]["seq"] == 6
