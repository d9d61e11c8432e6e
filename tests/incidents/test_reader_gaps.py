"""Inputs agencies really send, read as the docs promise: a stray quote inside an unquoted field (12" blade) neither
splits good rows nor makes the read quadratic; times written with their offset on both sides of a daylight-saving
change load; a NUL byte anywhere refuses the file; a UTF-8 byte-order mark is dropped whatever the encoding;
Parquet whole-number ids keep their digits when the column has a null."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from lawful import db
from lawful.incidents.mapping import load_mapping
from lawful.incidents.models import Incident
from lawful.incidents.readers import TableReader, _cut
from tests.conftest import GOOD_ROWS, HEADER, TEST_MAPPING, run_cli, store_fingerprint


def _read(path, mapping, block):
    rows, problems = [], []
    for chunk in TableReader(path, mapping, block_bytes=block):
        rows += chunk.frame.to_dict("records")
        problems += chunk.problems
    return rows, problems


def test_a_stray_quote_neither_splits_rows_nor_changes_the_streamed_read(tmp_path):
    (tmp_path / "m.toml").write_text(TEST_MAPPING)
    mapping = load_mapping(tmp_path / "m.toml")
    lines = [HEADER, 'A1,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,12" blade,']
    lines += [f'A{i},Robbery,2019-03-01 22:15,43.65,-79.38,D,House,"two\nlines",' for i in range(2, 40)]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n")
    whole = _read(path, mapping, 1 << 22)
    assert len(whole[0]) == 39 and not whole[1] and whole[0][0]["weapon"] == '12" blade'
    for block in (256, 512, 1000):
        assert _read(path, mapping, block) == whole


def test_finding_a_cut_after_a_stray_quote_is_linear():
    def seconds(rows: int) -> float:
        buf = b'1,12" blade\n' + b"2,x\n" * rows
        t0 = time.perf_counter()
        assert _cut(buf, b'"') == len(buf)
        return time.perf_counter() - t0

    seconds(1000)
    small, large = min(seconds(5_000) for _ in range(5)), min(seconds(20_000) for _ in range(5))
    assert large < 12 * small  # 4x the rows: linear is ~4x; the old count-back was ~16x


def _ingest(tmp_path, capsys, data: bytes, mapping: str = TEST_MAPPING, name: str = "x.csv"):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "m.toml").write_text(mapping)
    return run_cli(["ingest", str(tmp_path / name), "--mapping", str(tmp_path / "m.toml")], capsys)


def _stored(settings) -> dict[str, object]:
    engine = db.open_store(settings)
    with db.transaction(engine, settings=settings) as s:
        out = {i.source_key: i.occurred_at for i in s.scalars(select(Incident))}
    engine.dispose()
    return out


ISO_MAPPING = TEST_MAPPING.replace('occurred_at = { column = "when", format = "%Y-%m-%d %H:%M" }',
                                   'occurred_at = "when"')


def test_times_with_their_offsets_on_both_sides_of_a_dst_change_load(store, tmp_path, capsys):
    assert ISO_MAPPING != TEST_MAPPING
    rows = ["A1,Robbery,2019-03-01T22:15:00-05:00,43.6532,-79.3832,Downtown,House,none,",
            "A2,Robbery,2019-06-01T22:15:00-04:00,43.6532,-79.3832,Downtown,House,none,",
            "A3,Robbery,2019-06-01T22:15:00,43.6532,-79.3832,Downtown,House,none,",  # no offset: Toronto's wall clock
            "A4,Robbery,2019-06-01T22:15:00Z,43.6532,-79.3832,Downtown,House,none,"]
    code, out, err = _ingest(tmp_path, capsys, ("\n".join([HEADER, *rows]) + "\n").encode(), ISO_MAPPING)
    assert code == 0, err
    utc = {k: v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v for k, v in _stored(store).items()}
    assert utc == {"A1": datetime(2019, 3, 2, 3, 15, tzinfo=timezone.utc),
                   "A2": datetime(2019, 6, 2, 2, 15, tzinfo=timezone.utc),
                   "A3": datetime(2019, 6, 2, 2, 15, tzinfo=timezone.utc),
                   "A4": datetime(2019, 6, 1, 22, 15, tzinfo=timezone.utc)}


def test_a_nul_byte_past_the_first_block_refuses_the_file(store, tmp_path, capsys):
    rows = [f"B{i},Robbery,2019-03-01 22:15,43.6532,-79.3832,Downtown,House,none," for i in range(1200)]
    rows.append("Z1,Robbery,2019-03-01 22:15,43.6532,-79.3832,Down\x00town,House,none,")
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    assert data.index(b"\x00") > 65536
    before = store_fingerprint(store)
    code, out, err = _ingest(tmp_path, capsys, data)
    assert code == 2 and "NUL byte on line 1202" in err, err
    assert store_fingerprint(store) == before


def test_a_byte_order_mark_is_dropped_whatever_the_encoding(store, tmp_path, capsys):
    data = b"\xef\xbb\xbf" + ("\n".join([HEADER, *GOOD_ROWS]) + "\n").encode()
    code, out, err = _ingest(tmp_path, capsys, data, TEST_MAPPING.replace("[source]\n", '[source]\nencoding = "cp1252"\n'))
    assert code == 0, err
    assert len(_stored(store)) == len(GOOD_ROWS)


def test_parquet_whole_number_ids_keep_their_digits_with_a_null(store, tmp_path, capsys):
    ids = [9007199254740993, 9007199254740992, 17, None]
    n = len(ids)
    table = pa.table({"id": pa.array(ids, pa.int64()), "offence": ["Robbery"] * n, "when": ["2019-03-01 22:15"] * n,
                      "lat": [43.65] * n, "lon": [-79.38] * n, "hood": ["D"] * n, "premises": ["House"] * n,
                      "weapon": ["none"] * n})
    pq.write_table(table, tmp_path / "x.parquet")
    (tmp_path / "m.toml").write_text(TEST_MAPPING)
    run_cli(["ingest", str(tmp_path / "x.parquet"), "--mapping", str(tmp_path / "m.toml")], capsys)
    assert sorted(_stored(store)) == ["17", "9007199254740992", "9007199254740993"]


def test_rows_after_a_quoted_line_break_are_named_by_their_own_line(tmp_path):
    """Records that span lines (a quoted value with a line break) used to shift every later row's number to its
    record number: the quarantine sent people to the wrong line."""
    (tmp_path / "m.toml").write_text(TEST_MAPPING)
    mapping = load_mapping(tmp_path / "m.toml")
    lines = [HEADER,
             'A1,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,"two\nlines\nhere",',  # lines 2-4
             "",                                                                      # line 5, blank
             "A2,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,knife,",                # line 6
             "A3,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,knife,x,y",             # line 7: too many fields
             'A4,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,"a\r\nb",',             # lines 8-9
             "A5,Robbery,2019-03-01 22:15,43.65,-79.38,D,House,knife,"]                # line 10
    path = tmp_path / "x.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    for block in (1 << 22, 200):
        numbers, problems = [], []
        for chunk in TableReader(path, mapping, block_bytes=block):
            numbers += [int(n) for n in chunk.row_numbers]
            problems += chunk.problems
        assert numbers == [2, 6, 8, 10], block
        assert [(p.row, p.value) for p in problems] == [(7, "10 fields")], block
