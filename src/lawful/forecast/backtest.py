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

    @property
    def cost(self) -> float:
        """Relative time of the job, for evening out a cluster's work (executors.batches)."""
        return JOB_COST.get(self.model, 1.0)

    @property
    def group(self):
        """Jobs that share work when one process runs them one after another (executors.batches sends them
        together): the feature model's days that use the trees of one refit instant."""
        if self.model == "features":
            from lawful.forecast.estimators.features import training_instant

            return ("features", str(training_instant(self.at)))
        return None


# s/day on the public protocol (docs/benchmarks.md), relative to the count models: features ~1 s, sepp ~0.16 s
JOB_COST = {"features": 80.0, "sepp": 15.0, "ensemble": 30.0}


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
    # The paired comparison with a named baseline model (None without one): the mean over days of this model's
    # daily PAI minus the baseline's on the same day, with a 95% t-interval of that mean (see `paired`).
    baseline: str | None = None
    pai_diff: float = math.nan
    pai_diff_low: float = math.nan
    pai_diff_high: float = math.nan

    def record(self) -> dict:
        """The --json record."""
        out = {"model": self.model, "coverage": self.coverage, "hit_rate": self.hit_rate, "pai": self.pai,
               "pei": self.pei, "days": self.days, "fit_seconds": self.fit_seconds,
               "predict_seconds": self.predict_seconds, "hit_rate_pooled": self.hit_rate_pooled,
               "pai_low": self.pai_low, "pai_high": self.pai_high}
        if self.baseline is not None:
            out.update(baseline=self.baseline, pai_diff=self.pai_diff, pai_diff_low=self.pai_diff_low,
                       pai_diff_high=self.pai_diff_high)
        return out


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


def paired(differences: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high): the mean of per-day differences with its 95% t-interval (Student's t on the paired
    differences, n - 1 degrees of freedom). Pairing by day removes what every model shares on a day (how many
    incidents, how concentrated), which is most of a PAI's day-to-day spread, so the interval of the difference
    is much narrower than the two models' own intervals suggest."""
    from scipy import stats

    d = np.asarray(differences, float)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def summarise(results: list[DayResult], coverages=COVERAGES, baseline: str | None = None) -> list[Summary]:
    """Per model and coverage: means over the days with events, a 95% interval for PAI, the pooled hit rate, and
    with `baseline` (a model among the results) the paired difference in daily PAI against it."""
    from dataclasses import replace

    from scipy import stats

    if baseline is not None and not any(r.model == baseline for r in results):
        raise ValueError(f"the baseline {baseline!r} is not among the backtest's models")
    base_pai = {r.day: r.pai for r in results if r.model == baseline and r.events > 0}
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
            if baseline is not None:
                diff = np.array([r.pai[i] - base_pai[r.day][i] for r in rows if r.day in base_pai])
                mean_d, low_d, high_d = paired(diff)
                out[-1] = replace(out[-1], baseline=baseline, pai_diff=mean_d, pai_diff_low=low_d,
                                  pai_diff_high=high_d)
    return out


def order(results: list[DayResult], models: list[str]) -> list[DayResult]:
    rank = {m: i for i, m in enumerate(models)}
    return sorted(results, key=lambda r: (rank[r.model], r.day))

