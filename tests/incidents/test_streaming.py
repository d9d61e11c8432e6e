"""A file loaded in chunks gives exactly what loading it whole gives: the same records, keys, quarantine, counts
and notes, with duplicate keys caught across chunks; and the CSV dialects agencies export (semicolons, tabs, other
quotes, a byte-order mark) load through the mapping."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import text

from lawful import db
from lawful.errors import ConfigError
from lawful.incidents.mapping import load_mapping
from lawful.incidents.service import ingest_file
from lawful.incidents.stream import ingest_path
from tests.conftest import GOOD_ROWS, HEADER, TEST_MAPPING, write_csv

HASH_MAPPING = TEST_MAPPING.replace('[key]\ncolumn = "id"', '[key]\nhash = ["offence", "when", "lat", "lon"]')


def _rows(n: int) -> list[str]:
    """n rows with every kind of trouble spread through them: repeated ids far apart, bad dates, out-of-bounds
    points, unknown categories, identical content, and times in the hour daylight saving skips and repeats."""
    out = []
    for i in range(n):
        rid = f"R{i % 37}" if i % 11 == 0 else f"R{i}"  # every 11th row reuses one of 37 ids: duplicates
        when = ["2019-03-10 02:30", "2019-11-03 01:30", "2019-02-30 10:00", f"2019-0{1 + i % 9}-1{i % 10} 1{i % 10}:00"][
            min(i % 13, 3)]
        lat, lon = ("0", "0") if i % 17 == 5 else (f"43.{6000 + i % 1000}", f"-79.{3000 + i % 997}")
        offence = "Jaywalking" if i % 19 == 7 else ("B&E" if i % 3 else "Robbery")
        if i % 23 == 4:  # the same content as row 4
            rid, when, lat, lon, offence = f"S{i}", "2019-05-05 05:00", "43.6500", "-79.3800", "Robbery"
        out.append(f"{rid},{offence},{when},{lat},{lon},Hood{i % 5},House,none,Person {i}")
    return out


def _snapshot(settings) -> tuple:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        inc = [tuple(r) for r in conn.execute(text(
            "SELECT source_key, category, occurred_at, lat, lon, x, y, area_code, attributes FROM incidents "
            "ORDER BY source_key"))]
        q = [tuple(r) for r in conn.execute(text(
            "SELECT row_number, field, value, reason FROM quarantine ORDER BY row_number, field, reason"))]
    engine.dispose()
    return inc, q


def _load(settings, path, mapping, streamed: bool, **kw):
    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as s:
            if streamed:
                return ingest_path(s, path=path, mapping=mapping, settings=settings, actor="t", **kw)
            return ingest_file(s, path=path, mapping=mapping, settings=settings, actor="t")
    finally:
        engine.dispose()


def _clear(settings) -> None:
    engine = db.make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM quarantine"))
        conn.execute(text("DELETE FROM incidents"))
    engine.dispose()


@pytest.mark.parametrize("spill", [False, True], ids=["keys in memory", "keys spilled to files"])
@pytest.mark.parametrize("mapping_text", [TEST_MAPPING, HASH_MAPPING], ids=["id-key", "hash-key"])
def test_a_file_streamed_in_small_chunks_loads_exactly_as_it_does_whole(store, tmp_path, mapping_text, spill,
                                                                       monkeypatch):
    spilled: list[int] = []
    if spill:  # the keys seen go to files after a few dozen, as a file of millions of rows would send them
        from lawful.incidents.validate import SeenKeys

        monkeypatch.setattr(SeenKeys, "SPILL_KEYS", 24)
        monkeypatch.setattr(SeenKeys, "MAX_RUN_KEYS", 96)
        compact = SeenKeys._compact
        monkeypatch.setattr(SeenKeys, "_compact", lambda self: (compact(self), spilled.append(self.spilled)))
    mapping_path = tmp_path / "m.toml"
    mapping_path.write_text(mapping_text)
    mapping = load_mapping(mapping_path)
    csv = write_csv(tmp_path / "export.csv", _rows(600))
    whole = _load(store, csv, mapping, streamed=False)
    expected = _snapshot(store)
    _clear(store)
    streamed = _load(store, csv, mapping, streamed=True, block_bytes=2048)  # ~35 rows a chunk: 17 chunks
    assert _snapshot(store) == expected
    for field in ("rows_read", "inserted", "quarantined_rows", "problem_counts", "dropped_columns", "notes"):
        assert getattr(streamed, field) == getattr(whole, field), field
    if mapping.key_column:  # row 2 is R0; its id comes back every 11 rows x 37, in later chunks
        dupes = [r for r in expected[1] if r[1] == "id" and "duplicate key 'R0'" in r[3]]
        assert dupes and all("first seen at row 2" in r[3] for r in dupes)
        assert max(r[0] for r in dupes) > 400
    assert any("skipped by daylight saving" in n for n in streamed.notes)
    assert (max(spilled) > 300) if spill else not spilled  # the spilled variant really held most keys in files


def test_no_room_for_a_loads_spilled_keys_names_the_temporary_folder_and_changes_nothing(store, tmp_path,
                                                                                       mapping_file, monkeypatch):
    """A full TMPDIR is the load's own error, saying which folder and what to do: not relabelled as the store's disk
    filling up (the store's disk may be fine), and the load rolled back whole."""
    import errno
    import os

    from lawful.errors import StoreError
    from lawful.incidents.validate import SeenKeys
    from tests.conftest import store_fingerprint

    _load(store, write_csv(tmp_path / "first.csv", GOOD_ROWS), load_mapping(mapping_file), streamed=True)
    before = store_fingerprint(store)
    monkeypatch.setattr(SeenKeys, "SPILL_KEYS", 24)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(StoreError) as caught:
        _load(store, write_csv(tmp_path / "big.csv", _rows(600)), load_mapping(mapping_file), streamed=True,
              block_bytes=2048)
    assert "TMPDIR" in caught.value.fix and "lawful-keys-" in caught.value.message
    assert "disk holding the store" not in str(caught.value)
    assert store_fingerprint(store) == before


def test_a_re_load_streamed_adds_nothing_and_the_trail_records_it(store, tmp_path, mapping_file):
    csv = write_csv(tmp_path / "export.csv", _rows(300))
    first = _load(store, csv, load_mapping(mapping_file), streamed=True, block_bytes=1024)
    again = _load(store, csv, load_mapping(mapping_file), streamed=True, block_bytes=4096)
    assert first.inserted > 0 and again.inserted == 0 and again.already_present == first.inserted
    engine = db.make_engine(store.database_url)
    with engine.connect() as conn:
        details = [json.loads(d) for (d,) in conn.execute(text(
            "SELECT details FROM audit_entries WHERE action = 'collection' ORDER BY seq"))]
    engine.dispose()
    assert [d["inserted"] for d in details] == [first.inserted, 0]


def test_parquet_row_groups_and_geojson_features_stream_too(store, tmp_path, mapping_file):
    rows = [r.split(",") for r in GOOD_ROWS * 1]
    frame = pd.DataFrame(rows, columns=HEADER.split(","))
    pq_path = tmp_path / "export.parquet"
    frame.to_parquet(pq_path, row_group_size=1)
    summary = _load(store, pq_path, load_mapping(mapping_file), streamed=True, chunk_rows=1)
    assert (summary.rows_read, summary.inserted) == (3, 3)
    gj_mapping = tmp_path / "gj.toml"
    gj_mapping.write_text(TEST_MAPPING.replace('name = "test-rms"', 'name = "gj"')
                          .replace('lat = "lat"', 'lat = "geometry_lat"').replace('lon = "lon"', 'lon = "geometry_lon"'))
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(r[4]), float(r[3])]},
                 "properties": {k: v for k, v in zip(HEADER.split(","), r) if k not in ("lat", "lon")}} for r in rows]
    features.insert(1, {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}})
    gj = tmp_path / "export.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    summary = _load(store, gj, load_mapping(gj_mapping), streamed=True, chunk_rows=2)
    assert (summary.rows_read, summary.inserted, summary.quarantined_rows) == (4, 3, 1)
    assert summary.problem_counts[0][:2] == ("geometry", "only Point features can be loaded as incidents")
    assert summary.problem_counts[0][3] == 2  # the second feature


