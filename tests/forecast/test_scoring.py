"""Scoring against hand-computed cases: ties share the places left, a flat surface scores as random."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.forecast.scoring import cells_for, expected_hits, score


def test_protocol_cell_counts_for_9472_valid_cells():
    assert [cells_for(9472, c) for c in (0.01, 0.02, 0.05, 0.10, 0.20)] == [94, 189, 473, 947, 1894]


def test_strict_ranking_counts_hits_in_the_top_cells():
    risk = np.array([5, 4, 3, 2, 1, 0, 0, 0, 0, 0], float)
    counts = np.array([2, 0, 1, 0, 0, 0, 0, 0, 1, 0], float)
    (s,) = score(risk, counts, coverages=(0.2,))  # 2 cells: the two riskiest hold 2 of 4 events
    assert s.cells == 2 and s.hits == 2 and s.hit_rate == 0.5
    assert s.pai == pytest.approx(0.5 / 0.2)
    assert s.pei == pytest.approx(2 / 3)  # the best 2 cells would have caught 3


def test_ties_at_the_threshold_share_the_places_left():
    # top 3 places: one cell above, four tied cells share 2 places -> half of their 2 events expected
    risk = np.array([9, 5, 5, 5, 5, 1, 1, 1, 1, 1], float)
    counts = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 3], float)
    assert expected_hits(risk, counts, 3) == pytest.approx(1 + 2 * 2 / 4)


def test_flat_surface_scores_as_random_whatever_the_cell_order():
    counts = np.zeros(100)
    counts[:7] = 1  # every event in the first cells: a stable sort would "hit" them all
    for s in score(np.zeros(100), counts):
        assert s.pai == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=5, max_size=60), st.integers(1, 59),
       st.randoms(use_true_random=False))
def test_expected_hits_ignore_cell_order_and_lie_between_worst_and_best_tie_break(cells, k, rnd):
    risk = np.array([r for r, _ in cells], float)
    counts = np.array([c for _, c in cells], float)
    k = min(k, len(cells))
    got = expected_hits(risk, counts, k)
    perm = np.array(rnd.sample(range(len(cells)), len(cells)))
    assert expected_hits(risk[perm], counts[perm], k) == pytest.approx(got)
    threshold = np.sort(risk)[::-1][k - 1]
    above, tied = risk > threshold, risk == threshold
    left = k - int(above.sum())
    worst = counts[above].sum() + np.sort(counts[tied])[:left].sum()
    best = counts[above].sum() + np.sort(counts[tied])[::-1][:left].sum()
    assert worst - 1e-9 <= got <= best + 1e-9
