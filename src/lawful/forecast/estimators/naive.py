"""Naive counts: how many events each cell saw over the last N days (or all history). A hard baseline."""

from __future__ import annotations

import numpy as np

from lawful.forecast.estimators.base import Estimator, age_bucket, age_surface, spread_by_bucket


class NaiveCounts(Estimator):
    """Risk = events in the cell over the last `window_days` (None: all history before the forecast)."""

    name = "naive"

    def __init__(self, window_days: float | None = 365):
        self.window_days = window_days

    def _predict(self, grid, at, past):
        past = past.before(at, self.window_days)
        cells = grid.cell_of(past.x, past.y)
        keep = cells >= 0
        buckets = age_bucket(past.age_days(at)[keep])
        values, counts = spread_by_bucket(cells[keep], buckets, np.ones(keep.sum()), grid.n_valid)
        return age_surface(self, grid, at, values, counts, "in the cell")

