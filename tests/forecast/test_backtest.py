"""Backtests: the same numbers in-process and on a two-worker Dask cluster; summaries that match the days."""

from __future__ import annotations

import numpy as np
import pytest

from lawful.forecast import Grid
from lawful.forecast.backtest import BacktestData, jobs_for, order, run_job, summarise
from lawful.forecast.executors import DaskExecutor, LocalExecutor
from tests.forecast.test_estimators import DAY, T0, synthetic


@pytest.fixture(scope="module")
def setup():
    events, _ = synthetic(seed=3)
    grid = Grid.from_events(events.x, events.y, 200)
    days = [(f"day{k}", T0 + (700 + 7 * k) * DAY, T0 + (701 + 7 * k) * DAY) for k in range(4)]
    return BacktestData(events, grid), days


def _metrics(results):
    return [(r.model, r.day, r.events, r.hits, r.pai, r.pei) for r in results]


def test_dask_cluster_gives_the_same_numbers_as_in_process(setup):
    distributed = pytest.importorskip("distributed")
    data, days = setup
    models = ["naive", "sepp", "features"]
    jobs = jobs_for(models, days, 365)
    local = order(LocalExecutor().run(run_job, jobs, data), models)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ex = DaskExecutor(client=client)
        seen = []
        remote = order(ex.run(run_job, jobs, data, progress=lambda d, t: seen.append((d, t))), models)
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    assert seen[-1] == (len(jobs), len(jobs))
    assert _metrics(remote) == _metrics(local)


def test_summary_means_and_pooled_hit_rate_follow_the_daily_figures(setup):
    data, days = setup
    results = LocalExecutor().run(run_job, jobs_for(["naive"], days, 365), data)
    summary = summarise(results)
    five = next(s for s in summary if s.coverage == 0.05)
    assert five.days == 4
    assert five.pai == pytest.approx(np.mean([r.pai[2] for r in results]))
    assert five.hit_rate_pooled == pytest.approx(sum(r.hits[2] for r in results) / sum(r.events for r in results))
    assert five.pai_low < five.pai < five.pai_high
    rec = five.record()
    assert {"model", "coverage", "hit_rate", "pai", "pei", "days", "fit_seconds", "predict_seconds"} <= set(rec)
