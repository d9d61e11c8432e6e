"""Ensemble: a Poisson-fitted, non-negative blend of long-memory, recent and neighbourhood counts.

Each cell's forecast is an expected number of incidents over the day,

    risk(cell) = w_0 + sum_k w_k * f_k(cell),     every w_k >= 0,

where each feature f_k is a rate in incidents a day: the cell's own incidents over several memories (all history,
the last 3 years, 1 year, 90, 30 and 7 days) and the same around the cell at two scales (the 3 x 3 and 7 x 7 cells
centred on it: 600 m and 1.4 km squares, per cell). Given `context` (incidents of every category), two more
features count crime of any kind in the cell (the risk-terrain idea); the named model does not use them (on
Toronto they helped Break and Enter and hurt Auto Theft, see docs/forecasting.md). Because the blend is a sum of
non-negative parts, each part is one term of the explanation ("incidents in the cell over all history 62%, in the
3 x 3 cells around it over the last year 21%, ...") and the terms add up exactly to the score.

The weights are chosen for the category and the forecast day from the year before the forecast only, by
rolling-origin validation: at `origins` instants `horizon_days` apart, ending where the forecast starts, features
are computed from the events before each instant and the label is each cell's incidents in the following
`horizon_days`.
1. The weights maximise the Poisson likelihood of the labels of the older two thirds of the origins (the EM, or
   multiplicative, update for a non-negative mixture of Poisson sources: monotone, no step size), over the cells
   that could be flagged (the top `candidates` share by long-term counts at each origin), so the fit is about
   ordering the places an analyst would be sent to rather than the many near-empty cells.
2. On the latest third of the origins (out of sample), the share of that blend beside the plain long-term counts
   (naive-all, the hard baseline) is chosen among 0, 1/4, ..., 1 by the incidents caught in the top 1% and 5% of
   cells: a direct, ranking objective (in the spirit of Mohler and Porter 2018). Where the blend does not beat the
   long-term counts on the latest months, the model is the long-term counts.
No setting is tuned to a category or year: a category where long memory wins gets long memory, one where the last
weeks matter gets those.
"""

from __future__ import annotations

import numpy as np

from lawful.forecast.estimators.base import Estimator
from lawful.forecast.events import DAY, Events
from lawful.forecast.surface import RiskSurface

# (key, memory in days (None: all history), scale (1: the cell; 3, 7: the k x k cells around it), source)
FEATURES = (
    ("cell_all", None, 1, "own"),
    ("cell_1095", 1095, 1, "own"),
    ("cell_365", 365, 1, "own"),
    ("cell_90", 90, 1, "own"),
    ("cell_30", 30, 1, "own"),
    ("cell_7", 7, 1, "own"),
    ("near3_all", None, 3, "own"),
    ("near3_365", 365, 3, "own"),
    ("near3_30", 30, 3, "own"),
    ("near7_all", None, 7, "own"),
    ("near7_365", 365, 7, "own"),
    ("any_all", None, 1, "any"),
    ("any_365", 365, 1, "any"),
)


def _label(key: str, memory, scale: int, source: str, cell: float) -> str:
    what = "incidents" if source == "own" else "incidents of any category"
    where = "in the cell" if scale == 1 else f"in the {scale} x {scale} cells around it ({scale * cell / 1000:g} km square)"
    when = "over all history" if memory is None else (
        "over the last year" if memory == 365 else "over the last 3 years" if memory == 1095
        else f"in the last {memory} days")
    return f"{what} {where} {when}"


