"""Read CSV, Parquet and GeoJSON into one shape: a table of text columns plus the file's own row numbers.

Whole-file problems (unreadable, empty, wrong encoding, missing columns) raise InputError before anything else
happens. Rows that cannot even be split into fields come back as problems, for the validator to quarantine.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


CHUNK_ROWS = 100_000  # rows per chunk of a streamed read: ~ tens of MB of text columns, whatever the file's size
_BLOCK = 4 << 20  # bytes read from a CSV file at a time


def read_table(path: Path, mapping: Mapping, label: str | None = None) -> RawTable:
    """Read a whole file for a mapping; raises InputError for anything that makes the file unusable as a whole.
    (The chunks of `TableReader`, put together: what a caller that wants the whole table in memory uses.)"""
    reader = TableReader(path, mapping, label)
    chunks = list(reader)
    frame = pd.concat([c.frame for c in chunks], ignore_index=True) if len(chunks) > 1 else chunks[0].frame
    numbers = np.concatenate([c.row_numbers for c in chunks]) if len(chunks) > 1 else chunks[0].row_numbers
    problems = [p for c in chunks for p in c.problems]
    return RawTable(frame=frame, row_numbers=numbers, columns=reader.columns, sha256=reader.sha256, problems=problems)


class TableReader:
    """A file read for a mapping in chunks of at most `chunk_rows` rows (CSV: blocks cut at line ends outside quoted
    fields; Parquet: record batches; GeoJSON: runs of features), so memory does not grow with the file. Iterate it
    once; each chunk is a RawTable (the mapping's columns, the file's own row numbers, the chunk's problems).
    `columns` is known once the header is read (before the first chunk); `sha256` (of the file's bytes, hashed as
    they are read) once the iteration ends. Whole-file problems raise InputError: up front (unreadable, empty,
    missing columns), or at the end (header but no rows)."""

    def __init__(self, path: Path, mapping: Mapping, label: str | None = None, chunk_rows: int = CHUNK_ROWS,
                 block_bytes: int = _BLOCK):
        self.path, self.mapping, self.label = Path(path), mapping, label or Path(path).name
        self.chunk_rows, self.block = chunk_rows, block_bytes
        self.columns: list[str] = []
        self.sha256 = ""
        self.estimated_rows = 0  # rows the whole file holds, estimated once the first chunk is read
        self.size = _checked_size(self.path, self.label)
        if self.size < 65536:
            with open(self.path, "rb") as f:
                head = f.read(65536)
            if not head.strip():
                raise self._empty(head)
        self.format = file_format(self.path, mapping)

    def __iter__(self):
        rows = problems = 0
        if self.format == "parquet":
            chunks = self._parquet()
        elif self.format == "csv":
            chunks = self._csv()
        else:
            chunks = self._geojson()
        for chunk in chunks:
            rows += len(chunk.frame)
            problems += len(chunk.problems)
            if len(chunk.frame) or chunk.problems:
                yield chunk
        if rows == 0 and not problems:
            raise InputError(f"{self.label} has a header but no rows.", "export the data again with its rows.")

    # -- shared -------------------------------------------------------------------------------------------------
    def _set_columns(self, columns: list[str]) -> None:
        missing = [c for c in self.mapping.required_columns() if c not in columns]
        if missing:
            raise InputError(
                f"{self.label} lacks the column(s) {', '.join(map(repr, missing))} named in the mapping "
                f"{self.mapping.path}. It has: {', '.join(map(repr, columns))}.",
                "correct the column names in the mapping, or export the file with those columns.",
            )
        self.columns = columns

    def _chunk(self, frame: pd.DataFrame, numbers: np.ndarray, problems: list[Problem]) -> RawTable:
        frame = frame[self.mapping.required_columns()]
        if self.mapping.strip_whitespace:
            frame = frame.apply(lambda col: col.str.strip())
        return RawTable(frame=frame, row_numbers=numbers, columns=self.columns, sha256="", problems=problems)

    def _empty(self, data: bytes) -> InputError:
        return InputError(f"{self.label} is empty ({len(data)} bytes).",
                          "export the data again; the file has no header and no rows.")

    # -- CSV ----------------------------------------------------------------------------------------------------
    def _csv(self):
        m = self.mapping
        hasher = hashlib.sha256()
        whole = m.encoding.lower().replace("_", "-").startswith(("utf-16", "utf16", "utf-32", "utf32"))
        with open(self.path, "rb") as f:
            first = f.read(self.size + 1 if whole else self.block)
            hasher.update(first)
            if not first.strip():
                raise self._empty(first)
            if b"\x00" in first[:65536] and not whole:
                raise InputError(f"{self.label} looks like a binary file (it contains NUL bytes), not text.",
                                 "give a CSV or GeoJSON export, or a .parquet file for Parquet.")
            if not whole and first.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, whatever the mapping says
                first = first[3:]
            if whole:  # a two-byte encoding: cut nothing, decode the file as one text
                text = _decode(first, m.encoding, self.label)
                first, m_enc = text.encode("utf-8"), "utf-8"
            else:
                m_enc = m.encoding
            if not whole:  # a bad byte in the first block is named before anything else (as for a whole file)
                end = first.rfind(b"\n") + 1
                _decode_block(first[:end] if end and len(first) >= self.block else first, m_enc, self.label, 0)
            header_end = first.find(b"\n")
            header_bytes = first if header_end < 0 else first[:header_end]
            header = _decode_block(header_bytes, m_enc, self.label, 0).removeprefix("\ufeff").rstrip("\r")
            columns = next(csv.reader([header], delimiter=m.delimiter, quotechar=m.quote or '"',
                                      quoting=csv.QUOTE_MINIMAL if m.quote else csv.QUOTE_NONE), [])
            dupes = sorted({c for c in columns if columns.count(c) > 1})
            if dupes:
                raise InputError(f"{self.label}: the header repeats column(s) {dupes}.",
                                 "give every column a distinct name.")
            self._set_columns(columns)
            buf = first[header_end + 1:] if header_end >= 0 else b""
            lines_before, records_before, eof = 1, 0, whole
            parsed_bytes = header_end + 1
            quote = (m.quote or "").encode()
            while True:
                if not eof and len(buf) < self.block:
                    more = f.read(self.block)
                    hasher.update(more)
                    eof = not more
                    buf += more
                    if not eof:
                        continue
                cut = len(buf) if eof else _cut(buf, quote, m.delimiter.encode())
                if cut <= 0 and not eof:
                    more = f.read(self.block)  # one record longer than a block (a quoted field with many lines)
                    hasher.update(more)
                    eof = not more
                    buf += more
                    continue
                body, buf = buf[:cut], buf[cut:]
                nul = body.find(b"\x00")
                if nul >= 0 and not whole:  # anywhere in the file, not only in its first block
                    line = lines_before + body.count(b"\n", 0, nul) + 1
                    raise InputError(f"{self.label} holds a NUL byte on line {line}, so it is not a text file (or it "
                                     "is damaged). Nothing was written.",
                                     "export the data again as CSV text, or give a .parquet file for Parquet.")
                if body.strip():
                    text = body if m_enc.lower().replace("_", "-") in ("utf-8", "utf8") else None
                    if text is None:
                        body = _decode_block(body, m_enc, self.label, lines_before).encode("utf-8")
                    else:
                        _decode_block(body, "utf-8", self.label, lines_before)  # located error for a bad byte
                    parsed_bytes += len(body)
                    if not self.estimated_rows:  # from the first block: the file's size over bytes per row
                        self.estimated_rows = max(1, int(self.size * self._last_rows_of(body) / max(parsed_bytes, 1)))
                    yield from self._csv_body(body, lines_before, records_before, last=eof and not buf)
                    records_before += self._last_rows
                lines_before += body.count(b"\n")
                if eof and not buf:
                    break
        self.sha256 = hasher.hexdigest()

    _last_rows = 0

    @staticmethod
    def _last_rows_of(body: bytes) -> int:
        return max(body.count(b"\n"), 1)

    def _csv_body(self, data: bytes, lines_before: int, records_before: int, last: bool):
        m, columns = self.mapping, self.columns
        invalid: list[tuple[int, int]] = []

        def on_invalid(row) -> str:
            invalid.append((row.number, row.actual_columns))
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=columns, use_threads=False, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(delimiter=m.delimiter, quote_char=m.quote or False,
                                                 invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in columns}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False, include_columns=m.required_columns()),
            )
        except pa.ArrowException as exc:
            raise InputError(f"{self.label} cannot be read as CSV: {str(exc)[:300]}.",
                             f"check the file is a {_dialect_name(m)} export, or set delimiter and quote in "
                             "the mapping's [source].") from None
        frame = table.to_pandas()
        self._last_rows = len(frame)
        # pyarrow numbers the block's non-blank records from 1; each is named by the file line it starts on (the
        # block's first line is line lines_before + 1), quoted line breaks inside values counted as lines
        starts = _record_lines(data) + lines_before
        if len(starts) != len(frame) + len(invalid) and m.quote:  # quoted line breaks: records span lines
            starts = _record_lines(data, m.quote.encode(), m.delimiter.encode()) + lines_before
        bad = [n - 1 for n, _ in invalid]
        if len(starts) == len(frame) + len(invalid):
            numbers = np.delete(starts, bad)
            bad_lines = [int(starts[i]) for i in bad]
        else:  # not expected: the records could not be told apart as the parser saw them; number them in order
            numbers = np.arange(records_before + 2, records_before + len(frame) + 2, dtype=np.int64)
            bad_lines = [n + lines_before for n, _ in invalid]
        truncated_tail = last and not data.endswith(b"\n")
        problems = []
        # the row's text is not kept: it may hold what the mapping drops
        for line, (_, actual) in zip(bad_lines, invalid):
            reason = f"has {actual} fields, the header has {len(columns)}"
            if truncated_tail and line == max(bad_lines):
                reason += "; the file ends mid-row, so it looks truncated"
            problems.append(Problem(line, "(row)", f"{actual} fields", reason))
        yield self._chunk(frame, numbers, problems)

    # -- Parquet ------------------------------------------------------------------------------------------------
    def _parquet(self):
        label = self.label
        try:
            pf = pq.ParquetFile(self.path)
            meta = pf.metadata
            expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            if expanded > 4 * data_limit():
                raise InputError(f"{label} expands to {expanded / (1 << 20):,.0f} MB of data, above four times the "
                                 f"limit of {data_limit() / (1 << 20):,.0f} MB for an incident file.",
                                 "split the file, or raise LAWFUL_MAX_INPUT_MB if it is genuine.")
            self._set_columns(list(pf.schema_arrow.names))
            self.estimated_rows = meta.num_rows
            done = 0
            for batch in pf.iter_batches(batch_size=self.chunk_rows, columns=self.mapping.required_columns()):
                # whole numbers become text in Arrow, exactly: through pandas, a column with a null became float64
                # (id 17 -> "17.0", and ids above 2^53 rounded into each other's duplicates)
                batch = pa.RecordBatch.from_arrays(
                    [pc.cast(c, pa.string()) if pa.types.is_integer(c.type) else c for c in batch.columns],
                    names=batch.schema.names)
                frame = batch.to_pandas()
                frame = pd.DataFrame({c: _as_text(frame[c]) for c in frame.columns})
                numbers = np.arange(done + 1, done + len(frame) + 1, dtype=np.int64)
                done += len(frame)
                yield self._chunk(frame, numbers, [])
        except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
            raise InputError(f"{label} is not a readable Parquet file ({str(exc)[:300]}); it may be truncated or "
                             "corrupt.", "export it again, or give the data as CSV.") from None
        self.sha256 = _sha256_of(self.path)

    # -- GeoJSON ------------------------------------------------------------------------------------------------
    def _geojson(self):
        # One JSON document: parsed whole (within the size and depth limits), then turned into rows a chunk of
        # features at a time, so only the parsed document, not a table of it, is in memory at once.
        data = read_bytes(self.path, what="an incident file (CSV, Parquet or GeoJSON)", limit=data_limit(),
                          fix="give a CSV, Parquet or GeoJSON file; LAWFUL_MAX_INPUT_MB raises the size limit")
        if not data.strip():
            raise self._empty(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        text = _decode(data, self.mapping.encoding, self.label)
        del data
        doc = parse_json(text, self.label)  # syntax (line, column), depth, NaN and huge whole numbers, one line
        del text
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
            raise InputError(f"{self.label} is not a GeoJSON FeatureCollection.",
                             'give {"type": "FeatureCollection", "features": [...]} with one Point feature per incident.')
        features = doc["features"]
        columns: dict[str, None] = {}
        for feat in features:  # every property any feature has: the file's columns
            props = feat.get("properties") if isinstance(feat, dict) else None
            if isinstance(props, dict):
                columns.update(dict.fromkeys(props))
        columns.update({GEOJSON_LON: None, GEOJSON_LAT: None})
        self._set_columns(list(columns))
        self.estimated_rows = len(features)
        for start in range(0, len(features), self.chunk_rows):
            frame, numbers, problems = _geojson_rows(features[start:start + self.chunk_rows], start, self.columns)
            yield self._chunk(frame, numbers, problems)


def _checked_size(path: Path, label: str) -> int:
    """The file's size, once it is known to be a regular file within the limit (read_bytes' checks, unread)."""
    if not os.path.lexists(path):
        raise InputError(f"{label} does not exist.", "check the path.")
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        read_bytes(path, what="an incident file (CSV, Parquet or GeoJSON)", limit=data_limit())  # raises, named
    if st.st_size > data_limit():
        read_bytes(path, what="an incident file (CSV, Parquet or GeoJSON)", limit=data_limit(),
                   fix="give a CSV, Parquet or GeoJSON file; LAWFUL_MAX_INPUT_MB raises the size limit")
    return st.st_size


def _cut(buf: bytes, quote: bytes, delimiter: bytes = b",") -> int:
    """Where to end a block: after its last line break that is outside a quoted field (0: none yet). The buffer
    starts at a record's start. Usually the quotes before the last line break are even in number (a field's quotes
    come in pairs, a quote inside one doubled) and that is the cut. When they are odd, either a quoted field holds
    that line break or a quote stands inside an unquoted field (12" blade), which the CSV parser reads as a plain
    character: one pass over the quoted fields as the parser sees them (a quote opens one only at a field's start)
    finds the last line break outside them. Linear in the buffer either way (counting back from every line break
    was quadratic: one stray quote made a 10 MB load take minutes, and read the rest of the file into memory)."""
    end = buf.rfind(b"\n")
    if end < 0:
        return 0
    if not quote or buf.count(quote, 0, end) % 2 == 0:
        return end + 1
    safe, pos = -1, 0
    for m in _quoted_fields(quote, delimiter).finditer(buf):
        start, stop = m.span()
        if start > end:
            break
        nl = buf.rfind(b"\n", pos, start)
        if nl >= 0:
            safe = nl
        if stop > end:  # the last line break is inside this quoted field (or it is still open at the buffer's end)
            return safe + 1
        pos = stop
    return end + 1


@functools.lru_cache(maxsize=16)
def _quoted_fields(quote: bytes, delimiter: bytes) -> re.Pattern:
    """A quoted field as the parser reads it: a quote at a field's start (the buffer's start, or after a delimiter
    or a line break), then anything but a lone quote, then the closing quote (or the end of the buffer)."""
    q, d = re.escape(quote), re.escape(delimiter)
    return re.compile(rb"(?:^|(?<=[" + d + rb"\n]))" + q + rb"(?:[^" + q + rb"]|" + q + q + rb")*(?:" + q + rb"|\Z)")


def _decode_block(data: bytes, encoding: str, label: str, lines_before: int) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = lines_before + data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{label} is not valid {encoding}: byte 0x{data[exc.start]:02x} on line {line} cannot be decoded.",
            'save the file as UTF-8, or declare its real encoding in the mapping [source], e.g. encoding = "cp1252".',
        ) from None
    except LookupError:
        raise InputError(f"The mapping's encoding {encoding!r} is unknown.", 'use e.g. "utf-8" or "cp1252".') from None


def _dialect_name(m: Mapping) -> str:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return f"{names.get(m.delimiter, repr(m.delimiter))}-separated"


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _decode(data: bytes, encoding: str, label: str) -> str:
    if b"\x00" in data[:65536] and not encoding.lower().startswith("utf-16"):
        raise InputError(f"{label} looks like a binary file (it contains NUL bytes), not text.",
                         "give a CSV or GeoJSON export, or a .parquet file for Parquet.")
    return _decode_block(data, encoding, label, 0).removeprefix("\ufeff")


def _record_lines(body: bytes, quote: bytes = b"", delimiter: bytes = b",") -> np.ndarray:
    """The line (1 = the body's first) each non-blank record of the body starts on, in order: what the CSV parser
    numbers its rows by. With `quote`, a line break inside a quoted field (as the parser reads them, see
    _quoted_fields) does not end a record; without it every line is a record (the fast path, for blocks without such
    breaks)."""
    buf = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    terminators = ends
    if quote and len(ends):
        inside = np.zeros(len(ends), dtype=bool)
        for m in _quoted_fields(quote, delimiter).finditer(body):
            a, b = m.span()
            lo, hi = np.searchsorted(ends, [a, b])
            inside[lo:hi] = True
        terminators = ends[~inside]
    starts = np.concatenate(([0], terminators + 1))
    stops = np.concatenate((terminators, [len(buf)]))
    lengths = stops - starts
    has_cr = (lengths > 0) & (buf[np.maximum(stops - 1, 0)] == 13)
    nonblank = (lengths - has_cr) > 0
    # the line a record starts on: line breaks before its start, plus one (every line its own record: 1, 2, 3, ...)
    lines = np.arange(1, len(starts) + 1) if terminators is ends else np.searchsorted(ends, starts) + 1
    return lines[nonblank].astype(np.int64)


def _as_text(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        out = col.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z" if col.dt.tz is not None else "%Y-%m-%dT%H:%M:%S.%f")
    else:
        out = col.astype("str")
    return out.where(col.notna(), "").astype("str")


def _geojson_rows(features: list, offset: int, columns: list[str]):
    records, numbers, problems = [], [], []
    for i, feat in enumerate(features, start=offset + 1):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        props = feat.get("properties") if isinstance(feat, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2):
            kind = geom.get("type") if isinstance(geom, dict) else "missing"
            problems.append(Problem(i, "geometry", str(kind), "only Point features can be loaded as incidents"))
            continue
        row = {k: ("" if v is None else str(v)) for k, v in (props if isinstance(props, dict) else {}).items()}
        row[GEOJSON_LON], row[GEOJSON_LAT] = str(coords[0]), str(coords[1])
        records.append(row)
        numbers.append(i)
    frame = pd.DataFrame.from_records(records, columns=columns).fillna("").astype("str")
    return frame, np.asarray(numbers, dtype=np.int64), problems
