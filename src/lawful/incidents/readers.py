"""Read CSV, Parquet and GeoJSON into one shape: a table of text columns plus the file's own row numbers.

Whole-file problems (unreadable, empty, wrong encoding, missing columns) raise InputError before anything else
happens. Rows that cannot even be split into fields come back as problems, for the validator to quarantine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lawful.errors import InputError
from lawful.incidents.mapping import Mapping
from lawful.limits import data_limit, parse_json, read_bytes

GEOJSON_LON, GEOJSON_LAT = "geometry_lon", "geometry_lat"  # the columns a GeoJSON Point's coordinates become
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet", ".geojson": "geojson", ".json": "geojson"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row, located so a person can find and fix it."""

    row: int
    field: str
    value: str
    reason: str


@dataclass
class RawTable:
    frame: pd.DataFrame  # only the columns the mapping reads, all text, "" where empty
    row_numbers: np.ndarray  # the row's number in the file: its line (CSV), record (Parquet) or feature (GeoJSON)
    columns: list[str]  # every column the file had
    sha256: str
    problems: list[Problem] = field(default_factory=list)


def file_format(path: Path, mapping: Mapping) -> str:
    if mapping.format:
        return mapping.format
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path.name}: cannot tell the format from the extension {path.suffix!r}.",
                         'name it .csv, .parquet or .geojson, or set format = "csv" in the mapping [source].')
    return fmt


def read_table(path: Path, mapping: Mapping, label: str | None = None) -> RawTable:
    """Read a whole file for a mapping; raises InputError for anything that makes the file unusable as a whole."""
    label = label or path.name
    if not os.path.lexists(path):
        raise InputError(f"{label} does not exist.", "check the path.")
    data = read_bytes(path, what="an incident file (CSV, Parquet or GeoJSON)", limit=data_limit(),
                      fix="give a CSV, Parquet or GeoJSON file; LAWFUL_MAX_INPUT_MB raises the size limit")
    if not data.strip():
        raise InputError(f"{label} is empty ({len(data)} bytes).", "export the data again; the file has no header and no rows.")
    fmt = file_format(path, mapping)
    sha = hashlib.sha256(data).hexdigest()
    if fmt == "parquet":
        frame, numbers, columns, problems = _read_parquet(data, label)
    else:
        text = _decode(data, mapping.encoding, label)
        reader = _read_csv if fmt == "csv" else _read_geojson
        frame, numbers, columns, problems = reader(text, label)
    if len(frame) == 0 and not problems:
        raise InputError(f"{label} has a header but no rows.", "export the data again with its rows.")
    missing = [c for c in mapping.required_columns() if c not in columns]
    if missing:
        raise InputError(
            f"{label} lacks the column(s) {', '.join(map(repr, missing))} named in the mapping {mapping.path}. "
            f"It has: {', '.join(map(repr, columns))}.",
            "correct the column names in the mapping, or export the file with those columns.",
        )
    frame = frame[mapping.required_columns()]
    if mapping.strip_whitespace:
        frame = frame.apply(lambda col: col.str.strip())
    return RawTable(frame=frame, row_numbers=numbers, columns=columns, sha256=sha, problems=problems)


def _decode(data: bytes, encoding: str, label: str) -> str:
    if b"\x00" in data[:65536] and not encoding.lower().startswith("utf-16"):
        raise InputError(f"{label} looks like a binary file (it contains NUL bytes), not text.",
                         "give a CSV or GeoJSON export, or a .parquet file for Parquet.")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{label} is not valid {encoding}: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded.",
            'save the file as UTF-8, or declare its real encoding in the mapping [source], e.g. encoding = "cp1252".',
        ) from None
    except LookupError:
        raise InputError(f"The mapping's encoding {encoding!r} is unknown.", 'use e.g. "utf-8" or "cp1252".') from None
    return text.removeprefix("\ufeff")


