from __future__ import annotations

import numpy as np

from lawful.forecast import Grid


def test_grid_snaps_origin_to_the_cell_size_and_masks_to_occupied_cells():
    g = Grid.from_events(np.array([1050.0, 1450.0, 1460.0]), np.array([2010.0, 2390.0, 2395.0]), cell=200)
    assert (g.x0, g.y0, g.nx, g.ny) == (1000.0, 2000.0, 3, 2)
    assert g.n_valid == 2  # (0,0) and (2,1); the other four cells saw nothing
    assert list(g.cell_of(np.array([1050.0, 1455.0, 1250.0, 5000.0]), np.array([2050.0, 2399.0, 2050.0, 0.0]))) == [0, 1, -1, -1]
    assert list(g.counts(np.array([1050.0, 1455.0, 1456.0]), np.array([2050.0, 2399.0, 2399.0]))) == [1.0, 2.0]
    assert np.allclose(g.centres, [[1100.0, 2100.0], [1500.0, 2300.0]])


def test_neighbours_only_name_valid_cells():
    x = np.array([50.0, 250.0, 450.0, 250.0])
    y = np.array([50.0, 50.0, 50.0, 250.0])
    g = Grid.from_events(x, y, cell=200)  # cells (0,0) (1,0) (2,0) (1,1)
    nb = g.neighbours
    centre = g.cell_of(np.array([250.0]), np.array([50.0]))[0]
    assert sorted(n for n in nb[centre] if n >= 0) == sorted(int(i) for i in g.cell_of(x[[0, 2, 3]], y[[0, 2, 3]]))
