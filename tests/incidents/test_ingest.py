"""Loading files through a mapping: what a crime analyst sees when their export is good, bad or loaded twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from pyproj import Transformer
from sqlalchemy import select

from lawful import db
from lawful.incidents.mapping import load_mapping
from lawful.incidents.models import Incident, Load
from lawful.incidents.service import fetch_events, get_all_quarantined, get_stats, ingest_file
from tests.conftest import GOOD_ROWS, HEADER, run_cli, store_fingerprint, write_csv


def _incidents(settings):
    engine = db.open_store(settings)
    with db.transaction(engine) as s:
        rows = list(s.scalars(select(Incident).order_by(Incident.source_key)))
    engine.dispose()
    return rows


def test_good_file_loads_every_field(store, tmp_path, mapping_file, capsys):
    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)
    code, out, err = run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    assert code == 0, err
    assert "3 rows read, 3 new, 0 already stored, 0 quarantined" in out
    assert "dropped (not declared in the mapping): victim_name" in out
    rows = _incidents(store)
    assert [r.source_key for r in rows] == ["A1", "A2", "A3"]
    a1, a2, a3 = rows
    # 22:15 local in Toronto (EST, UTC-5) is 03:15 UTC the next day, and comes back tz-aware.
    assert a1.occurred_at == datetime(2019, 3, 2, 3, 15, tzinfo=timezone.utc)
    assert a3.category == "Break and Enter"  # renamed from B&E by the mapping
    assert (a1.area_code, a1.premises_type, a1.classification) == ("Downtown", "House", "internal")
    assert a2.attributes == {"weapon": "knife"}  # declared extra kept; victim_name dropped
    assert "Jane Roe" not in json.dumps([r.attributes for r in rows])
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32617", always_xy=True).transform(-79.3832, 43.6532)
    assert a1.x == pytest.approx(x, abs=0.01) and a1.y == pytest.approx(y, abs=0.01)
    assert a1.retention_until - a1.occurred_at == timedelta(days=3650)


def test_second_load_adds_nothing(store, tmp_path, mapping_file, capsys):
    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)
    run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    code, out, _ = run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    assert code == 0
    assert "0 new, 3 already stored" in out
    assert len(_incidents(store)) == 3


BAD_ROWS = {
    "2019-02-30 10:00": ("A4,Robbery,2019-02-30 10:00,43.65,-79.38,X,House,none,", "when", "not a real date"),
    "out of bounds": ("A5,Robbery,2019-03-01 10:00,0,0,X,House,none,", "lon/lat", "outside the jurisdiction"),
    "unknown category": ("A6,Jaywalking,2019-03-01 10:00,43.65,-79.38,X,House,none,", "offence", "unknown category"),
    "duplicate key": ("A1,Robbery,2019-03-01 10:00,43.65,-79.38,X,House,none,", "id", "duplicate key 'A1'; first seen at row 2"),
    "future": ("A7,Robbery,2099-03-01 10:00,43.65,-79.38,X,House,none,", "occurred_at", "in the future"),
    "not a number": ("A8,Robbery,2019-03-01 10:00,north,-79.38,X,House,none,", "lat", "not a number"),
    "too few fields": ("A9,Robbery,2019-03-01 10:00", "(row)", "has 3 fields, the header has 9"),
}


def test_bad_rows_are_quarantined_and_good_rows_kept(store, tmp_path, mapping_file, capsys):
    rows = GOOD_ROWS + [bad for bad, _, _ in BAD_ROWS.values()]
    csv = write_csv(tmp_path / "export.csv", rows)
    code, out, _ = run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    assert code == 0
    assert f"{len(rows)} rows read, 3 new, 0 already stored, {len(BAD_ROWS)} quarantined" in out
    assert "lawful ingest quarantine --load 1" in out
    engine = db.open_store(store)
    with db.transaction(engine) as s:
        quarantined = get_all_quarantined(s, load_id=1)
    engine.dispose()
    found = {(q.row_number, q.field): q.reason for q in quarantined}
    for line_no, (_, field, reason) in enumerate(BAD_ROWS.values(), start=len(GOOD_ROWS) + 2):
        assert any(r == line_no and f == field and reason in why for (r, f), why in found.items()), (line_no, field, found)
    code, out, _ = run_cli(["ingest", "quarantine"], capsys)
    assert code == 0 and "Jaywalking" in out and "export.csv" in out


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_strict_refuses_first_bad_row_and_changes_nothing(store, tmp_path, mapping_file, capsys, case):
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    before = store_fingerprint(store)
    bad, field, reason = BAD_ROWS[case]
    # A1 is already stored (skipped, not an error); the bad row is line 3 of the new file.
    csv = write_csv(tmp_path / "new.csv", ["A1,Robbery,2019-05-01 10:00,43.65,-79.38,X,House,none,", bad])
    code, out, err = run_cli(["ingest", str(csv), "--mapping", str(mapping_file), "--strict"], capsys)
    assert code == 2
    assert err.count("\n") == 1, err  # one line, no traceback
    assert "new.csv row 3" in err and reason in err and "Nothing was written" in err
    assert store_fingerprint(store) == before


def _write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


WHOLE_FILE_ERRORS = {
    "empty": (b"", "is empty"),
    "header only": ((HEADER + "\n").encode(), "has a header but no rows"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks like a binary file"),
    "wrong encoding": ((HEADER + "\n" + GOOD_ROWS[0] + "\nA2,Robbery,2019-03-01 10:00,43.65,-79.38,Montr\xe9al,House,none,\n")
                       .encode("latin-1"), "is not valid utf-8: byte 0xe9 on line 3"),
    "missing column": (("id,offence,lat,lon,hood,premises,weapon\nA1,Robbery,43.6,-79.4,X,House,none\n").encode(),
                       "lacks the column(s) 'when'"),
}


@pytest.mark.parametrize("case", list(WHOLE_FILE_ERRORS))
@pytest.mark.parametrize("strict", [False, True])
def test_unusable_file_gives_one_line_error_and_changes_nothing(store, tmp_path, mapping_file, capsys, case, strict):
    before = store_fingerprint(store)
    data, message = WHOLE_FILE_ERRORS[case]
    path = _write_bytes(tmp_path / "export.csv", data)
    code, _, err = run_cli(["ingest", str(path), "--mapping", str(mapping_file)] + (["--strict"] if strict else []), capsys)
    assert code == 2
    assert message in err and "Fix:" in err and "Traceback" not in err
    assert err.count("\n") == 1, err
    assert store_fingerprint(store) == before


def test_truncated_file_names_the_cut_row(store, tmp_path, mapping_file, capsys):
    data = (HEADER + "\n" + "\n".join(GOOD_ROWS) + "\n").encode()
    path = _write_bytes(tmp_path / "export.csv", data + b"A4,Robbery,2019-0")
    code, out, _ = run_cli(["ingest", str(path), "--mapping", str(mapping_file)], capsys)
    assert code == 0 and "3 new" in out and "1 quarantined" in out
    assert "looks truncated (first at row 5)" in out


def test_parquet_and_geojson_give_the_same_records_as_csv(store, tmp_path, mapping_file, capsys):
    frame = pd.read_csv(write_csv(tmp_path / "export.csv", GOOD_ROWS), dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "export.parquet")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(r.lon), float(r.lat)]},
                 "properties": {k: v for k, v in r._asdict().items() if k not in ("lat", "lon")}}
                for r in frame.itertuples(index=False)]
    (tmp_path / "export.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    geo_mapping = tmp_path / "geo.toml"
    geo_mapping.write_text(mapping_file.read_text().replace('name = "test-rms"', 'name = "test-geo"')
                           .replace('lat = "lat"', 'lat = "geometry_lat"').replace('lon = "lon"', 'lon = "geometry_lon"'))
    pq_mapping = tmp_path / "pq.toml"
    pq_mapping.write_text(mapping_file.read_text().replace('name = "test-rms"', 'name = "test-pq"'))
    for path, m in (("export.csv", mapping_file), ("export.parquet", pq_mapping), ("export.geojson", geo_mapping)):
        code, out, err = run_cli(["ingest", str(tmp_path / path), "--mapping", str(m)], capsys)
        assert code == 0 and "3 new" in out, err + out
    by_source: dict[str, list] = {}
    for r in _incidents(store):
        by_source.setdefault(r.source, []).append((r.source_key, r.category, r.occurred_at, round(r.x, 3), round(r.y, 3),
                                                   r.area_code, r.attributes))
    assert by_source["test-rms"] == by_source["test-pq"] == by_source["test-geo"]


def test_an_interrupt_during_the_servers_write_is_rolled_back(store, tmp_path, mapping_file, capsys, monkeypatch):
    """The load's job interrupted after rows were written inside its transaction (as when the server is stopped):
    the client is told, exit 2, and the store is exactly as before."""
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    before = store_fingerprint(store)
    from lawful.incidents.store import Stage

    real = Stage.finish

    def write_then_interrupt(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Stage, "finish", write_then_interrupt)
    csv = write_csv(tmp_path / "more.csv", ["C1,Robbery,2019-05-01 10:00,43.65,-79.38,X,House,none,"])
    code, _, err = run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    assert code == 2 and "interrupted" in err and "rolled back" in err and "nothing of it was committed" in err
    assert store_fingerprint(store) == before


def test_daylight_saving_gap_is_shifted_and_reported(store, tmp_path, mapping_file, capsys):
    # 2019-03-10 02:30 does not exist in Toronto (clocks jump from 02:00 to 03:00).
    csv = write_csv(tmp_path / "export.csv", ["D1,Robbery,2019-03-10 02:30,43.65,-79.38,X,House,none,"])
    code, out, _ = run_cli(["ingest", str(csv), "--mapping", str(mapping_file)], capsys)
    assert code == 0 and "skipped by daylight saving" in out
    assert _incidents(store)[0].occurred_at == datetime(2019, 3, 10, 7, 0, tzinfo=timezone.utc)  # 03:00 EDT


def test_stats_counts_by_local_year(store, tmp_path, mapping_file, capsys):
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    code, out, _ = run_cli(["incidents", "stats", "--json"], capsys)
    assert code == 0
    stats = json.loads(out)
    # A3 happened at 23:30 on 31 December local time: 2019, although it is already 2020 in UTC.
    assert stats["by_year_category"] == {"2019": {"Break and Enter": 2, "Robbery": 1}}
    assert stats["total"] == 3 and stats["sources"] == {"test-rms": 3}
    assert stats["bounds_lonlat"][0] == pytest.approx(-79.5)
    code, out, _ = run_cli(["incidents", "stats"], capsys)
    assert code == 0 and "Break and Enter" in out and "2019" in out


def test_fetch_events_returns_one_category_in_a_window_as_arrays(store, tmp_path, mapping_file):
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    engine = db.open_store(store)
    with db.transaction(engine) as s:
        ingest_file(s, path=tmp_path / "export.csv", mapping=load_mapping(mapping_file), settings=store)
    with db.transaction(engine) as s:
        ev = fetch_events(s, category="Break and Enter", start=datetime(2019, 1, 1, tzinfo=timezone.utc),
                          end=datetime(2020, 1, 1, tzinfo=timezone.utc))
        later = fetch_events(s, category="Break and Enter", start=datetime(2019, 6, 1, tzinfo=timezone.utc),
                             end=datetime(2021, 1, 1, tzinfo=timezone.utc))
    engine.dispose()
    assert len(ev) == 1  # A3 is 2020-01-01 04:30 UTC: outside a UTC 2019 window
    assert ev.t.dtype == "datetime64[us]" and ev.t[0] == pd.Timestamp("2019-03-02 03:15").to_datetime64()
    assert len(later) == 1 and later.area[0] == "Etobicoke"


def test_load_record_accounts_for_every_row(store, tmp_path, mapping_file, capsys):
    rows = GOOD_ROWS + [BAD_ROWS["unknown category"][0]]
    write_csv(tmp_path / "export.csv", rows)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    engine = db.open_store(store)
    with db.transaction(engine) as s:
        loads = list(s.scalars(select(Load).order_by(Load.id)))
        stats = get_stats(s, settings=store)
    engine.dispose()
    assert [(l.rows_read, l.inserted, l.already_present, l.quarantined) for l in loads] == [(4, 3, 0, 1), (4, 0, 3, 1)]
    assert loads[0].dropped_columns == ["victim_name"] and stats.total == 3


def test_truncated_parquet_and_geojson_are_refused_whole(store, tmp_path, mapping_file, capsys):
    frame = pd.read_csv(write_csv(tmp_path / "export.csv", GOOD_ROWS), dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    cut_parquet = _write_bytes(tmp_path / "cut.parquet", data[: len(data) // 2])
    cut_geojson = _write_bytes(tmp_path / "cut.geojson", b'{"type": "FeatureCollection", "features": [\n  {"type": "Feat')
    before = store_fingerprint(store)
    code, _, err = run_cli(["ingest", str(cut_parquet), "--mapping", str(mapping_file)], capsys)
    assert code == 2 and "cut.parquet is not a readable Parquet file" in err and "truncated" in err
    code, _, err = run_cli(["ingest", str(cut_geojson), "--mapping", str(mapping_file)], capsys)
    assert code == 2 and "cut.geojson is not valid JSON" in err and "line 2" in err
    assert store_fingerprint(store) == before


def test_geojson_non_point_features_are_quarantined(store, tmp_path, mapping_file, capsys):
    props = {"id": "G1", "offence": "Robbery", "when": "2019-03-01 10:00", "hood": "X", "premises": "House", "weapon": "none"}
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-79.38, 43.65]}, "properties": props},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {**props, "id": "G2"}},
    ]
    path = tmp_path / "export.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    mapping = tmp_path / "geo.toml"
    mapping.write_text(mapping_file.read_text().replace('lat = "lat"', 'lat = "geometry_lat"').replace('lon = "lon"', 'lon = "geometry_lon"'))
    code, out, _ = run_cli(["ingest", str(path), "--mapping", str(mapping)], capsys)
    assert code == 0 and "2 rows read, 1 new" in out and "1 quarantined" in out
    assert "only Point features can be loaded as incidents (first at row 2)" in out
