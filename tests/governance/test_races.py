"""Two requests at once on one entry or output: each is judged on what the other committed, never on what both first
read. Request A holds its transaction open (where a request is between its work and its commit) while B starts in a
thread and must wait for it; then A commits. On PostgreSQL (READ COMMITTED) B used to go on with its stale read: a
suspension was undone by a concurrent activation, a retired model came back, an output left the gate after the
suspension committed, and the second of two reviewers got a 503. SQLite runs one writer at a time anyway."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from lawful.errors import Conflict, LawfulError
from lawful.governance import gate, registry, review
from lawful.governance.models import Output, Review
from tests.governance.conftest import Gov, gov  # noqa: F401


@pytest.fixture(autouse=True)
def _postgres_only(gov):  # noqa: F811
    if gov.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time anyway (BEGIN IMMEDIATE); the race is PostgreSQL's")


def _meanwhile(gov, fn):  # noqa: F811
    """Start fn in a thread; it must end up waiting for A's locks (a lock request not granted, in pg_locks), not go
    on with what it read. Watched, not slept on: done as soon as B waits, or ends without waiting."""
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - looked at by the test
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    waiting = text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
    with gov.engine.connect() as conn:
        while t.is_alive() and not conn.execute(waiting).scalar():
            time.sleep(0.01)
    assert t.is_alive(), f"B did not wait for A: {box}"
    return t, box


def _state(gov, ref):
    with gov.tx() as s:
        return registry.get(s, ref=ref).state


def test_a_suspension_is_not_undone_by_an_activation_at_the_same_moment(gov):
    ref = gov.register("high")
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    gov.approve(ref, "ap1")
    assert gov.approve(ref, "ap2") == "approved"

    def activate():
        with gov.tx() as s:
            registry.activate(s, actor=gov.actor(s, "owner"), entry=registry.get(s, ref=ref))

    with gov.tx() as s:
        registry.suspend(s, actor=gov.actor(s, "ap1"), entry=registry.get(s, ref=ref), reason="bias found")
        t, box = _meanwhile(gov, activate)
    t.join()
    assert _state(gov, ref) == "suspended"
    assert isinstance(box.get("error"), LawfulError) and "is suspended" in str(box["error"])


def test_a_retired_model_stays_retired(gov):
    ref = gov.active("low")

    def suspend():
        with gov.tx() as s:
            registry.suspend(s, actor=gov.actor(s, "ap1"), entry=registry.get(s, ref=ref), reason="look again")

    with gov.tx() as s:
        registry.retire(s, actor=gov.actor(s, "owner"), entry=registry.get(s, ref=ref), reason="done")
        t, box = _meanwhile(gov, suspend)
    t.join()
    assert _state(gov, ref) == "retired" and isinstance(box.get("error"), LawfulError)


def test_no_output_leaves_the_gate_after_the_suspension_committed(gov):
    ref = gov.active("low")

    def issue():
        with gov.tx() as s:
            r = gate.issue(s, actor=gov.actor(s, "analyst"), entry=registry.get(s, ref=ref), purpose="patrol planning",
                           kind="forecast", subject="x", payload={"i": 1}, explanation=["flagged"])
            return r.output.id if r.output else r.refused

    with gov.tx() as s:
        registry.suspend(s, actor=gov.actor(s, "ap1"), entry=registry.get(s, ref=ref), reason="stop now")
        t, box = _meanwhile(gov, issue)
    t.join()
    assert isinstance(box.get("result"), str) and "suspended" in box["result"], box


def test_two_reviewers_at_once_one_decision_and_a_conflict(gov):
    ref = gov.active("low")
    with gov.tx() as s:
        oid = gate.issue(s, actor=gov.actor(s, "analyst"), entry=registry.get(s, ref=ref), purpose="patrol planning",
                         kind="forecast", subject="x", payload={}, explanation=["flagged"]).output.id

    def second():
        with gov.tx() as s:
            review.decide(s, actor=gov.actor(s, "officer"), output_id=oid, decision="rejected", reason="no")

    with gov.tx() as s:
        review.decide(s, actor=gov.actor(s, "supervisor"), output_id=oid, decision="accepted", reason="ok")
        t, box = _meanwhile(gov, second)
    t.join()
    with gov.tx() as s:
        assert len(s.scalars(select(Review).where(Review.output_id == oid)).all()) == 1
        assert s.get(Output, oid).status == "accepted"
    assert isinstance(box.get("error"), Conflict), box