class EnsembleModel(Estimator):
    name = "ensemble"

    def __init__(self, origins: int = 13, horizon_days: float = 28.0, candidates: float = 0.1,
                 iterations: int = 200, tol: float = 1e-6, context: Events | None = None):
        self.origins = origins
        self.horizon_days = horizon_days
        self.candidates = candidates
        self.iterations = iterations
        self.tol = tol
        self.context = context  # incidents of every category (None: the category's own stand in)

    # ---- features -------------------------------------------------------------------------------------------
    def _counts_at(self, grid, past: Events, cells: np.ndarray, times: list[np.datetime64]) -> dict:
        """Cumulative per-cell counts of the events before each instant (one bincount each)."""
        out = {}
        for t in times:
            if t in out:
                continue
            k = int(np.searchsorted(past.t, t, side="left"))
            c = cells[:k]
            out[t] = np.bincount(c[c >= 0], minlength=grid.n_valid).astype(float)
        return out

    def features(self, grid, at: np.datetime64, own: Events, other: Events | None = None) -> np.ndarray:
        """(n_valid, len(FEATURES)) rates a day at `at`, from the events before `at`."""
        return self._features(grid, [at], own, other)[0]

    def _used(self) -> tuple:
        """The features in use: those of every category only when their events were given (`context`)."""
        return FEATURES if self.context is not None else tuple(f for f in FEATURES if f[3] == "own")

    def _features(self, grid, instants: list[np.datetime64], own: Events, other: Events | None) -> list[np.ndarray]:
        used = self._used()
        other = own if other is None else other
        own_cells = cells_of_events(grid, own)
        other_cells = own_cells if other is own else cells_of_events(grid, other)
        times = []
        for at in instants:
            times.append(at)
            for _, memory, _, _ in used:
                if memory is not None:
                    times.append(at - memory * DAY)
        own_c = self._counts_at(grid, own, own_cells, times)
        other_c = own_c if other is own else self._counts_at(grid, other, other_cells, times)
        start_own = own.t[0] if len(own) else None
        start_other = other.t[0] if len(other) else None
        out = []
        for at in instants:
            X = np.zeros((grid.n_valid, len(used)))
            for j, (_, memory, scale, source) in enumerate(used):
                counts, first = (own_c, start_own) if source == "own" else (other_c, start_other)
                if memory is None:
                    v = counts[at]
                    span = max((at - first) / DAY, 1.0) if first is not None else 1.0
                else:
                    v = counts[at] - counts[at - memory * DAY]
                    span = float(memory)
                X[:, j] = v / (span * scale * scale)
            out.append(X)
        for scale in sorted({f[2] for f in used} - {1}):  # neighbourhood sums, all instants at once
            cols = [j for j, f in enumerate(used) if f[2] == scale]
            stacked = np.concatenate([X[:, cols] for X in out], axis=1)
            summed = _box(grid, stacked, scale)
            for i, X in enumerate(out):
                X[:, cols] = summed[:, i * len(cols):(i + 1) * len(cols)]
        return out

    # ---- learning ---------------------------------------------------------------------------------------------
    def _learn(self, grid, at, past):
        other = None if self.context is None else self.context.before(at)
        horizon = self.horizon_days * DAY
        origins = [at - k * horizon for k in range(self.origins, 0, -1)]
        origins = [o for o in origins if len(past) and o > past.t[0] + 365 * DAY]
        long_term = np.zeros(len(self._used()) + 1)
        long_term[1] = 1.0  # the cell's own incidents over all history: naive-all
        self.weights_, self.anchor_, self.blend_share_, self.fitted_weights_ = long_term, "cell_all", 0.0, long_term
        if len(origins) < 4:  # too little history to learn and check a blend: the long-term counts alone
            return
        Xs = self._features(grid, origins, past, other)
        cells = cells_of_events(grid, past)
        k = max(1, int(grid.n_valid * self.candidates))
        rows, labels, full = [], [], []
        for o, X in zip(origins, Xs):
            lo, hi = np.searchsorted(past.t, [o, o + horizon], side="left")
            c = cells[lo:hi]
            y = np.bincount(c[c >= 0], minlength=grid.n_valid).astype(float)
            X1 = np.column_stack([np.ones(grid.n_valid), X])  # w_0: a constant rate
            full.append((X1, y))
            keep = np.argpartition(-(X[:, 0] + X[:, 6]), k - 1)[:k]  # the cells that could be flagged
            rows.append(X1[keep])
            labels.append(y[keep])
        # weights from the older origins, the blend's share checked on the latest ones (out of sample)
        held = max(2, len(origins) // 3)
        w = poisson_nonnegative(np.vstack(rows[:-held]), np.concatenate(labels[:-held]), self.iterations, self.tol)
        # put the blend on the scale of the counts, so shares between them mean what they say
        ref = np.mean([X1[:, 1].sum() / max((X1 @ w).sum(), 1e-12) for X1, _ in full[-held:]])
        w = w * ref
        keys = [f[0] for f in self._used()]
        best, choice = -np.inf, (long_term, "cell_all", 0.0)
        for anchor in ANCHORS:  # plain counts over all history, 3 years, 1 year: the memory suits the category
            plain = np.zeros(len(w))
            plain[1 + keys.index(anchor)] = 1.0
            for share in SHARES:
                trial = (1 - share) * plain + share * w
                gain = sum(_top_hits(X1 @ trial, y, grid.n_valid) for X1, y in full[-held:])
                if gain > best + 1e-9:  # ties keep the earlier, simpler choice
                    best, choice = gain, (trial, anchor, share)
        self.fitted_weights_ = w
        self.weights_, self.anchor_, self.blend_share_ = choice
        self.training_rows_ = int(sum(len(y) for y in labels))

    def _predict(self, grid, at, past):
        other = None if self.context is None else self.context.before(at)
        X = self.features(grid, at, past, other)
        labels = ["the average place (a constant rate)"] + [_label(*f, grid.cell) for f in self._used()]
        terms = np.column_stack([np.full(grid.n_valid, self.weights_[0]), X * self.weights_[1:]])
        return RiskSurface.from_terms(grid, at, self.name, labels, terms)

    def describe(self) -> str:
        """The fitted blend in words: each feature's share of the average flagged cell's score."""
        names = ["constant"] + [f[0] for f in self._used()]
        return ", ".join(f"{n} {w:.3g}" for n, w in zip(names, self.weights_) if w > 0)


SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)  # how much of the fitted blend to use beside plain counts
ANCHORS = ("cell_all", "cell_1095", "cell_365")  # the plain counts it may stand beside: naive-all, 3 years, naive
COVERAGES = (0.01, 0.05)  # the shares of cells the blend is checked at (the ones analysts are sent to)


