"""The console's drawing helpers, without a browser: neighbourhood outlines from the cells' neighbourhoods."""

from __future__ import annotations

import re

from lawful.web.console import present


def _surface(hoods: dict[tuple[int, int], str], size: float = 200.0) -> dict:
    cells = [{"score": 1.0, "neighbourhood": h, "x0": i * size, "y0": j * size, "x1": (i + 1) * size,
              "y1": (j + 1) * size} for (i, j), h in hoods.items()]
    return {"surface": cells, "places": [], "recent": []}


def _segments(d: str) -> list[tuple[float, float, str, float]]:
    return [(float(x), float(y), axis, float(end)) for x, y, axis, end in
            re.findall(r"M([\d.]+) ([\d.]+)([VH])([\d.]+)", d)]


def test_outlines_follow_the_border_between_neighbourhoods_and_the_edge_of_the_area():
    # 3 x 2 cells: the left column is Annex, the rest Bay Street
    hoods = {(i, j): "Annex" if i == 0 else "Bay Street" for i in range(3) for j in range(2)}
    m = present.surface_map(_surface(hoods))
    segs = _segments(m["outlines"])
    # one vertical line between the columns 0 and 1, two cells long (merged into one segment); nothing else
    [(x, y, axis, end)] = segs
    assert axis == "V"
    cell_px = abs(end - y) / 2
    everything = present.surface_map(_surface(hoods))
    assert abs(x - (everything["width"] - 3 * cell_px) / 2 - cell_px) < 1.0  # one cell in from the left edge
    assert m["outlines"] == present.surface_map(_surface(dict(reversed(list(hoods.items())))))["outlines"]


def test_no_outlines_when_no_cell_names_a_neighbourhood():
    hoods = {(i, j): "unknown" for i in range(3) for j in range(3)}
    assert present.surface_map(_surface(hoods))["outlines"] == ""
    one = present.surface_map(_surface({(0, 0): "Annex", (1, 0): "Annex", (5, 5): "Bay Street"}))
    assert one["outlines"] == ""  # cells of different neighbourhoods that do not touch: no border between them
