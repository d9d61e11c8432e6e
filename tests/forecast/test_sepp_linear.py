"""The SEPP's pairs are found slice by slice in time, so years of history cost linearly: the same pairs as all."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from lawful.forecast.estimators.sepp import _trigger_pairs


def test_sliced_trigger_pairs_are_exactly_the_close_pairs_within_the_time_limit():
    rng = np.random.default_rng(1)
    n = 3000
    age = rng.uniform(0, 1000, n)
    xy = np.round(rng.uniform(0, 3000, (n, 2)) / 100) * 100  # many repeated coordinates, as in police data
    i, j, d = _trigger_pairs(age, xy, 500.0, 90.0)
    dt = age[i] - age[j]
    keep = (dt > 0) & (dt <= 90)
    got = set(zip(i[keep].tolist(), j[keep].tolist()))
    tree = cKDTree(xy)
    everything = tree.sparse_distance_matrix(tree, 500.0, output_type="ndarray")
    a, b = everything["i"], everything["j"]
    dt_all = age[a] - age[b]
    want = set(zip(a[(dt_all > 0) & (dt_all <= 90)].tolist(), b[(dt_all > 0) & (dt_all <= 90)].tolist()))
    assert got == want and len(want) > 1000
    # ... and far fewer pairs were formed than the all-pairs search over the whole span would form
    assert len(i) < len(a) / 3
