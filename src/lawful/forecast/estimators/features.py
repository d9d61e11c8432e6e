"""Feature model: gradient-boosted trees on per-cell features, explained exactly per cell.

Training rows are (cell, origin) pairs: at each of `origins` instants spaced `horizon_days` apart before the
forecast, the features are computed from the events before that instant and the label is the number of events in
the cell in the following `horizon_days`. Every label window ends before the forecast instant, so nothing is
learned from the future. The model is scikit-learn's HistGradientBoostingRegressor (squared error).

Features per cell: long-term rate (events per year over all history), counts in the cell 0-7, 8-30, 31-90 and
91-365 days back, near-repeat counts (events within `near_metres` of the cell centre in the last 7 and 8-30 days),
the 8 neighbouring cells' long-term rate and last-365-day count, and the day of week and month of the origin.

Explanations are tree paths (Saabas; as in the `treeinterpreter` package): walking each tree from root to leaf,
the change in the node's mean value at every split is credited to the split's feature. The credits plus the
average over training rows add up exactly to the cell's prediction.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from lawful.forecast.estimators.base import Estimator, pairs_within
from lawful.forecast.events import DAY
from lawful.forecast.surface import RiskSurface

FEATURES = (
    ("long_term_rate", "long-term rate in the cell (incidents a year)"),
    ("cell_7d", "incidents in the cell in the last 7 days"),
    ("cell_30d", "incidents in the cell 8-30 days ago"),
    ("cell_90d", "incidents in the cell 31-90 days ago"),
    ("cell_365d", "incidents in the cell 91-365 days ago"),
    ("near_7d", "incidents within {near} m in the last 7 days"),
    ("near_30d", "incidents within {near} m 8-30 days ago"),
    ("neighbours_long_term", "long-term rate in the 8 neighbouring cells (a year)"),
    ("neighbours_365d", "incidents in the 8 neighbouring cells in the last year"),
    ("day_of_week", "day of the week"),
    ("month", "season (month)"),
)


class FeatureModel(Estimator):
    name = "features"

    def __init__(self, origins: int = 52, horizon_days: float = 28.0, near_metres: float = 200.0,
                 max_iter: int = 100, max_depth: int = 3, learning_rate: float = 0.1, random_state: int = 0):
        self.origins = origins
        self.horizon_days = horizon_days
        self.near_metres = near_metres
        self.max_iter = max_iter
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.random_state = random_state

    def features(self, grid, at: np.datetime64, past) -> np.ndarray:
        """(n_valid, n_features) features of every valid cell at `at`, from the events before `at`."""
        past = past.before(at)
        n = grid.n_valid
        out = np.zeros((n, len(FEATURES)))
        age = past.age_days(at)
        cells = grid.cell_of(past.x, past.y)
        inside = cells >= 0
        span_years = max(float(age.max()) if len(age) else 0.0, 1.0) / 365.25
        out[:, 0] = np.bincount(cells[inside], minlength=n) / span_years
        for col, (lo, hi) in zip((1, 2, 3, 4), ((0, 7), (7, 30), (30, 90), (90, 365))):
            sel = inside & (age >= lo) & (age < hi)
            out[:, col] = np.bincount(cells[sel], minlength=n)
        recent = age < 30
        c, e, _ = pairs_within(grid.centres, past.xy()[recent], self.near_metres)
        a = age[recent][e]
        out[:, 5] = np.bincount(c[a < 7], minlength=n)
        out[:, 6] = np.bincount(c[a >= 7], minlength=n)
        nbrs = grid.neighbours
        for col, src in ((7, 0), (8, None)):
            base = out[:, src] if src is not None else out[:, 1:5].sum(axis=1)
            padded = np.append(base, 0.0)  # index -1 (masked neighbour) reads 0
            out[:, col] = padded[nbrs].sum(axis=1)
        day = at.astype("datetime64[D]")
        out[:, 9] = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        out[:, 10] = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
        return out

    def _learn(self, grid, at, past):
        horizon = np.timedelta64(int(self.horizon_days * 86_400_000_000), "us")
        rows, labels = [], []
        for k in range(1, self.origins + 1):
            origin = at - k * horizon
            if len(past) == 0 or origin <= past.t[0] + 365 * DAY:
                break  # too little history before this origin for its features to mean what they say
            rows.append(self.features(grid, origin, past))
            window = past.between(origin, origin + horizon)
            labels.append(grid.counts(window.x, window.y))
        self.model_ = None
        if rows:
            self.model_ = HistGradientBoostingRegressor(
                max_iter=self.max_iter, max_depth=self.max_depth, learning_rate=self.learning_rate,
                random_state=self.random_state, early_stopping=False)
            self.model_.fit(np.vstack(rows), np.concatenate(labels))
        self.training_rows_ = sum(len(r) for r in rows)

    def _predict(self, grid, at, past):
        X_now = self.features(grid, at, past)
        labels = [label.format(near=f"{self.near_metres:.0f}") for _, label in FEATURES]
        if self.model_ is None:  # under a year of history: the long-term rate alone, explained as such
            terms = np.zeros_like(X_now)
            terms[:, 0] = X_now[:, 0]
            return RiskSurface.from_terms(grid, at, self.name, labels, terms, _counts(X_now))
        base, contributions = tree_contributions(self.model_, X_now)
        self.baseline_ = base
        terms = np.column_stack([np.full(grid.n_valid, base), contributions])
        return RiskSurface.from_terms(grid, at, self.name, ["average cell", *labels], terms,
                                      np.column_stack([np.full(grid.n_valid, -1), _counts(X_now)]))


def _counts(X: np.ndarray) -> np.ndarray:
    """Event counts behind the count features; -1 (not a count) for rates, day of week and month."""
    out = np.full(X.shape, -1, dtype=np.int64)
    for j, (key, _) in enumerate(FEATURES):
        if key.startswith(("cell_", "near_")) or key == "neighbours_365d":
            out[:, j] = np.round(X[:, j]).astype(np.int64)
    return out


def tree_contributions(model: HistGradientBoostingRegressor, X: np.ndarray):
    """(baseline, (n_rows, n_features) contributions) with baseline + contributions.sum(1) == model.predict(X)."""
    X = np.asarray(X, float)
    n, p = X.shape
    contrib = np.zeros((n, p))
    base = float(np.ravel(model._baseline_prediction)[0])
    rows = np.arange(n)
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        value = _subtree_means(nodes)
        base += value[0]
        node = np.zeros(n, dtype=np.int64)
        while True:
            active = ~nodes["is_leaf"][node].astype(bool)
            if not active.any():
                break
            r, cur = rows[active], node[active]
            feat = nodes["feature_idx"][cur]
            xv = X[r, feat]
            go_left = np.where(np.isnan(xv), nodes["missing_go_to_left"][cur].astype(bool),
                               xv <= nodes["num_threshold"][cur])
            child = np.where(go_left, nodes["left"][cur], nodes["right"][cur]).astype(np.int64)
            np.add.at(contrib, (r, feat), value[child] - value[cur])
            node[active] = child
    return base, contrib


def _subtree_means(nodes) -> np.ndarray:
    """Each node's training-weighted mean leaf value (leaves keep their own, already shrunk, value)."""
    value = nodes["value"].astype(float).copy()
    count = nodes["count"].astype(float)
    order = np.argsort(-nodes["depth"], kind="stable")  # deepest first, so children are done before parents
    for i in order:
        if not nodes["is_leaf"][i]:
            l, r = nodes["left"][i], nodes["right"][i]
            value[i] = (value[l] * count[l] + value[r] * count[r]) / max(count[l] + count[r], 1.0)
    return value
