"""Feature model: gradient-boosted trees on per-cell features, explained exactly per cell.

Training rows are (cell, origin) pairs: at each of `origins` instants spaced `horizon_days` apart before the
forecast, the features are computed from the events before that instant and the label is the number of events in
the cell in the following `horizon_days`. Every label window ends before the forecast instant, so nothing is
learned from the future. The model is scikit-learn's HistGradientBoostingRegressor (squared error).

Cost. All origins' features come from one table of cumulative per-cell counts (one bincount, no loop over cells or
origins), and the trees learn from about a third of the 52 x 9,472 rows: at each origin every row of the quarter of
cells with the highest long-term rate (the ones that could be flagged) and every row with incidents, plus a 10%
sample of the rest, each weighing 10, so the squared error's gradients and hessians, hence the trees, stay unbiased.
The trees are trained on a fixed calendar, every `refit_days` (14) from 2000-01-01: a forecast uses the trees of the
latest training instant at or before it (their last label window ends there, 0 to 13 days before the forecast), and
forecasts that share that instant and the same event arrays (a backtest's days) share one training; the features are
always computed at the forecast instant. Measured against the previous model (every row, trained for each day) on
every 7th day of 2019 (52 days), PAI at 1% / 5%: Break and Enter 13.41 / 7.50 -> 13.52 / 7.46 (paired difference at
5% -0.03, 95% interval -0.22 to +0.15), Auto Theft 12.11 / 5.52 -> 12.32 / 5.40 (-0.11, -0.40 to +0.17); the row
sample alone changes nothing (+0.01 and +0.03), a 28-day calendar costs more (-0.11 and -0.21). See
docs/forecasting.md for the time.
"""

from __future__ import annotations

import threading

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from lawful.forecast.estimators.base import Estimator, pairs_within
from lawful.forecast.estimators.ensemble import cells_of_events
from lawful.forecast.events import DAY
from lawful.forecast.surface import RiskSurface

