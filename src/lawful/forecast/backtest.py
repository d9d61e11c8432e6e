"""Rolling-origin backtests: for each (day, model) job, fit on the events before the day, forecast, score.

Jobs are independent, so they go through an executor: in-process by default (`LocalExecutor`), or a Dask
distributed cluster (`DaskExecutor`). Results are put in (model, day) order whatever order they finish in,
so the figures do not depend on the executor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from lawful.forecast.events import Events
from lawful.forecast.grid import Grid
from lawful.forecast.models import build
from lawful.forecast.scoring import COVERAGES, score


@dataclass(frozen=True)
class Job:
    model: str
    day: str  # local calendar date, ISO
    at: np.datetime64  # the day's local midnight, as UTC
    end: np.datetime64  # the next local midnight, as UTC (23 or 25 h later on DST days)
    window_days: float | None


@dataclass(frozen=True)
class DayResult:
    model: str
    day: str
    events: int
    hits: tuple[float, ...]  # per coverage
    hit_rate: tuple[float, ...]
    pai: tuple[float, ...]
    pei: tuple[float, ...]
    fit_seconds: float
    predict_seconds: float


@dataclass(frozen=True)
class Summary:
    model: str
    coverage: float
    days: int
    hit_rate: float  # mean of daily hit rates
    hit_rate_pooled: float  # all hits / all events (the protocol's figure)
    pai: float  # mean of daily PAI
    pai_low: float  # 95% interval of the mean over days (t distribution)
    pai_high: float
    pei: float
    fit_seconds: float  # mean per day
    predict_seconds: float

    def record(self) -> dict:
        """The --json record."""
        return {"model": self.model, "coverage": self.coverage, "hit_rate": self.hit_rate, "pai": self.pai,
                "pei": self.pei, "days": self.days, "fit_seconds": self.fit_seconds,
                "predict_seconds": self.predict_seconds, "hit_rate_pooled": self.hit_rate_pooled,
                "pai_low": self.pai_low, "pai_high": self.pai_high}


@dataclass(frozen=True)
class BacktestData:
    """What every job needs: the category's events (all history) and the grid. Shipped once per worker."""

    events: Events
    grid: Grid
    coverages: tuple[float, ...] = field(default=COVERAGES)
    areas: np.ndarray | None = None  # each valid cell's area code, for the exposure audit


def run_job(job: Job, data: BacktestData) -> DayResult:
    """Fit on the events before the day, forecast the day, score it against the day's events."""
    train = data.events.before(job.at)
    t0 = time.perf_counter()
    est = build(job.model, job.window_days).fit(train, grid=data.grid, at=job.at)
    t1 = time.perf_counter()
    surface = est.predict(data.grid, job.at)
    t2 = time.perf_counter()
    actual = data.events.between(job.at, job.end)
    scores = score(surface.values, data.grid.counts(actual.x, actual.y), data.coverages)
    return DayResult(job.model, job.day, int(scores[0].events) if scores else 0,
                     tuple(s.hits for s in scores), tuple(s.hit_rate for s in scores),
                     tuple(s.pai for s in scores), tuple(s.pei for s in scores), t1 - t0, t2 - t1)


def jobs_for(models: list[str], days: list[tuple[str, np.datetime64, np.datetime64]],
             window_days: float | None) -> list[Job]:
    return [Job(m, d, at, end, window_days) for m in models for d, at, end in days]


def summarise(results: list[DayResult], coverages=COVERAGES) -> list[Summary]:
    """Per model and coverage: means over the days with events, a 95% interval for PAI, the pooled hit rate."""
    from scipy import stats

    out = []
    models = list(dict.fromkeys(r.model for r in results))
    for model in models:
        rows = [r for r in results if r.model == model and r.events > 0]
        n = len(rows)
        total = sum(r.events for r in rows)
        for i, coverage in enumerate(coverages):
            pai = np.array([r.pai[i] for r in rows])
            mean = float(pai.mean()) if n else math.nan
            if n > 1:
                half = float(stats.t.ppf(0.975, n - 1) * pai.std(ddof=1) / math.sqrt(n))
            else:
                half = math.nan
            out.append(Summary(
                model, coverage, n,
                hit_rate=float(np.mean([r.hit_rate[i] for r in rows])) if n else math.nan,
                hit_rate_pooled=sum(r.hits[i] for r in rows) / total if total else math.nan,
                pai=mean, pai_low=max(mean - half, 0.0), pai_high=mean + half,  # a PAI is never negative
                pei=float(np.mean([r.pei[i] for r in rows])) if n else math.nan,
                fit_seconds=float(np.mean([r.fit_seconds for r in rows])) if n else math.nan,
                predict_seconds=float(np.mean([r.predict_seconds for r in rows])) if n else math.nan,
            ))
    return out


def order(results: list[DayResult], models: list[str]) -> list[DayResult]:
    rank = {m: i for i, m in enumerate(models)}
    return sorted(results, key=lambda r: (rank[r.model], r.day))

