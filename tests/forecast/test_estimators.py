"""The five estimators: one contract, explanations that add up, no peeking at the future, sensible behaviour."""

from __future__ import annotations


import numpy as np
import pytest

from lawful.forecast import Events, Grid
from lawful.forecast.estimators import (FeatureModel, NaiveCounts, ProspectiveHotspot, RetrospectiveHotspot,
                                        SelfExcitingPointProcess)
from lawful.forecast.estimators.features import tree_contributions
from lawful.forecast.models import MODELS, build
from tests.conftest import imports_of_the_store

T0 = np.datetime64("2018-01-01T05:00", "us")
DAY = np.timedelta64(1, "D")


def synthetic(seed=0, days=900, n_hot=3):
    """Background crime over a 4 km square plus a few persistent hotspots and near-repeat bursts."""
    rng = np.random.default_rng(seed)
    n = 6 * days
    t = T0 + (rng.uniform(0, days, n) * 86_400e6).astype("timedelta64[us]")
    x, y = rng.uniform(0, 4000, n), rng.uniform(0, 4000, n)
    hot = rng.uniform(500, 3500, (n_hot, 2))
    m = 3 * days
    which = rng.integers(0, n_hot, m)
    th = T0 + (rng.uniform(0, days, m) * 86_400e6).astype("timedelta64[us]")
    xh, yh = hot[which, 0] + rng.normal(0, 60, m), hot[which, 1] + rng.normal(0, 60, m)
    return Events.sorted(np.concatenate([t, th]), np.concatenate([x, xh]), np.concatenate([y, yh])), hot


@pytest.fixture(scope="module")
def data():
    events, hot = synthetic()
    grid = Grid.from_events(events.x, events.y, cell=200)
    return events, grid, hot, T0 + 800 * DAY


@pytest.mark.parametrize("name", list(MODELS))
def test_every_estimator_explains_each_cell_with_terms_that_add_up(data, name):
    events, grid, _, at = data
    est = build(name, 365).fit(events.before(at), grid=grid, at=at)
    surface = est.predict(grid, at)
    assert surface.values.shape == (grid.n_valid,)
    assert np.allclose(surface.terms.sum(axis=1), surface.values)
    top = surface.top(5)
    for cell in top:
        terms = est.explain(cell)
        assert terms and sum(t.value for t in terms) == pytest.approx(surface.values[cell], rel=1e-9, abs=1e-12)
        assert sum(t.share for t in terms) == pytest.approx(1.0)
        assert "%" in surface.sentence(cell)


@pytest.mark.parametrize("name", list(MODELS))
def test_forecasts_ignore_events_at_or_after_the_forecast_instant(data, name):
    events, grid, _, at = data
    full = build(name, 365).fit(events, grid=grid, at=at).predict(grid, at).values
    past = build(name, 365).fit(events.before(at), grid=grid, at=at).predict(grid, at).values
    assert np.array_equal(full, past)


@pytest.mark.parametrize("name", list(MODELS))
def test_forecasts_are_deterministic_and_find_the_planted_hotspots(data, name):
    events, grid, hot, at = data
    a = build(name, 365).fit(events, grid=grid, at=at).predict(grid, at)
    b = build(name, 365).fit(events, grid=grid, at=at).predict(grid, at)
    assert np.array_equal(a.values, b.values)
    hot_cells = set(grid.cell_of(hot[:, 0], hot[:, 1]).tolist())
    assert hot_cells <= set(a.top(20).tolist()), f"{name} missed a planted hotspot"


def test_naive_counts_are_the_cells_counts_and_split_by_age():
    x = np.array([100.0, 110, 120, 500, 900])
    y = np.array([100.0, 100, 100, 100, 100])
    t = T0 + np.array([-400, -20, -2, -3, -1000]) * DAY
    ev = Events.sorted(t, x, y)
    grid = Grid.from_events(x, y, 200)
    s = NaiveCounts(window_days=365).fit(ev).predict(grid, T0)
    assert list(s.values) == [2.0, 1.0, 0.0]  # 400- and 1000-day-old events are outside the window
    assert NaiveCounts(window_days=None).fit(ev).predict(grid, T0).values.tolist() == [3.0, 1.0, 1.0]
    labels = [t.label for t in s.explain(0)]
    assert "incidents in the cell in the last 7 days" in labels and "incidents in the cell 8-30 days ago" in labels


def test_prospective_weighs_recent_events_more_and_kde_does_not():
    x = np.array([100.0, 900.0])
    y = np.array([100.0, 100.0])
    t = T0 + np.array([-2, -40]) * DAY
    ev = Events.sorted(t, x, y)
    grid = Grid.from_events(x, y, 200)
    pro = ProspectiveHotspot().fit(ev).predict(grid, T0).values
    kde = RetrospectiveHotspot().fit(ev).predict(grid, T0).values
    assert pro[0] > pro[1]
    assert kde[0] == pytest.approx(kde[1])


