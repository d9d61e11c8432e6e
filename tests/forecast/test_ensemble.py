"""The ensemble: a non-negative Poisson blend whose weights come from the year before the forecast only."""

from __future__ import annotations

import numpy as np
import pytest

from lawful.forecast import Events, Grid
from lawful.forecast.estimators.ensemble import EnsembleModel, _box, cells_of_events, poisson_nonnegative
from tests.forecast.test_estimators import DAY, T0


def test_poisson_fit_recovers_non_negative_weights():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 2, (20_000, 3))
    w = np.array([0.5, 0.0, 1.5])
    y = rng.poisson(X @ w)
    fitted = poisson_nonnegative(X, y.astype(float), iterations=2000, tol=1e-12)
    assert (fitted >= 0).all()
    assert fitted == pytest.approx(w, abs=0.05)


def test_box_sums_are_the_square_of_cells_around_each_cell():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2000, 400), rng.uniform(0, 1400, 400)
    grid = Grid.from_events(x, y, 200)
    v = rng.uniform(0, 1, grid.n_valid)
    full = np.zeros(grid.nx * grid.ny)
    full[grid.valid] = v
    full = full.reshape(grid.ny, grid.nx)
    got = _box(grid, v, 3)
    for c in range(grid.n_valid):
        iy, ix = divmod(int(grid.valid[c]), grid.nx)
        want = full[max(iy - 1, 0):iy + 2, max(ix - 1, 0):ix + 2].sum()
        assert got[c] == pytest.approx(want)


def test_cell_positions_of_views_match_a_fresh_computation():
    rng = np.random.default_rng(2)
    n = 500
    t = T0 + (np.sort(rng.uniform(0, 800, n)) * 86_400e6).astype("timedelta64[us]")
    events = Events.sorted(t, rng.uniform(0, 3000, n), rng.uniform(0, 3000, n))
    grid = Grid.from_events(events.x, events.y, 200)
    for view in (events.before(T0 + 400 * DAY), events.before(T0 + 700 * DAY, 100), events):
        assert (cells_of_events(grid, view) == grid.cell_of(view.x, view.y)).all()


def moving_hotspots(seed=0, days=900):
    """Background crime plus one hotspot that moves to a new place every 90 days: recency is what predicts."""
    rng = np.random.default_rng(seed)
    n = 4 * days
    t = rng.uniform(0, days, n)
    x, y = rng.uniform(0, 4000, n), rng.uniform(0, 4000, n)
    places = rng.uniform(500, 3500, (days // 90 + 1, 2))
    th = rng.uniform(0, days, 6 * days)
    which = (th // 90).astype(int)
    xh, yh = places[which, 0] + rng.normal(0, 40, len(th)), places[which, 1] + rng.normal(0, 40, len(th))
    tt = np.concatenate([t, th])
    when = T0 + (tt * 86_400e6).astype("timedelta64[us]")
    return Events.sorted(when, np.concatenate([x, xh]), np.concatenate([y, yh])), places


def test_it_learns_recency_where_hotspots_move_and_beats_long_term_counts():
    events, places = moving_hotspots()
    grid = Grid.from_events(events.x, events.y, 200)
    at = T0 + 845 * DAY  # in the 10th period (810-900): the hotspot is places[9]
    est = EnsembleModel().fit(events.before(at), grid=grid, at=at)
    surface = est.predict(grid, at)
    assert est.blend_share_ > 0 and (est.weights_ >= 0).all()
    labels = dict(zip(surface.term_labels, est.weights_))
    recent = sum(w for label, w in labels.items() if "last 7 days" in label or "last 30 days" in label)
    assert recent > 0
    now = grid.cell_of(np.array([places[9, 0]]), np.array([places[9, 1]]))[0]
    assert now in surface.top(5)
    # the explanation names the recent incidents and adds up
    terms = est.explain(now)
    assert sum(t.value for t in terms) == pytest.approx(surface.values[now])
    assert any("last" in t.label and "days" in t.label for t in terms[:3])


def test_without_a_year_of_history_it_is_the_long_term_counts():
    events, _ = moving_hotspots(days=300)
    grid = Grid.from_events(events.x, events.y, 200)
    at = T0 + 250 * DAY
    est = EnsembleModel().fit(events.before(at), grid=grid, at=at)
    surface = est.predict(grid, at)
    past = events.before(at)
    assert est.blend_share_ == 0
    assert np.argsort(-surface.values, kind="stable")[:20].tolist() == \
        np.argsort(-grid.counts(past.x, past.y), kind="stable")[:20].tolist()