@pytest.mark.parametrize("dialect, sep, quote, bom", [
    ('delimiter = ";"', ";", '"', False),
    ('delimiter = "tab"', "\t", '"', True),
    ("delimiter = \"|\"\nquote = \"'\"", "|", "'", True),
    ('delimiter = ";"\nquote = "none"', ";", None, False),
])
def test_csv_dialects_load_through_the_mapping(store, tmp_path, dialect, sep, quote, bom):
    mapping_path = tmp_path / "m.toml"
    mapping_path.write_text(TEST_MAPPING.replace('classification = "internal"', f'classification = "internal"\n{dialect}'))
    weapon = f"{quote}knife{sep} kitchen{quote}" if quote else "knife"
    lines = [HEADER.replace(",", sep)] + [r.replace(",", sep) for r in GOOD_ROWS]
    lines[2] = lines[2].replace(f"{sep}knife{sep}", f"{sep}{weapon}{sep}")
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "export.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    for streamed in (False, True):
        _clear(store)
        summary = _load(store, path, load_mapping(mapping_path), streamed=streamed, block_bytes=64)
        assert (summary.rows_read, summary.inserted, summary.quarantined_rows) == (3, 3, 0), summary.problem_counts
        engine = db.make_engine(store.database_url)
        with engine.connect() as conn:
            (attrs,) = conn.execute(text("SELECT attributes FROM incidents WHERE source_key = 'A2'")).one()
        engine.dispose()
        attrs = json.loads(attrs) if isinstance(attrs, str) else attrs
        assert attrs == {"weapon": f"knife{sep} kitchen" if quote else "knife"}


def test_a_semicolon_file_read_as_commas_says_which_dialect_to_set(store, tmp_path, mapping_file):
    path = tmp_path / "export.csv"
    path.write_text("\n".join([HEADER.replace(",", ";")] + [r.replace(",", ";") for r in GOOD_ROWS]) + "\n")
    with pytest.raises(Exception, match="lacks the column") as info:
        _load(store, path, load_mapping(mapping_file), streamed=True)
    assert "id;offence" in str(info.value)


@pytest.mark.parametrize("line, message", [
    ('delimiter = ";;"', "[source] delimiter"),
    ('delimiter = "a"', "[source] delimiter"),
    ('delimiter = "\\n"', "[source] delimiter"),
    ('delimiter = 1', "[source] delimiter"),
    ('delimiter = ";"\nquote = ";"', "[source] quote"),
    ('quote = "ab"', "[source] quote"),
])
def test_a_bad_dialect_in_the_mapping_is_refused_with_the_fix(tmp_path, line, message):
    path = tmp_path / "m.toml"
    path.write_text(TEST_MAPPING.replace('classification = "internal"', f'classification = "internal"\n{line}'))
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert message in str(info.value) and info.value.fix
