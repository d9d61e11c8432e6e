"""Named polygons from GeoJSON (lon/lat), projected to the jurisdiction's metres, with a vectorised point test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.path import Path as Polygon
from pyproj import Transformer

from lawful.errors import InputError


@dataclass(frozen=True)
class Zone:
    name: str
    kind: str
    rings: tuple[tuple[Polygon, tuple[Polygon, ...]], ...]  # (exterior, holes) per polygon part

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        pts = np.column_stack([x, y])
        inside = np.zeros(len(pts), dtype=bool)
        for outer, holes in self.rings:
            part = outer.contains_points(pts)
            for h in holes:
                part &= ~h.contains_points(pts)
            inside |= part
        return inside


def load_zones(path: Path, crs: str) -> list[Zone]:
    """Every Polygon or MultiPolygon feature; properties 'name' and 'type' are required."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such zone file", "give a GeoJSON FeatureCollection of named polygons") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                         "fix the GeoJSON at that place") from None
    to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    zones = []
    for i, feat in enumerate(data.get("features", [])):
        props, geom = feat.get("properties") or {}, feat.get("geometry") or {}
        if not props.get("name") or not props.get("type"):
            raise InputError(f"{path}: feature {i + 1} has no 'name' or 'type' property",
                             "give every zone properties {\"name\": ..., \"type\": ...}")
        polys = geom.get("coordinates", [])
        if geom.get("type") == "Polygon":
            polys = [polys]
        elif geom.get("type") != "MultiPolygon":
            raise InputError(f"{path}: feature {i + 1} ({props['name']}) is a {geom.get('type')}, not a polygon",
                             "zones must be Polygon or MultiPolygon features")

        def ring(coords):
            lon, lat = np.asarray(coords, dtype=float)[:, 0], np.asarray(coords, dtype=float)[:, 1]
            x, y = to_m.transform(lon, lat)
            return Polygon(np.column_stack([x, y]))

        rings = tuple((ring(p[0]), tuple(ring(h) for h in p[1:])) for p in polys)
        zones.append(Zone(str(props["name"]), str(props["type"]), rings))
    if not zones:
        raise InputError(f"{path}: no zones in the file", "add Polygon features with name and type properties")
    return zones
