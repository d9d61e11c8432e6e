"""Feedback-loop simulation in the spirit of Ensign et al. 2018, "Runaway Feedback Loops in Predictive Policing".

Crime happens at true rates, but is only recorded where attention goes; the model is refitted on what was
recorded, and its forecast decides next round's attention. The question is how far the allocation drifts from
the true rates after N rounds.

- True rates: each cell's real incidents in the year from the start, per day (the data's own geography).
- Each round (`round_days` long): attention probability per cell p = min(1, k * risk / sum(risk)), floored at
  `exploration` so no cell is never visited; crime is drawn as Poisson(rate * round_days) per cell; an incident
  is discovered with probability p (attention) and, independently, reported by the public with probability
  `reported`. Recorded incidents join the training data at their cell centre.
- The correction (Ensign et al., section 5): a discovered incident is recorded only with probability
  p_min / p, which thins every cell's discoveries to the same rate, so recorded counts are proportional to the
  true rates again. Reported incidents are not thinned: they do not depend on where attention went.

The drift is the total-variation distance between the model's risk shares and the true-rate shares (0: the
model ranks cells exactly as crime falls; 1: entirely elsewhere), at round 0 and after each round. "Captured" is
the expected share of the round's true crime that happens in attended cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lawful.forecast.events import DAY, Events
from lawful.forecast.grid import Grid
from lawful.forecast.models import build
from lawful.forecast.scoring import cells_for


@dataclass(frozen=True)
class FeedbackResult:
    model: str
    corrected: bool
    rounds: int
    drift: tuple[float, ...]  # TV distance after each round (index 0: before any feedback)
    captured: tuple[float, ...]  # share of the round's true crime inside attended cells, expected

    @property
    def change(self) -> float:
        return self.drift[-1] - self.drift[0]


def attention(risk: np.ndarray, k: int, exploration: float) -> np.ndarray:
    r = np.clip(np.asarray(risk, float), 0, None)
    total = r.sum()
    p = np.full(len(r), k / len(r)) if total <= 0 else np.minimum(1.0, k * r / total)
    return np.maximum(p, exploration)


def tv_distance(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.abs(a / a.sum() - b / b.sum()).sum())


def simulate(model: str, events: Events, grid: Grid, start: np.datetime64, true_rate: np.ndarray, *,
             rounds: int = 20, round_days: int = 7, coverage: float = 0.05, exploration: float = 0.01,
             reported: float = 0.0, corrected: bool = False, window_days: float = 365, seed: int = 0) -> FeedbackResult:
    rng = np.random.default_rng(seed)
    centres = grid.centres
    k = max(1, cells_for(grid.n_valid, coverage))
    history = events.before(start)
    t, x, y = [history.t], [history.x], [history.y]
    drift, captured = [], []
    at = start
    for r in range(rounds + 1):
        train = Events(np.concatenate(t), np.concatenate(x), np.concatenate(y))
        surface = build(model, window_days).fit(train, grid=grid, at=at).predict(grid, at)
        p = attention(surface.values, k, exploration)
        drift.append(tv_distance(np.clip(surface.values, 0, None) + 1e-12, true_rate))
        captured.append(float((true_rate * p).sum() / true_rate.sum()))
        if r == rounds:
            break
        crime = rng.poisson(true_rate * round_days)
        discovered = rng.binomial(crime, p)
        if corrected:
            discovered = rng.binomial(discovered, p.min() / p)
        recorded = discovered + rng.binomial(crime - discovered, reported) if reported else discovered
        cells = np.repeat(np.arange(grid.n_valid), recorded)
        offsets = rng.uniform(0, round_days, size=len(cells))
        order = np.argsort(offsets)  # keep the training events in time order
        cells = cells[order]
        t.append(at + (offsets[order] * DAY.astype(np.int64)).astype("timedelta64[us]"))
        x.append(centres[cells, 0])
        y.append(centres[cells, 1])
        at = at + np.timedelta64(round_days, "D")
    return FeedbackResult(model, corrected, rounds, tuple(drift), tuple(captured))
