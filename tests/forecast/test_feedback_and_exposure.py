from __future__ import annotations

import numpy as np
import pytest

from lawful.forecast import Grid
from lawful.forecast.exposure import audit, cell_areas
from lawful.forecast.feedback import attention, simulate, tv_distance
from tests.forecast.test_estimators import DAY, T0, synthetic


def test_exposure_names_the_area_watched_beyond_its_crime():
    areas = np.array(["North", "North", "South", "South"], dtype=object)
    flagged = [np.array([0, 1]), np.array([0, 2])]  # 3 of 4 flagged cell-days in North
    incidents = np.array([0, 2, 2, 3, -1])  # 1 in North, 3 in South; one outside the mask is ignored
    a = audit("m", 0.5, flagged, incidents, areas)
    t = a.table.set_index("area")
    assert t.loc["North", "flagged_share"] == pytest.approx(0.75)
    assert t.loc["North", "incident_share"] == pytest.approx(0.25)
    assert t.loc["North", "disparity"] == pytest.approx(3.0)
    assert a.most_over(1)["area"].tolist() == ["North"]
    assert a.most_under(1)["area"].tolist() == ["South"]
    assert a.misplaced == pytest.approx(0.5)


def test_cell_area_is_the_majority_of_the_cells_incidents():
    x = np.array([10.0, 20, 30, 250])
    y = np.array([10.0, 20, 30, 10])
    grid = Grid.from_events(x, y, 200)
    assert list(cell_areas(grid, x, y, np.array(["A", "B", "B", None], dtype=object))) == ["B", "unknown"]


def test_attention_spends_the_budget_and_never_drops_below_exploration():
    p = attention(np.array([10.0, 5, 0, 0, 0, 0, 0, 0, 0, 0]), k=1, exploration=0.05)
    assert p.min() == 0.05 and p[0] > p[1]
    assert tv_distance(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == 0.0


def test_feedback_without_correction_runs_away_for_a_short_memory_model():
    events, _ = synthetic(seed=5, n_hot=5)
    grid = Grid.from_events(events.x, events.y, 200)
    start = T0 + 700 * DAY
    year = events.between(start - 365 * DAY, start)
    rate = grid.counts(year.x, year.y) / 365.0
    r = simulate("prospective", events, grid, start, rate, rounds=12, coverage=0.05, exploration=0.02, seed=1)
    assert len(r.drift) == 13
    assert r.drift[-1] > r.drift[0] + 0.05  # learning only from where it looked pulls the model away from the truth
    again = simulate("prospective", events, grid, start, rate, rounds=12, coverage=0.05, exploration=0.02, seed=1)
    assert again.drift == r.drift  # seeded: the same figures every run
