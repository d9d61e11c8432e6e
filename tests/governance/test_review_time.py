"""A decision's time, for the automation-bias watch, runs from the reviewer's first reading of the output, not from
its issue: outputs left waiting in the queue and then accepted unread looked like careful reviews (an hour each) and
never raised the warning."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from lawful.governance import review, service
from lawful.governance.models import Output, Review
from lawful.trail.models import TrailEntry
from tests.governance.test_review_breaker_report import decide_all, issue_many


def _age(gov, seconds):
    """Every output issued `seconds` ago."""
    with gov.tx() as s:
        s.execute(update(Output).values(issued_at=datetime.now(timezone.utc) - timedelta(seconds=seconds)))


def test_outputs_accepted_unread_after_waiting_an_hour_raise_the_warning(gov):
    ref = gov.active()
    ids = issue_many(gov, ref, 12)
    _age(gov, 3600)  # they waited in the queue for an hour
    decide_all(gov, ids, ["accepted"] * 12, who="supervisor")  # never opened
    with gov.tx() as s:
        assert {r.seconds for r in s.scalars(select(Review))} == {0.0}
        [row] = review.stats(s, thresholds=gov.t)
    assert row.median_seconds == 0 and row.warning and "automation bias" in row.warning


class _Clock:
    t = datetime.now(timezone.utc)


class _FakeDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return _Clock.t


def test_time_runs_from_the_reviewers_own_first_reading(gov, monkeypatch):
    monkeypatch.setattr(review, "datetime", _FakeDatetime)  # the test's own clock: no wall-clock time in it
    _Clock.t = datetime.now(timezone.utc)
    ref = gov.active()
    ids = issue_many(gov, ref, 2)
    _age(gov, 3600)
    with gov.tx() as s:
        service.show_output(s, actor=gov.actor(s, "officer"), output_id=ids[0])  # the officer reads it
    _Clock.t += timedelta(seconds=300)  # five minutes later
    with gov.tx() as s:  # reading again does not restart the clock
        service.show_output(s, actor=gov.actor(s, "officer"), output_id=ids[0])
    decide_all(gov, ids[:1], ["accepted"], who="officer")
    decide_all(gov, ids[1:], ["accepted"], who="supervisor")  # the supervisor never opened it
    with gov.tx() as s:
        by = {r.output_id: r for r in s.scalars(select(Review))}
        log = s.scalars(select(TrailEntry.details).where(TrailEntry.action == "review.decide")
                        .order_by(TrailEntry.seq)).all()
    assert by[ids[0]].seconds == 300.0 and by[ids[1]].seconds == 0.0
    assert [json.loads(d)["read_first"] for d in log] == [True, False]


def test_one_look_at_the_queue_does_not_lend_every_output_the_whole_wait(gov, monkeypatch):
    """The console shows 25 outputs at once and reloads the queue after each decision: open it, go to lunch, then
    accept all 25 at 2 s a click. Each decision counts from the later of its first reading and the reviewer's
    previous decision, so the pattern shows (2 s a decision) and the warning fires."""
    monkeypatch.setattr(review, "datetime", _FakeDatetime)
    _Clock.t = datetime.now(timezone.utc)
    ref = gov.active()
    ids = issue_many(gov, ref, 25)
    with gov.tx() as s:
        service.queue_outputs(s, actor=gov.actor(s, "supervisor"), limit=25, places=3)
    _Clock.t += timedelta(hours=1)
    for i in ids:
        _Clock.t += timedelta(seconds=2)
        with gov.tx() as s:
            review.decide(s, actor=gov.actor(s, "supervisor"), output_id=i, decision="accepted", reason="ok")
            service.queue_outputs(s, actor=gov.actor(s, "supervisor"), limit=25, places=3)
    with gov.tx() as s:
        seconds = [r.seconds for r in s.scalars(select(Review).order_by(Review.id))]
        [row] = review.stats(s, thresholds=gov.t)
    assert seconds[0] >= 3600 and all(abs(x - 2) < 1 for x in seconds[1:])
    assert row.median_seconds < 30 and row.warning and "automation bias" in row.warning
