"""Square cells masked to the jurisdiction: only valid cells are ranked, scored and stored.

A cell's id (`Grid.cell_id`) names it independently of the data that shaped the grid: its side and its column and
row counted from the projected CRS's origin, e.g. `200m:3047:24135` is the square from (609400, 4827000) to
(609600, 4827200) metres. Grids snap their origin to multiples of the cell side, so the same square has the same id
in every forecast, export and incident query (`lawful incidents list --cell 200m:3047:24135`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

CELL_ID = re.compile(r"\s*(\d+(?:\.\d+)?)m:(-?\d{1,9}):(-?\d{1,9})\s*")


@dataclass(frozen=True)
class Grid:
    x0: float  # south-west corner, metres
    y0: float
    cell: float  # side, metres
    nx: int
    ny: int
    valid: np.ndarray  # sorted flat indices (iy * nx + ix) of the cells that count

    @classmethod
    def from_events(cls, x: np.ndarray, y: np.ndarray, cell: float = 200.0) -> "Grid":
        """The grid that covers the events, origin snapped to the cell size, masked to the cells they occupy.

        With all Toronto incidents since 2014 and 200 m cells this is the public protocol's grid
        (origin 609400, 4827000; 209 x 152 cells; 9,472 valid)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        if len(x) == 0:
            raise ValueError("a grid needs at least one event to cover")
        if cell <= 0:
            raise ValueError("cell size must be positive")
        x0 = np.floor(x.min() / cell) * cell
        y0 = np.floor(y.min() / cell) * cell
        nx = int((x.max() - x0) // cell) + 1
        ny = int((y.max() - y0) // cell) + 1
        grid = cls(float(x0), float(y0), float(cell), nx, ny, np.array([], dtype=np.int64))
        flat = grid.flat_index(x, y)
        return cls(grid.x0, grid.y0, grid.cell, nx, ny, np.unique(flat[flat >= 0]))

    @property
    def n_valid(self) -> int:
        return len(self.valid)

    def flat_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell index of each point; -1 outside the grid's extent."""
        ix = np.floor((np.asarray(x, float) - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((np.asarray(y, float) - self.y0) / self.cell).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position of each point's cell among the valid cells; -1 when outside the mask."""
        return self._position(self.flat_index(x, y))

    def _position(self, flat: np.ndarray) -> np.ndarray:
        """Position among the valid cells of each flat index; -1 for -1 and for masked cells."""
        pos = np.clip(np.searchsorted(self.valid, flat), 0, max(self.n_valid - 1, 0))
        hit = (flat >= 0) & (self.n_valid > 0) & (self.valid[pos] == flat)
        return np.where(hit, pos, -1)

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Events (or weights) per valid cell; points outside the mask are ignored."""
        pos = self.cell_of(x, y)
        keep = pos >= 0
        w = None if weights is None else np.asarray(weights, float)[keep]
        return np.bincount(pos[keep], weights=w, minlength=self.n_valid).astype(float)

    # Cached: every estimator asks for them on every forecast; the grid never changes.
    @cached_property
    def centres(self) -> np.ndarray:
        """(n_valid, 2) cell centres in metres."""
        iy, ix = np.divmod(self.valid, self.nx)
        return np.column_stack([self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell])

    @cached_property
    def neighbours(self) -> np.ndarray:
        """(n_valid, 8) positions of the 8 surrounding valid cells; -1 where the neighbour is masked out."""
        iy, ix = np.divmod(self.valid, self.nx)
        out = np.full((self.n_valid, 8), -1, dtype=np.int64)
        k = 0
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dx == dy == 0:
                    continue
                jx, jy = ix + dx, iy + dy
                ok = (jx >= 0) & (jx < self.nx) & (jy >= 0) & (jy < self.ny)
                out[:, k] = self._position(np.where(ok, jy * self.nx + jx, -1))
                k += 1
        return out

    def global_index(self, cell) -> tuple[np.ndarray, np.ndarray]:
        """Column and row of valid cell(s) counted from the CRS's origin (what cell ids are made of)."""
        iy, ix = np.divmod(self.valid[cell], self.nx)
        return ix + round(self.x0 / self.cell), iy + round(self.y0 / self.cell)

    def cell_id(self, cell: int) -> str:
        """A valid cell's id, e.g. '200m:3047:24135' (see the module's docstring)."""
        gx, gy = self.global_index(int(cell))
        return f"{self.cell:g}m:{int(gx)}:{int(gy)}"

    def centres_lonlat(self, crs: str, cells=None) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (EPSG:4326, degrees) of the centres of valid cells (all, or `cells`)."""
        xy = self.centres if cells is None else self.centres[np.asarray(cells, dtype=np.int64)]
        return to_lonlat(crs, xy[:, 0], xy[:, 1])

    def rings_lonlat(self, crs: str, cells, digits: int = 6) -> list[list[list[float]]]:
        """Each cell's outline as a closed lon/lat ring, counter-clockwise from the south-west corner (RFC 7946's
        exterior ring: five positions, the last equal to the first)."""
        cells = np.asarray(cells, dtype=np.int64)
        iy, ix = np.divmod(self.valid[cells], self.nx)
        x0, y0 = self.x0 + ix * self.cell, self.y0 + iy * self.cell
        x1, y1 = x0 + self.cell, y0 + self.cell
        corners = [np.round(np.column_stack(to_lonlat(crs, cx, cy)), digits)
                   for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        rings = []
        for i in range(len(cells)):
            ring = [[float(k[i][0]), float(k[i][1])] for k in corners]
            rings.append(ring + [ring[0]])
        return rings

    def label(self, cell: int) -> str:
        """A human label for a valid cell: its column/row and centre."""
        iy, ix = divmod(int(self.valid[cell]), self.nx)
        cx, cy = self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell
        return f"cell {ix},{iy} (centre {cx:.0f} E, {cy:.0f} N)"


def parse_cell_id(text: str) -> tuple[float, int, int]:
    """'200m:3047:24135' -> (200.0, 3047, 24135); ValueError with what a cell id looks like otherwise."""
    m = CELL_ID.fullmatch(text or "")
    if not m or not (math.isfinite(float(m.group(1))) and 10 <= float(m.group(1)) <= 100_000):
        raise ValueError(f"{text!r} is not a cell id: write the side in metres, then the column and row, e.g. "
                         "200m:3047:24135 (as forecasts print it)")
    return float(m.group(1)), int(m.group(2)), int(m.group(3))


def cell_box(text: str) -> tuple[float, float, float, float]:
    """A cell id's square in projected metres: (x0, y0, x1, y1), lower bounds inclusive, upper exclusive."""
    side, gx, gy = parse_cell_id(text)
    return gx * side, gy * side, (gx + 1) * side, (gy + 1) * side


@cache
def _transformer(src: str, dst: str):
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def to_lonlat(crs: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Projected metres in `crs` -> (lon, lat) in EPSG:4326 degrees (pyproj, always x/y = lon/lat order)."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def from_lonlat(crs: str, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4326 degrees -> projected metres in `crs`."""
    x, y = _transformer("EPSG:4326", crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)