MAX_BINS = 255  # scikit-learn's histogram bins for the values of one feature
REFIT_DAYS = 14.0  # the trees are trained on a fixed calendar this many days apart

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
                 max_iter: int = 100, max_depth: int = 3, learning_rate: float = 0.1, random_state: int = 0,
                 negatives: float = 0.1, whole: float = 0.25, refit_days: float = REFIT_DAYS):
        self.origins = origins
        self.horizon_days = horizon_days
        self.near_metres = near_metres
        self.max_iter = max_iter
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.whole = whole  # the share of cells (by long-term rate) whose training rows are all kept
        self.negatives = negatives  # the share of training rows without incidents kept (weighted up to stand in)
        # > 0: the trees are trained at fixed instants refit_days apart (the last one at or before the forecast) and
        # reused by every forecast until the next; 0: trained for each forecast instant
        self.refit_days = refit_days

    def features(self, grid, at: np.datetime64, past) -> np.ndarray:
        """(n_valid, n_features) features of every valid cell at `at`, from the events before `at`."""
        return self.features_at(grid, [np.datetime64(at, "us")], past)[0][0]

    def features_at(self, grid, instants, past, horizon=None):
        """The features at every instant at once (each from the events before it), and with `horizon` each cell's
        incidents in [instant, instant + horizon): ([X], [labels]). Every count is a difference of cumulative
        per-cell counts at the few event positions the instants' age limits fall on (one bincount for all
        instants), and the near-repeat pairs are found once for all the events any instant looks at."""
        n, nf = grid.n_valid, len(FEATURES)
        instants = [np.datetime64(at, "us") for at in instants]
        t = past.t
        cells = cells_of_events(grid, past)
        ss = lambda when, side: int(np.searchsorted(t, when, side=side))  # noqa: E731
        # event positions: p_at (t < at), and for each age limit d, the events with age >= d (t <= at - d days)
        plan = []
        for at in instants:
            p = {"at": ss(at, "left")}
            for d in (7, 30, 90, 365):
                p[d] = min(ss(at - d * DAY, "right"), p["at"])
            if horizon is not None:
                p["end"] = ss(at + horizon, "left")
            plan.append(p)
        positions = np.unique([v for p in plan for v in p.values()])
        own = _cumulative(cells, positions, n)  # (positions, cells)
        # near repeats: events within near_metres of each centre, among those under 30 days old at some instant
        lo = min(p[30] for p in plan)
        hi = max(p["at"] for p in plan)
        c, e, _ = pairs_within(grid.centres, np.column_stack([past.x[lo:hi], past.y[lo:hi]]), self.near_metres)
        order = np.argsort(e, kind="stable")
        near = _cumulative(c[order], positions - lo, n, events=e[order])
        at_ = {key: np.searchsorted(positions, [p[key] for p in plan]) for key in plan[0]}  # rows of own and near
        m = len(instants)
        X = np.zeros((m, n, nf))
        first = t[0] if len(t) else None
        span_days = np.array([max(float((at - first) / DAY) if first is not None and p["at"] else 0.0, 1.0)
                              for at, p in zip(instants, plan)])
        X[:, :, 0] = own[at_["at"]] / (span_days[:, None] / 365.25)
        X[:, :, 1] = own[at_["at"]] - own[at_[7]]
        X[:, :, 2] = own[at_[7]] - own[at_[30]]
        X[:, :, 3] = own[at_[30]] - own[at_[90]]
        X[:, :, 4] = own[at_[90]] - own[at_[365]]
        X[:, :, 5] = near[at_["at"]] - near[at_[7]]
        X[:, :, 6] = near[at_[7]] - near[at_[30]]
        adjacency = _adjacency(grid)  # the 8 neighbouring valid cells' sums, every instant at once
        X[:, :, 7] = (adjacency @ X[:, :, 0].T).T
        X[:, :, 8] = (adjacency @ (own[at_["at"]] - own[at_[365]]).T).T
        days = np.array(instants, dtype="datetime64[D]")
        X[:, :, 9] = ((days.astype(np.int64) + 3) % 7)[:, None]  # 1970-01-01 was a Thursday; Monday = 0
        X[:, :, 10] = (days.astype("datetime64[M]").astype(np.int64) % 12 + 1)[:, None]
        labels = list(own[at_["end"]] - own[at_["at"]]) if horizon is not None else []
        return list(X), labels

    def features_one(self, grid, at: np.datetime64, past) -> np.ndarray:
        """The same features for one instant, computed directly from the events (the reference the tests compare
        `features_at` with)."""
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
        anchor = training_instant(at, self.refit_days) if self.refit_days > 0 else at
        key = _fit_key(self, grid, anchor, past)
        with _FITS_LOCK:
            hit = _FITS.get(key[0]) if key else None
        if hit is not None and _same(hit[0], key[1]):
            self.model_, self.bins_, self.training_rows_ = hit[1]
            self.trained_at_ = anchor
            return
        self._train(grid, anchor, past)
        self.trained_at_ = anchor
        if key:
            with _FITS_LOCK:  # the server forecasts on several threads: one of them at a time changes the cache
                while len(_FITS) >= 4:
                    _FITS.pop(next(iter(_FITS)))
                _FITS[key[0]] = (key[1], (self.model_, self.bins_, self.training_rows_))

    def _train(self, grid, at, past):
        horizon = np.timedelta64(int(self.horizon_days * 86_400_000_000), "us")
        origins = []
        for k in range(1, self.origins + 1):
            origin = at - k * horizon
            if len(past) == 0 or origin <= past.t[0] + 365 * DAY:
                break  # too little history before this origin for its features to mean what they say
            origins.append(origin)
        self.model_, self.bins_ = None, {}
        self.training_rows_ = 0
        if not origins:
            return
        rows, labels = self.features_at(grid, origins, past, horizon)
        X, y = np.vstack(rows), np.concatenate(labels)
        weight = None
        if self.negatives < 1.0:
            # keep every row with incidents and a sample of the many without, weighted up to stand for them all:
            # the squared error's gradients and hessians, hence the trees, are unbiased, on a fraction of the rows
            rng = np.random.default_rng(self.random_state)
            whole = np.zeros(len(y), dtype=bool)  # the cells that could be flagged are kept whole at each origin
            if self.whole > 0:
                n = grid.n_valid
                k = max(1, int(n * self.whole))
                for i in range(len(rows)):
                    score = X[i * n:(i + 1) * n, 0] + X[i * n:(i + 1) * n, 7] / 8
                    whole[i * n + np.argpartition(-score, k - 1)[:k]] = True
            sampled = rng.random(len(y)) < self.negatives
            keep = (y > 0) | whole | sampled
            weight = np.where((y[keep] > 0) | whole[keep], 1.0, 1.0 / self.negatives)
            # scikit-learn bins a weighted column with more than MAX_BINS distinct values by one weighted
            # percentile per edge (seconds a fit); the unweighted edges of the whole matrix are what it uses
            # without weights: give it those bins' numbers (the same transform is applied at prediction)
            for j in range(X.shape[1]):
                if len(np.unique(X[keep, j])) > MAX_BINS:
                    edges = np.percentile(X[:, j], np.linspace(0, 100, MAX_BINS + 1)[1:-1],
                                          method="averaged_inverted_cdf")
                    self.bins_[j] = np.unique(edges)
            X, y = self.model_input(X[keep]), y[keep]
        self.model_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter, max_depth=self.max_depth, learning_rate=self.learning_rate,
            random_state=self.random_state, early_stopping=False)
        self.model_.fit(X, y, sample_weight=weight)
        self.training_rows_ = len(y)

    def model_input(self, X: np.ndarray) -> np.ndarray:
        """The features as the trees see them: binned columns as their bin numbers (see _learn)."""
        if not getattr(self, "bins_", None):
            return X
        X = np.array(X, float)
        for j, edges in self.bins_.items():
            X[:, j] = np.searchsorted(edges, X[:, j], side="left")  # bin i: edges[i - 1] < x <= edges[i]
        return X

    def _predict(self, grid, at, past):
        X_now = self.features(grid, at, past)
        labels = [label.format(near=f"{self.near_metres:.0f}") for _, label in FEATURES]
        if self.model_ is None:  # under a year of history: the long-term rate alone, explained as such
            terms = np.zeros_like(X_now)
            terms[:, 0] = X_now[:, 0]
            return RiskSurface.from_terms(grid, at, self.name, labels, terms, _counts(X_now))
        base, contributions = tree_contributions(self.model_, self.model_input(X_now))
        self.baseline_ = base
        terms = np.column_stack([np.full(grid.n_valid, base), contributions])
        return RiskSurface.from_terms(grid, at, self.name, ["average cell", *labels], terms,
                                      np.column_stack([np.full(grid.n_valid, -1), _counts(X_now)]))


