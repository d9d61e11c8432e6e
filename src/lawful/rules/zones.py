"""Named polygons from GeoJSON (lon/lat), projected to the jurisdiction's metres, with a vectorised point test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.path import Path as Polygon
from pyproj import Transformer

from lawful.errors import InputError
from lawful.limits import ZONE_BYTES, load_json, parse_json


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
    data = load_json(path, what="a zone file (GeoJSON)", limit=ZONE_BYTES,
                     fix="give a GeoJSON FeatureCollection of named polygons")
    return parse_zones(data, path, crs)


def zones_from_text(text: str, label: str, crs: str) -> list[Zone]:
    """A zone file's text as a client sent it (the server never opens a path a client names); `label` names it in
    errors."""
    if len(text.encode("utf-8", "surrogatepass")) > ZONE_BYTES:
        raise InputError(f"{label} is above the limit for a zone file (GeoJSON)", "split the file")
    return parse_zones(parse_json(text, label), label, crs)


def parse_zones(data, path: Path | str, crs: str) -> list[Zone]:
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection",
                         'give {"type": "FeatureCollection", "features": [...]} of named polygons')
    to_m = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    zones = []
    for i, feat in enumerate(data["features"]):
        props = feat.get("properties") if isinstance(feat, dict) else None
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        props, geom = props if isinstance(props, dict) else {}, geom if isinstance(geom, dict) else {}
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
            try:
                pts = np.asarray(coords, dtype=float)
            except (TypeError, ValueError):
                pts = np.empty((0, 0))
            if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] < 2 or not np.isfinite(pts).all() \
                    or (np.abs(pts[:, 0]) > 180).any() or (np.abs(pts[:, 1]) > 90).any():
                raise InputError(f"{path}: feature {i + 1} ({props['name']}) has a ring that is not a list of at "
                                 "least three [lon, lat] points in degrees",
                                 "write each ring as [[lon, lat], [lon, lat], [lon, lat], ...]")
            x, y = to_m.transform(pts[:, 0], pts[:, 1])
            return Polygon(np.column_stack([x, y]))

        if not isinstance(polys, list) or not polys or not all(isinstance(p, list) and p for p in polys):
            raise InputError(f"{path}: feature {i + 1} ({props['name']}) has no coordinates",
                             "give the polygon's rings as coordinates")
        rings = tuple((ring(p[0]), tuple(ring(h) for h in p[1:])) for p in polys)
        zones.append(Zone(str(props["name"]), str(props["type"]), rings))
    if not zones:
        raise InputError(f"{path}: no zones in the file", "add Polygon features with name and type properties")
    return zones