def test_sepp_recovers_the_trigger_of_a_simulated_process():
    """Simulate a Hawkes process with known theta, omega, sigma and check EM finds them."""
    rng = np.random.default_rng(1)
    days, mu = 730.0, 6.0  # background events a day over a 10 km square
    theta, omega, sigma = 0.4, 0.5, 80.0
    n = rng.poisson(mu * days)
    t, x, y = list(rng.uniform(0, days, n)), list(rng.uniform(0, 10_000, n)), list(rng.uniform(0, 10_000, n))
    queue = list(range(n))
    while queue:
        i = queue.pop()
        for _ in range(rng.poisson(theta)):
            t.append(t[i] + rng.exponential(1 / omega))
            x.append(x[i] + rng.normal(0, sigma))
            y.append(y[i] + rng.normal(0, sigma))
            queue.append(len(t) - 1)
    t, x, y = np.array(t), np.array(x), np.array(y)
    keep = t < days
    ev = Events.sorted(T0 + (t[keep] * 86_400e6).astype("timedelta64[us]"), x[keep], y[keep])
    grid = Grid.from_events(ev.x, ev.y, 200)
    at = T0 + int(days) * DAY
    est = SelfExcitingPointProcess(window_days=days, background_bandwidth=400).fit(ev, grid=grid, at=at)
    assert est.theta_ == pytest.approx(theta, abs=0.08)
    assert 1 / est.omega_ == pytest.approx(1 / omega, rel=0.25)
    assert est.sigma_ == pytest.approx(sigma, rel=0.2)
    assert "triggers on average" in est.describe()


@pytest.mark.parametrize("negatives", [1.0, 0.1])
def test_feature_contributions_reproduce_the_boosted_trees_predictions(data, negatives):
    events, grid, _, at = data
    est = FeatureModel(origins=8, negatives=negatives).fit(events, grid=grid, at=at)
    X = est.model_input(est.features(grid, at, events.before(at)))
    base, contrib = tree_contributions(est.model_, X)
    assert np.allclose(base + contrib.sum(axis=1), est.model_.predict(X))
    assert np.allclose(est.predict(grid, at).values, est.model_.predict(X))


def test_feature_model_computes_all_origins_at_once_as_one_at_a_time(data):
    events, grid, _, at = data
    est = FeatureModel()
    # instants on an event (ages of exactly 7, 30, 90, 365 days fall on the limits), between events, very early
    on_event = events.t[len(events) // 2]
    instants = [at, at - 28 * DAY, on_event, on_event + 7 * DAY, on_event + 30 * DAY, on_event + 365 * DAY,
                events.t[0], events.t[0] + np.timedelta64(1, "us"), T0 + 400 * DAY]
    horizon = 28 * DAY
    X, y = est.features_at(grid, instants, events.before(at + 400 * DAY), horizon)
    for i, when in enumerate(instants):
        past = events.before(at + 400 * DAY)
        assert np.allclose(X[i], est.features_one(grid, when, past), rtol=1e-12, atol=1e-9)
        window = past.between(when, when + horizon)
        assert np.array_equal(y[i], grid.counts(window.x, window.y))


def test_feature_model_trains_on_a_fixed_calendar_and_reuses_the_training_until_the_next(data):
    from lawful.forecast.estimators import features

    events, grid, _, at = data
    features._FITS.clear()
    first = FeatureModel(origins=8).fit(events.before(at), grid=grid, at=at)
    period = int(first.refit_days) * DAY
    assert first.trained_at_ <= at < first.trained_at_ + period
    later = at + 3 * DAY if at + 3 * DAY < first.trained_at_ + period else at - 3 * DAY
    second = FeatureModel(origins=8).fit(events.before(later), grid=grid, at=later)
    assert second.trained_at_ == first.trained_at_ and second.model_ is first.model_  # reused, not retrained
    fresh = FeatureModel(origins=8, refit_days=0).fit(events, grid=grid, at=first.trained_at_)
    X = fresh.features(grid, later, events.before(later))
    assert np.allclose(fresh.model_.predict(fresh.model_input(X)), second.model_.predict(second.model_input(X)))
    other = Events(events.t.copy(), events.x.copy(), events.y.copy())  # other arrays: trained again
    assert FeatureModel(origins=8).fit(other.before(later), grid=grid, at=later).model_ is not first.model_


def test_feature_model_keeps_the_rows_with_incidents_and_a_weighted_sample_of_the_rest(data):
    events, grid, _, at = data
    full = FeatureModel(origins=8, negatives=1.0, refit_days=0).fit(events, grid=grid, at=at)
    thin = FeatureModel(origins=8, refit_days=0).fit(events, grid=grid, at=at)
    assert full.training_rows_ == 8 * grid.n_valid and thin.training_rows_ < full.training_rows_
    a, b = full.predict(grid, at).values, thin.predict(grid, at).values
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(RuntimeError, match="call fit"):
        NaiveCounts().predict(Grid.from_events(np.array([0.0]), np.array([0.0])), T0)


def test_the_forecasting_core_never_imports_the_database_or_the_web():
    assert imports_of_the_store("lawful.forecast", "lawful.forecast.estimators", "lawful.forecast.backtest",
                                "lawful.forecast.exposure", "lawful.forecast.feedback", "lawful.forecast.scoring") == []
