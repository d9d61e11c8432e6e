"""A forecast's places as files a GIS opens: GeoJSON (RFC 7946) and CSV with WKT. Pure: place records in, text out.

Every place record (what `forecast run`, `forecast issue`, the map and the exports carry) names its place the same
way: `cell_id` (e.g. `200m:3047:24135`, see lawful.forecast.grid), `lon`/`lat` (its centre, EPSG:4326 degrees),
`neighbourhood` (the most common area of the stored incidents in it; `unknown` where none has one), and `ring` (its
outline: a closed lon/lat ring, counter-clockwise). RFC 7946 fixes the coordinate system to WGS 84 longitude,
latitude (OGC CRS84), so the GeoJSON carries no `crs` member; QGIS, ArcGIS and GDAL read it as EPSG:4326.
"""

from __future__ import annotations

import io

from lawful.csvsafe import Writer

PLACE_FIELDS = ("cell_id", "lon", "lat", "neighbourhood")
CSV_COLUMNS = ("rank", "cell_id", "neighbourhood", "lon", "lat", "score", "sentence", "cell", "wkt")


def feature(place: dict, meta: dict | None = None) -> dict:
    """One place as a GeoJSON Feature: its cell's polygon, its fields as properties (the ring left out)."""
    props = {k: v for k, v in place.items() if k not in ("ring", "terms", "x0", "y0", "x1", "y1")}
    if place.get("terms") is not None:  # the terms of the score, flattened so a GIS can show them
        props["terms"] = "; ".join(f"{t['label']} {t['share']:.0%}" for t in place["terms"])
    return {"type": "Feature", "id": place.get("rank"),
            "geometry": {"type": "Polygon", "coordinates": [place["ring"]]},
            "properties": {**props, **(meta or {})}}


def geojson(places: list[dict], *, name: str, meta: dict | None = None) -> dict:
    """The places as a FeatureCollection (RFC 7946: lon/lat polygons with closed rings; a bbox over them)."""
    out = {"type": "FeatureCollection", "name": name, "features": [feature(p, meta) for p in places]}
    points = [pt for p in places for pt in p["ring"]]
    if points:
        out["bbox"] = [min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points),
                       max(p[1] for p in points)]
    return out


def wkt(ring: list[list[float]]) -> str:
    return "POLYGON((" + ", ".join(f"{p[0]} {p[1]}" for p in ring) + "))"


def csv_text(places: list[dict]) -> str:
    """The places as CSV: rank, cell id, neighbourhood, centre lon/lat, score, sentence, the cell's label and its
    outline as WKT (QGIS: Layer > Add Delimited Text Layer, geometry from `wkt`, EPSG:4326; or points from lon/lat)."""
    out = io.StringIO()
    w = Writer(out)  # area names come from uploaded data: never a formula in a spreadsheet
    w.writerow(CSV_COLUMNS)
    for p in places:
        w.writerow([p.get("rank"), p.get("cell_id"), p.get("neighbourhood"), p.get("lon"), p.get("lat"),
                    p.get("score"), p.get("sentence", ""), p.get("label") or p.get("cell", ""), wkt(p["ring"])])
    return out.getvalue()


def line(place: dict) -> str:
    """How a place is named in text: 'Downtown (77), cell 200m:3047:24135 at 43.65320, -79.38320'."""
    return (f"{place.get('neighbourhood') or 'unknown'}, cell {place.get('cell_id')} at "
            f"{place.get('lat'):.5f}, {place.get('lon'):.5f}")
