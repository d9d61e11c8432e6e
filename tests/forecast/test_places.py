"""Every place in a forecast's output is named the same way: its cell id, its centre in lon/lat and its
neighbourhood; `forecast run` and `forecast issue` write them as GeoJSON and CSV a GIS opens."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from lawful.forecast.grid import Grid, cell_box, from_lonlat, parse_cell_id
from lawful.forecast.places import CSV_COLUMNS, csv_text, geojson
from lawful.settings import TORONTO_BOUNDS
from tests.conftest import run_cli
from tests.forecast.test_cli_forecast import analyst, loaded  # noqa: F401  (fixtures)
from tests.web.conftest import people, server  # noqa: F401  (fixtures)
from tests.web.test_rules import birds  # noqa: F401  (fixture)

CRS = "EPSG:32617"
HOODS = {"Hood0", "Hood1", "Hood2", "Hood3"}


def signed_area(ring) -> float:
    """Shoelace: positive for a counter-clockwise ring (RFC 7946's exterior rings)."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:])) / 2


def inside(place: dict) -> bool:
    """The place's centre (lon/lat) lies in the square its cell id names."""
    x0, y0, x1, y1 = cell_box(place["cell_id"])
    x, y = from_lonlat(CRS, place["lon"], place["lat"])
    return x0 <= float(x) < x1 and y0 <= float(y) < y1


# ---- the pure parts ----------------------------------------------------------------------------------------------
def test_a_cell_id_names_the_same_square_whatever_data_shaped_the_grid():
    a = Grid.from_events(np.array([630_150.0, 631_010.0]), np.array([4_835_120.0, 4_836_000.0]), 200)
    b = Grid.from_events(np.array([600_000.0, 630_150.0]), np.array([4_800_000.0, 4_835_120.0]), 200)
    ca, cb = a.cell_of(np.array([630_150.0]), np.array([4_835_120.0]))[0], \
        b.cell_of(np.array([630_150.0]), np.array([4_835_120.0]))[0]
    assert a.cell_id(ca) == b.cell_id(cb) == "200m:3150:24175"
    assert cell_box("200m:3150:24175") == (630_000.0, 4_835_000.0, 630_200.0, 4_835_200.0)
    lon, lat = a.centres_lonlat(CRS, [ca])
    assert TORONTO_BOUNDS[0] < lon[0] < TORONTO_BOUNDS[2] and TORONTO_BOUNDS[1] < lat[0] < TORONTO_BOUNDS[3]
    [ring] = a.rings_lonlat(CRS, [ca])
    assert len(ring) == 5 and ring[0] == ring[-1] and signed_area(ring) > 0


@pytest.mark.parametrize("text", ["", "3150:24175", "200:3150:24175", "200m:31.5:2", "5m:1:1", "nanm:1:1",
                                  "200m:1:1;DROP", "200m:99999999999:1"])
def test_a_bad_cell_id_says_what_one_looks_like(text):
    with pytest.raises(ValueError, match="e.g. 200m:3047:24135"):
        parse_cell_id(text)


def test_geojson_and_csv_of_places_follow_rfc_7946_and_read_back():
    ring = [[-79.39, 43.65], [-79.38, 43.65], [-79.38, 43.66], [-79.39, 43.66], [-79.39, 43.65]]
    places = [{"rank": 1, "cell_id": "200m:1:2", "lon": -79.385, "lat": 43.655, "neighbourhood": "Downtown, East",
               "score": 2.5, "sentence": 'said "hi", 40%', "ring": ring, "label": "cell 0,0"}]
    fc = geojson(places, name="x", meta={"day": "2019-12-24"})
    assert "crs" not in fc and fc["bbox"] == [-79.39, 43.65, -79.38, 43.66]
    [f] = fc["features"]
    assert f["geometry"] == {"type": "Polygon", "coordinates": [ring]}
    assert f["properties"]["cell_id"] == "200m:1:2" and f["properties"]["day"] == "2019-12-24"
    assert "ring" not in f["properties"]
    rows = list(csv.DictReader(io.StringIO(csv_text(places))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["neighbourhood"] == "Downtown, East" and rows[0]["sentence"] == 'said "hi", 40%'
    assert rows[0]["wkt"].startswith("POLYGON((-79.39 43.65, ") and float(rows[0]["lat"]) == 43.655


# ---- through the CLI -----------------------------------------------------------------------------------------------
RUN = ["forecast", "run", "--as", "ana", "--date", "2019-12-01", "--model", "naive", "--since", "2018-01-01"]


def check_collection(fc: dict, n: int) -> None:
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == n and "crs" not in fc
    lo_lon, lo_lat, hi_lon, hi_lat = TORONTO_BOUNDS
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
        assert signed_area(ring) > 0  # counter-clockwise
        assert all(lo_lon <= lon <= hi_lon and lo_lat <= lat <= hi_lat for lon, lat in ring)  # lon first
        p = f["properties"]
        assert inside(p) and p["neighbourhood"] in KNOWN_HOODS


KNOWN_HOODS = HOODS | {"unknown"}


def test_forecast_run_names_every_place_and_writes_geojson_and_csv(loaded, analyst, capsys, tmp_path):  # noqa: F811
    code, out, err = run_cli([*RUN, "--top", "5", "--json"], capsys)
    assert code == 0, err
    places = json.loads(out)
    assert [p["rank"] for p in places] == [1, 2, 3, 4, 5]
    for p in places:
        assert set(p) >= {"cell_id", "lon", "lat", "neighbourhood", "score", "terms"} and "ring" not in p
        assert inside(p) and p["neighbourhood"] in HOODS  # the hotspots lie in named neighbourhoods
    gj, cv = tmp_path / "places.geojson", tmp_path / "places.csv"
    code, out, err = run_cli([*RUN, "--top", "5", "--geojson", str(gj), "--csv", str(cv)], capsys)
    assert code == 0, err
    assert f"wrote {gj} (5 places" in err and f"wrote {cv} (5 places" in err
    assert places[0]["cell_id"] in out and places[0]["neighbourhood"] in out  # the text names them too
    fc = json.loads(gj.read_text())
    check_collection(fc, 5)
    assert [f["properties"]["cell_id"] for f in fc["features"]] == [p["cell_id"] for p in places]
    rows = list(csv.DictReader(io.StringIO(cv.read_text())))
    assert [r["cell_id"] for r in rows] == [p["cell_id"] for p in places]
    assert all(r["wkt"].startswith("POLYGON((") for r in rows)


def test_an_issued_forecast_names_its_places_in_json_and_files(loaded, capsys, tmp_path):  # noqa: F811
    from tests.governance.conftest import Gov

    gov = Gov(loaded)
    try:
        ref = gov.active(tier="medium")
    finally:
        gov.engine.dispose()
    gj, cv = tmp_path / "out.geojson", tmp_path / "out.csv"
    code, out, err = run_cli(["forecast", "issue", ref, "--purpose", "patrol planning", "--date", "2019-12-10",
                              "--as", "analyst", "--json", "--geojson", str(gj), "--csv", str(cv)], capsys)
    assert code == 0, err
    o = json.loads(out)
    assert o["places"] == len(o["cells"]) > 0
    for c in o["cells"]:
        assert inside(c) and c["neighbourhood"] in KNOWN_HOODS and c["sentence"] and "ring" not in c
    assert [e.get("cell_id") for e in o["explanation"]] == [c["cell_id"] for c in o["cells"]]
    check_collection(json.loads(gj.read_text()), o["places"])
    assert len(cv.read_text().splitlines()) == 1 + o["places"]
    code, out, err = run_cli(["review", "show", str(o["id"]), "--as", "supervisor", "--json"], capsys)
    assert code == 0, err  # the stored output keeps them for whoever decides on it
    assert o["cells"][0]["cell_id"] in out and o["cells"][0]["neighbourhood"] in out


def test_an_alert_names_its_place_the_same_way(birds, server):  # noqa: F811
    """An early-warning alert is about one event: its place is that event's cell id, lon/lat and neighbourhood."""
    from tests.web.test_forecast import finished
    from tests.web.test_rules import BIRDS, OBSERVATIONS, bundle, events, headers

    gov, ref = birds
    analyst = headers(gov.settings, "analyst")
    r = server.post("/api/v1/rules/runs", headers=analyst, json={"bundle": bundle(BIRDS), "events": events(),
                                                                 "issue": ref, "purpose": "patrol planning"})
    assert r.status_code == 202, r.text
    result = finished(server, analyst, r.json())
    first, alert = result["issued"]["ids"][0], result["alerts"][0]
    seen = {o["id"]: o for o in map(json.loads, OBSERVATIONS.read_text().splitlines())}[alert["event"]]
    r = server.get(f"/api/v1/review/outputs/{first}", headers=headers(gov.settings, "supervisor"))
    assert r.status_code == 200, r.text
    out = r.json()
    place = out["payload"]["place"]
    assert out["explanation"][0]["cell_id"] == place["cell_id"] and place["cell_id"].startswith("200m:")
    assert abs(place["lon"] - seen["lon"]) < 1e-5 and abs(place["lat"] - seen["lat"]) < 1e-5
    assert place["neighbourhood"] == "unknown"  # observations sent as a file carry no area
    assert f"Place: unknown, cell {place['cell_id']} at" in out["explanation"][0]["sentence"]
