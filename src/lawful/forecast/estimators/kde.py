"""Retrospective hotspot: a quartic (biweight) kernel density of the window's events at each cell centre."""

from __future__ import annotations


from lawful.forecast.estimators.base import Estimator, age_bucket, age_surface, pairs_within, spread_by_bucket


class RetrospectiveHotspot(Estimator):
    """Risk = sum over the window's events within `bandwidth` metres of (1 - (d / bandwidth)^2)^2.

    Every event in the window counts the same whatever its age (that is what makes it retrospective); the
    prospective hotspot is the one that decays with time."""

    name = "kde"

    def __init__(self, bandwidth: float = 200.0, window_days: float | None = 365):
        self.bandwidth = bandwidth
        self.window_days = window_days

    def _predict(self, grid, at, past):
        past = past.before(at, self.window_days)
        cell, event, dist = pairs_within(grid.centres, past.xy(), self.bandwidth)
        weight = (1.0 - (dist / self.bandwidth) ** 2) ** 2
        buckets = age_bucket(past.age_days(at)[event])
        values, counts = spread_by_bucket(cell, buckets, weight, grid.n_valid)
        return age_surface(self, grid, at, values, counts, f"within {self.bandwidth:.0f} m")
