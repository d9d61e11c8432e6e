"""A decision's time, for the automation-bias watch, runs from the reviewer's first reading of the output, not from
its issue: outputs left waiting in the queue and then accepted unread looked like careful reviews (an hour each) and
never raised the warning."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from lawful.governance import review, service
from lawful.governance.models import Output, OutputRead, Review
from lawful.trail.models import TrailEntry
from tests.governance.test_review_breaker_report import decide_all, issue_many


def _age(gov, model, seconds, **where):
    with gov.tx() as s:
        column = model.issued_at if model is Output else model.first_at
        s.execute(update(model).filter_by(**where).values({column.key: datetime.now(timezone.utc)
                                                                        - timedelta(seconds=seconds)}))


def test_outputs_accepted_unread_after_waiting_an_hour_raise_the_warning(gov):
    ref = gov.active()
    ids = issue_many(gov, ref, 12)
    _age(gov, Output, 3600)  # they waited in the queue for an hour
    decide_all(gov, ids, ["accepted"] * 12, who="supervisor")  # never opened
    with gov.tx() as s:
        assert {r.seconds for r in s.scalars(select(Review))} == {0.0}
        [row] = review.stats(s, thresholds=gov.t)
    assert row.median_seconds == 0 and row.warning and "automation bias" in row.warning


def test_time_runs_from_the_reviewers_own_first_reading(gov):
    ref = gov.active()
    ids = issue_many(gov, ref, 12)
    _age(gov, Output, 3600)
    with gov.tx() as s:
        for i in ids:
            service.show_output(s, actor=gov.actor(s, "officer"), output_id=i)  # the officer reads each one
        service.show_output(s, actor=gov.actor(s, "supervisor"), output_id=ids[0])  # the supervisor reads one
    _age(gov, OutputRead, 300, reader="officer")  # five minutes ago
    with gov.tx() as s:  # reading again does not restart the clock
        service.show_output(s, actor=gov.actor(s, "officer"), output_id=ids[0])
    decide_all(gov, ids[:11], ["accepted"] * 11, who="officer")
    decide_all(gov, ids[11:], ["accepted"], who="supervisor")  # read by the officer, not by the supervisor
    with gov.tx() as s:
        by = {r.output_id: r for r in s.scalars(select(Review))}
        officer = {r.who: r for r in review.stats(s, thresholds=gov.t)}["officer"]
    assert all(300 <= by[i].seconds < 400 for i in ids[:11])
    assert by[ids[11]].seconds == 0.0
    assert officer.warning is None  # five minutes an output is a review
    with gov.tx() as s:
        log = s.scalars(select(TrailEntry.details).where(TrailEntry.action == "review.decide")
                        .order_by(TrailEntry.seq)).all()
    assert [json.loads(d)["read_first"] for d in log] == [True] * 11 + [False]