def _read_csv(text: str, label: str):
    first_newline = text.find("\n")
    header_line = text if first_newline < 0 else text[:first_newline]
    columns = next(csv.reader([header_line.rstrip("\r")]))
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{label}: the header repeats column(s) {dupes}.", "give every column a distinct name.")
    body = text[first_newline + 1:] if first_newline >= 0 else ""
    data = body.encode("utf-8")
    if not data.strip():
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in columns}), np.array([], dtype=np.int64), columns, []

    invalid: list[tuple[int, str, int]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=columns, use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns}, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except pa.ArrowException as exc:
        raise InputError(f"{label} cannot be read as CSV: {str(exc)[:300]}.",
                         "check the file is a comma-separated export.") from None
    frame = table.to_pandas()
    # pyarrow numbers rows from 1 within the body; add 1 for the header so numbers match the file's lines.
    bad_lines = {n + 1 for n, _, _ in invalid}
    numbers = _record_lines(data, bad_lines)
    if len(numbers) != len(frame):  # quoted line breaks inside values: fall back to record order
        numbers = np.arange(2, len(frame) + 2, dtype=np.int64)
    truncated_tail = not data.endswith(b"\n")
    problems = []
    for n, _row_text, actual in invalid:  # the row's text is not kept: it may hold what the mapping drops
        reason = f"has {actual} fields, the header has {len(columns)}"
        if truncated_tail and n + 1 == max(bad_lines):
            reason += "; the file ends mid-row, so it looks truncated"
        problems.append(Problem(n + 1, "(row)", f"{actual} fields", reason))
    return frame, numbers, columns, problems


def _record_lines(body: bytes, bad_lines: set[int]) -> np.ndarray:
    """Line numbers (header = line 1) of the body's non-blank lines that parsed, in order."""
    buf = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    lengths = stops - starts
    has_cr = (lengths > 0) & (buf[np.maximum(stops - 1, 0)] == 13)
    nonblank = (lengths - has_cr) > 0
    lines = np.flatnonzero(nonblank) + 2
    if bad_lines:
        lines = lines[~np.isin(lines, np.fromiter(bad_lines, dtype=np.int64))]
    return lines.astype(np.int64)


def _read_parquet(data: bytes, label: str):
    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if expanded > 4 * data_limit():
            raise InputError(f"{label} expands to {expanded / (1 << 20):,.0f} MB of data, above four times the limit "
                             f"of {data_limit() / (1 << 20):,.0f} MB for an incident file.",
                             "split the file, or raise LAWFUL_MAX_INPUT_MB if it is genuine.")
        table = pq.read_table(pa.BufferReader(data))
        frame = table.to_pandas()
        frame = pd.DataFrame({c: _as_text(frame[c]) for c in frame.columns})
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise InputError(f"{label} is not a readable Parquet file ({str(exc)[:300]}); it may be truncated or corrupt.",
                         "export it again, or give the data as CSV.") from None
    return frame, np.arange(1, len(frame) + 1, dtype=np.int64), list(table.column_names), []


def _as_text(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        out = col.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z" if col.dt.tz is not None else "%Y-%m-%dT%H:%M:%S.%f")
    else:
        out = col.astype("str")
    return out.where(col.notna(), "").astype("str")


def _read_geojson(text: str, label: str):
    doc = parse_json(text, label)  # syntax (line, column), depth, NaN and huge whole numbers, one located line
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InputError(f"{label} is not a GeoJSON FeatureCollection.",
                         'give {"type": "FeatureCollection", "features": [...]} with one Point feature per incident.')
    records, numbers, problems = [], [], []
    for i, feat in enumerate(doc["features"], start=1):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        props = feat.get("properties") if isinstance(feat, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2):
            kind = geom.get("type") if isinstance(geom, dict) else "missing"
            problems.append(Problem(i, "geometry", str(kind), "only Point features can be loaded as incidents"))
            continue
        row = {k: ("" if v is None else str(v)) for k, v in (props or {}).items()}
        row[GEOJSON_LON], row[GEOJSON_LAT] = str(coords[0]), str(coords[1])
        records.append(row)
        numbers.append(i)
    columns = list(dict.fromkeys(k for r in records for k in r)) or [GEOJSON_LON, GEOJSON_LAT]
    frame = pd.DataFrame.from_records(records, columns=columns).fillna("").astype("str")
    return frame, np.asarray(numbers, dtype=np.int64), columns, problems
