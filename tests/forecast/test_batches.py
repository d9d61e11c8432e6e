"""How a cluster's work is cut up (executors.batches): heavy jobs first and alone, cheap ones packed to even cost,
and jobs that share work (the feature model's days under one refit instant) always sent together, so a cluster
trains the trees once per instant as one process does, not once per worker that happens to get a day."""

from __future__ import annotations

from datetime import date

import numpy as np

from lawful.forecast.backtest import Job
from lawful.forecast.estimators.features import training_instant
from lawful.forecast.executors import batches


def _jobs(models, days):
    out = []
    for m in models:
        for d in days:
            at = np.datetime64(d.isoformat() + "T05:00", "us")
            out.append(Job(m, d.isoformat(), at, at + np.timedelta64(1, "D"), 365.0))
    return out


def test_every_job_is_in_exactly_one_batch_and_the_heaviest_go_first():
    days = [date.fromordinal(date(2019, 1, 1).toordinal() + 7 * k) for k in range(52)]
    jobs = _jobs(["naive", "kde", "sepp", "features", "ensemble"], days)
    plan = batches(jobs, slots=16)
    flat = sorted(i for b in plan for i in b)
    assert flat == list(range(len(jobs)))
    weights = [sum(jobs[i].cost for i in b) for b in plan]
    assert weights == sorted(weights, reverse=True)


def test_feature_days_under_one_training_instant_travel_together():
    days = [date.fromordinal(date(2019, 1, 1).toordinal() + 7 * k) for k in range(52)]
    jobs = _jobs(["features", "naive"], days)
    plan = batches(jobs, slots=16)
    where = {i: n for n, b in enumerate(plan) for i in b}
    by_instant: dict = {}
    for i, job in enumerate(jobs):
        if job.model == "features":
            by_instant.setdefault(training_instant(job.at), set()).add(where[i])
    assert len(by_instant) in (26, 27)  # weekly days, a training every 14 days
    assert all(len(batches_of) == 1 for batches_of in by_instant.values())  # never split across workers
    assert any(sum(jobs[i].model == "features" for i in b) == 2 for b in plan)  # two weekly days share one
    # the other models' jobs have no group: spread as before
    assert all(job.group is None for job in jobs if job.model != "features")