def _top_hits(risk: np.ndarray, y: np.ndarray, n: int) -> float:
    """Incidents caught at each checked coverage, relative to all incidents, summed over the coverages."""
    from lawful.forecast.scoring import cells_for, expected_hits

    total = max(float(y.sum()), 1.0)
    return sum(expected_hits(risk, y, max(1, cells_for(n, c))) / total for c in COVERAGES)


_CELLS: dict = {}


def cells_of_events(grid, events: Events) -> np.ndarray:
    """Each event's valid-cell position. A backtest asks every day about views into the same history arrays, so
    the positions are computed once per (arrays, grid) and sliced."""
    x, y = events.x, events.y
    bx = x if x.base is None else x.base
    by = y if y.base is None else y.base
    if not (isinstance(bx, np.ndarray) and isinstance(by, np.ndarray) and bx.ndim == 1 and bx.shape == by.shape
            and bx.dtype == x.dtype and len(x)):
        return grid.cell_of(x, y)
    start = (x.__array_interface__["data"][0] - bx.__array_interface__["data"][0]) // x.itemsize
    start_y = (y.__array_interface__["data"][0] - by.__array_interface__["data"][0]) // y.itemsize
    if start != start_y or x.strides != (x.itemsize,):
        return grid.cell_of(x, y)
    key = (id(bx), id(by), id(grid))
    hit = _CELLS.get(key)
    if hit is None or hit[0] is not bx or hit[1] is not by or hit[2] is not grid:
        if len(_CELLS) >= 8:
            _CELLS.clear()
        hit = (bx, by, grid, grid.cell_of(bx, by))
        _CELLS[key] = hit
    return hit[3][start:start + len(x)]


def poisson_nonnegative(X: np.ndarray, y: np.ndarray, iterations: int = 300, tol: float = 1e-7) -> np.ndarray:
    """w >= 0 maximising the Poisson likelihood of y with mean X @ w (X >= 0): the EM update for a mixture of
    Poisson sources, w_k <- w_k * sum_i X_ik y_i / mu_i / sum_i X_ik (Lee and Seung's multiplicative rule)."""
    col = X.sum(axis=0)
    usable = col > 0
    w = np.where(usable, y.sum() / max(col.sum(), 1e-12), 0.0)
    loglik = -np.inf
    for _ in range(iterations):
        mu = np.maximum(X @ w, 1e-12)
        w = np.where(usable, w * (X.T @ (y / mu)) / np.where(usable, col, 1.0), 0.0)
        new = float(np.sum(y * np.log(mu) - mu))
        if abs(new - loglik) <= tol * max(abs(new), 1.0):
            break
        loglik = new
    return w


def _box(grid, values: np.ndarray, size: int) -> np.ndarray:
    """Sums of `values` (per valid cell; one column per map when 2-D) over the size x size square of cells centred
    on each valid cell, through one summed-area table per map."""
    values = np.asarray(values, float)
    flat = values.ndim == 1
    v = values[:, None] if flat else values
    iy, ix = np.divmod(grid.valid, grid.nx)
    r = size // 2
    full = np.zeros((grid.ny + size, grid.nx + size, v.shape[1]))
    full[iy + r + 1, ix + r + 1] = v  # one row and column of zeros first, for the summed-area table
    s = full.cumsum(0).cumsum(1)
    y0, x0 = iy + 1, ix + 1  # window rows iy - r .. iy + r are padded rows y0 .. y0 + size - 1
    out = s[y0 + size - 1, x0 + size - 1] - s[y0 - 1, x0 + size - 1] - s[y0 + size - 1, x0 - 1] + s[y0 - 1, x0 - 1]
    return out[:, 0] if flat else out
