"""Prospective hotspot (Bowers, Johnson and Pease 2004): recent, near events weigh most."""

from __future__ import annotations


from lawful.forecast.estimators.base import Estimator, age_bucket, age_surface, pairs_within, spread_by_bucket


class ProspectiveHotspot(Estimator):
    """Risk = sum over events within `space_bandwidth` m and `time_bandwidth_days` of
    1 / (1 + d / unit) * 1 / (1 + age / 7 days).

    As in the paper, distance is counted in units of `unit` metres (their 50 m cells) and time in weeks; the
    defaults are the paper's (400 m = 8 cells, 8 weeks). Distances and ages are continuous rather than whole
    cells and weeks, so a forecast made on any day of the week is consistent."""

    name = "prospective"

    def __init__(self, space_bandwidth: float = 400.0, time_bandwidth_days: float = 56.0, unit: float = 50.0):
        self.space_bandwidth = space_bandwidth
        self.time_bandwidth_days = time_bandwidth_days
        self.unit = unit

    def _predict(self, grid, at, past):
        past = past.before(at, self.time_bandwidth_days)
        cell, event, dist = pairs_within(grid.centres, past.xy(), self.space_bandwidth)
        age = past.age_days(at)[event]
        weight = 1.0 / (1.0 + dist / self.unit) / (1.0 + age / 7.0)
        values, counts = spread_by_bucket(cell, age_bucket(age), weight, grid.n_valid)
        return age_surface(self, grid, at, values, counts, f"within {self.space_bandwidth:.0f} m")
