"""What every estimator shares: the contract, age buckets for explanations, cell/event neighbour pairs."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from lawful.forecast.events import Events
from lawful.forecast.grid import Grid
from lawful.forecast.surface import RiskSurface, Term

# Explanations split a score by how old the events behind it are: what an analyst asks first.
AGE_BUCKETS = ((7, "in the last 7 days"), (30, "8-30 days ago"), (90, "31-90 days ago"), (365, "91-365 days ago"),
               (np.inf, "over a year ago"))


class Estimator:
    """fit(events) -> self; predict(grid, at) -> RiskSurface; explain(cell) -> terms of the last prediction.

    Estimators that learn parameters (the SEPP, the feature model) learn them for one forecast instant and grid.
    Give both to `fit(events, grid=grid, at=at)` to do that work in fit (what the backtest times as fit seconds);
    otherwise `predict` does it on first use for its own grid and instant."""

    name = "estimator"
    events_: Events
    surface_: RiskSurface | None = None
    learned_for_: tuple | None = None

    def fit(self, events, *, grid: Grid | None = None, at=None) -> "Estimator":
        self.events_ = Events.of(events)
        self.surface_ = None
        self.learned_for_ = None
        if grid is not None and at is not None:
            self._ensure_learned(grid, np.datetime64(at, "us"))
        return self

    def predict(self, grid: Grid, at) -> RiskSurface:
        at = np.datetime64(at, "us")
        if not hasattr(self, "events_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(events) first")
        self._ensure_learned(grid, at)
        self.surface_ = self._predict(grid, at, self.events_.before(at))
        return self.surface_

    def explain(self, cell: int) -> list[Term]:
        if self.surface_ is None:
            raise RuntimeError("explain() needs a prediction first; call predict(grid, at)")
        return self.surface_.explain(cell)

    def _ensure_learned(self, grid: Grid, at: np.datetime64) -> None:
        key = (id(grid), at)
        if self.learned_for_ != key:
            self._learn(grid, at, self.events_.before(at))
            self.learned_for_ = key

    def _learn(self, grid: Grid, at: np.datetime64, past: Events) -> None:
        """Learn what depends on the instant (nothing, for the counting estimators)."""

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def _predict(self, grid: Grid, at: np.datetime64, past: Events) -> RiskSurface:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def age_bucket(age_days: np.ndarray) -> np.ndarray:
    """Index into AGE_BUCKETS for each age."""
    edges = np.array([limit for limit, _ in AGE_BUCKETS[:-1]], float)
    return np.searchsorted(edges, age_days, side="left")


def age_surface(est: Estimator, grid: Grid, at, values, counts, where: str) -> RiskSurface:
    """A surface whose terms are the age buckets, e.g. 'incidents within 200 m in the last 7 days'."""
    labels = [f"incidents {where} {label}" for _, label in AGE_BUCKETS]
    return RiskSurface.from_terms(grid, at, est.name, labels, values, counts)


def spread_by_bucket(cells: np.ndarray, buckets: np.ndarray, weights: np.ndarray, n_cells: int,
                     min_weight: float = 0.0):
    """(n_cells, n_buckets) sums of weights, and counts of the events weighing more than min_weight, from
    (cell, bucket, weight) triples."""
    nb = len(AGE_BUCKETS)
    flat = cells * nb + buckets
    values = np.bincount(flat, weights=weights, minlength=n_cells * nb).reshape(n_cells, nb)
    counts = np.bincount(flat[weights > min_weight], minlength=n_cells * nb).reshape(n_cells, nb)
    return values, counts


def pairs_within(centres: np.ndarray, points: np.ndarray, radius: float):
    """(centre index, point index, distance) for every pair closer than radius, through a k-d tree, not all pairs."""
    if len(points) == 0 or len(centres) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    found = cKDTree(centres).sparse_distance_matrix(cKDTree(points), radius, output_type="ndarray")
    return found["i"].astype(np.int64), found["j"].astype(np.int64), found["v"]