CALENDAR = np.datetime64("2000-01-01T00:00", "us")  # where the refit calendar (refit_days) starts


def training_instant(at, refit_days: float = REFIT_DAYS) -> np.datetime64:
    """The latest instant on the fixed refit calendar at or before `at`: when the trees a forecast at `at` uses
    were trained."""
    at = np.datetime64(at, "us")
    step = np.timedelta64(int(round(refit_days * 86_400_000_000)), "us")
    return at - (at - CALENDAR) % step


_FITS_LOCK = threading.Lock()
_FITS: dict = {}  # the latest trained trees, shared by the forecasts that train at the same instant on the same data


def _fit_key(model, grid, anchor, past):
    """((the events' arrays, grid, instant, settings), (the arrays, the grid, how many events before the instant))
    naming a training that later forecasts may reuse: only on the refit calendar, only for the same arrays (a
    backtest's days are views into one history) whose events before the instant are the same ones; None otherwise."""
    if model.refit_days <= 0 or not len(past):
        return None
    t, x, y = past.t, past.x, past.y
    bases = [a if a.base is None else a.base for a in (t, x, y)]
    if not all(isinstance(b, np.ndarray) for b in bases):
        return None
    start = [(a.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // a.itemsize
             for a, b in zip((t, x, y), bases)]
    if len(set(start)) != 1:
        return None
    n = int(np.searchsorted(t, anchor, side="left"))
    return ((tuple(id(b) for b in bases), id(grid), anchor, repr(model)), (bases, grid, start[0], n))


def _same(a, b) -> bool:
    """The same arrays (by identity), grid, start and number of events before the training instant."""
    return all(x is y for x, y in zip(a[0], b[0])) and a[1] is b[1] and a[2:] == b[2:]


def _cumulative(cells: np.ndarray, positions: np.ndarray, n: int, events: np.ndarray | None = None) -> np.ndarray:
    """(len(positions), n) counts per cell of the events whose index (`events`, sorted; default 0, 1, ...) is
    below each of the sorted `positions`; cells of -1 (outside the mask) are left out."""
    idx = np.arange(len(cells)) if events is None else events
    seg = np.searchsorted(positions, idx, side="right")  # events in [positions[j-1], positions[j]) -> j
    keep = (cells >= 0) & (seg < len(positions))
    m = len(positions)
    counts = np.bincount(seg[keep] * n + cells[keep], minlength=n * m).reshape(m, n)
    return np.cumsum(counts, axis=0, dtype=np.float64)


_ADJACENCY: dict = {}


def _adjacency(grid):
    """The (n_valid, n_valid) sparse matrix summing each valid cell's 8 neighbouring valid cells (cached per grid)."""
    from scipy.sparse import csr_matrix

    hit = _ADJACENCY.get(id(grid))
    if hit is None or hit[0] is not grid:
        nbrs = grid.neighbours
        rows = np.repeat(np.arange(grid.n_valid), nbrs.shape[1])
        cols = nbrs.ravel()
        ok = cols >= 0
        if len(_ADJACENCY) >= 8:
            _ADJACENCY.clear()
        hit = (grid, csr_matrix((np.ones(ok.sum()), (rows[ok], cols[ok])), shape=(grid.n_valid, grid.n_valid)))
        _ADJACENCY[id(grid)] = hit
    return hit[1]


def _counts(X: np.ndarray) -> np.ndarray:
    """Event counts behind the count features; -1 (not a count) for rates, day of week and month."""
    out = np.full(X.shape, -1, dtype=np.int64)
    for j, (key, _) in enumerate(FEATURES):
        if key.startswith(("cell_", "near_")) or key == "neighbours_365d":
            out[:, j] = np.round(X[:, j]).astype(np.int64)
    return out


def tree_contributions(model: HistGradientBoostingRegressor, X: np.ndarray):
    """(baseline, (n_rows, n_features) contributions) with baseline + contributions.sum(1) == model.predict(X).

    All trees are walked at once: their nodes in one table, one (row, tree) position per pair, a level a step."""
    X = np.asarray(X, float)
    n, p = X.shape
    base = float(np.ravel(model._baseline_prediction)[0])
    trees = [predictor.nodes for (predictor,) in model._predictors]
    if not trees or n == 0:
        return base, np.zeros((n, p))
    offsets = np.cumsum([0] + [len(nodes) for nodes in trees])[:-1]
    nodes = np.concatenate(trees)
    value = np.concatenate([_subtree_means(nodes) for nodes in trees])
    base += float(value[offsets].sum())
    shift = np.repeat(offsets, [len(nodes) for nodes in trees])  # each node's tree offset, for child indices
    left = nodes["left"].astype(np.int64) + shift
    right = nodes["right"].astype(np.int64) + shift
    leaf = nodes["is_leaf"].astype(bool)
    feature = nodes["feature_idx"].astype(np.int64)
    threshold = nodes["num_threshold"]
    missing_left = nodes["missing_go_to_left"].astype(bool)
    rows = np.repeat(np.arange(n), len(trees))
    node = np.tile(offsets, n)
    flat = np.zeros(n * p)
    while len(node):
        active = ~leaf[node]
        rows, node = rows[active], node[active]
        if not len(node):
            break
        feat = feature[node]
        xv = X[rows, feat]
        go_left = np.where(np.isnan(xv), missing_left[node], xv <= threshold[node])
        child = np.where(go_left, left[node], right[node])
        flat += np.bincount(rows * p + feat, weights=value[child] - value[node], minlength=n * p)
        node = child
    return base, flat.reshape(n, p)


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
