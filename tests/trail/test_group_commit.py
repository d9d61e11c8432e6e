"""Group commit: many threads appending stand-alone entries at once get a chain that verifies, each entry
acknowledged exactly once with its own sequence number; a batch that fails fails every caller in it and writes
nothing."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from sqlalchemy import text

from lawful import db
from lawful.trail import audit
from lawful.trail.group import GroupCommitter
from tests.trail.helpers import append_entries, rows, state

THREADS, EACH = 12, 25


def _hammer(committer: GroupCommitter, threads: int = THREADS, each: int = EACH) -> tuple[dict, list]:
    acked: dict[str, int] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def writer(w: int) -> None:
        start.wait()
        for i in range(each):
            tag = f"w{w}-{i}"
            try:
                seq = committer.append(actor=f"writer-{w}", action="access.deny", obj=f"api:/x/{tag}",
                                       purpose="api request", details={"tag": tag})
            except BaseException as exc:  # noqa: BLE001
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    assert tag not in acked
                    acked[tag] = seq

    ts = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return acked, errors


def test_concurrent_appends_chain_verify_and_are_each_acknowledged_once(store, tmp_path):
    append_entries(store, 3)
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    with db.Store(store) as s:
        committer = GroupCommitter(s)
        acked, errors = _hammer(committer)
        assert errors == []
        assert len(acked) == THREADS * EACH
        assert sorted(acked.values()) == list(range(4, 4 + THREADS * EACH))  # one number each, no gaps, no repeats
        written = {json.loads(r[6])["tag"]: r[0] for r in rows(store) if r[3] == "access.deny"}
        assert written == acked  # every caller's number is the entry holding its own tag
        with s.transaction(readonly=True) as session:
            v = audit.verify(session, settings=store, public_key_path=original)
        assert v.ok, v.problems[:3]
        assert v.entries == 3 + THREADS * EACH
        assert committer.batches <= THREADS * EACH


def test_a_failed_batch_fails_every_caller_and_writes_nothing(store, monkeypatch):
    append_entries(store, 3)
    before = state(store)

    def refuse(*_a, **_k):
        raise audit.TrailRefused("test: the head does not extend the last signed one")

    monkeypatch.setattr(audit, "_check_extends", refuse)
    with db.Store(store) as s:
        acked, errors = _hammer(GroupCommitter(s), threads=6, each=5)
    assert acked == {}
    assert len(errors) == 30 and all(isinstance(e, audit.TrailRefused) for e in errors)
    assert state(store) == before


def test_a_bad_entry_fails_only_its_caller(store):
    with db.Store(store) as s:
        committer = GroupCommitter(s)
        with pytest.raises(Exception, match="control characters"):
            committer.append(actor="x\ny", action="access.deny", obj="api:/", purpose="api request")
        assert committer.append(actor="x", action="access.deny", obj="api:/", purpose="api request") == 1
    engine = db.make_engine(store.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() == 1
    engine.dispose()


def test_refused_requests_share_transactions_and_each_is_on_the_trail(store):
    """The server's refusal path (access.door.record_refusal) goes through one group committer per store: a flood
    of refused requests from many threads is written in fewer transactions than entries, every refusal is there
    with its own path, and the chain verifies."""
    from lawful.access import door
    from lawful.errors import Unauthenticated

    threads, each = 16, 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    with db.Store(store) as s:
        def refused(w: int) -> None:
            start.wait()
            for i in range(each):
                try:
                    door.record_refusal(s, exc=Unauthenticated("no token"), actor="anonymous", method="GET",
                                        path=f"/api/v1/outputs/{w}-{i}")
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)

        ts = [threading.Thread(target=refused, args=(w,)) for w in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []
        committer = door._committer(s)
        assert committer is door._committer(s)  # one per store: every writer queues in the same place
        assert 1 <= committer.batches < threads * each
        with s.transaction(readonly=True) as session:
            assert audit.verify(session, settings=store).ok
    paths = sorted(r[4] for r in rows(store) if r[3] == "access.deny")
    assert paths == sorted(f"api:/api/v1/outputs/{w}-{i}" for w in range(threads) for i in range(each))
