"""Events for the rule engines from a CSV or JSONL file: id, time (ISO 8601 with offset), lon, lat, and the fields
the rule set declares. Sets are JSON arrays in JSONL and ';'-separated in CSV. A bad row stops the read with its
file, row, field and the fix; nothing is evaluated."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from lawful.errors import InputError
from lawful.limits import EVENT_BYTES, parse_json, read_text
from lawful.rules.engine import Events
from lawful.rules.language import BUILTIN_FIELDS, RuleSet

REQUIRED = ("id", "time", "lon", "lat")


def _csv(path: Path, text: str, *, empty_is_missing: bool = True) -> pd.DataFrame:
    """A CSV as text columns; every row must have as many fields as the header (else one located error)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if not header:
            raise InputError(f"{path}: the file is empty", "give a header line and one row per record")
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise InputError(f"{path} row {reader.line_num}: has {len(row)} fields, the header has {len(header)}",
                                 "give every row as many fields as the header; quote values that contain commas")
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"{path} row {reader.line_num}: not a well-formed CSV ({exc})",
                         "check the quotes on that row") from None
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if empty_is_missing:
        frame = frame.where(frame != "", None)
    return frame


def read_events(path: Path, rs: RuleSet, crs: str) -> Events:
    if path.suffix.lower() not in (".jsonl", ".ndjson", ".csv"):
        raise InputError(f"{path}: unknown event file type {path.suffix!r}", "use .csv or .jsonl")
    text = read_text(path, what="an event file (CSV or JSONL)", limit=EVENT_BYTES,
                     fix="give a CSV or JSONL file of events, or --events store")
    return parse_events(text, rs, crs, path)


def parse_events(text: str, rs: RuleSet, crs: str, path: Path | str) -> Events:
    """An event file's text; its name (`path`, only for the type and for errors) ends in .csv, .jsonl or .ndjson.
    The server evaluates what a client sent this way, never opening a path the client named."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise InputError(f"{path}: unknown event file type {suffix!r}", "use .csv or .jsonl")
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                row = parse_json(line, f"{path} row {n}")
                if not isinstance(row, dict):
                    raise InputError(f"{path} row {n}: not a JSON object", "write one {...} object per line")
                for k, v in row.items():
                    if isinstance(v, dict) or (isinstance(v, list) and rs.fields.get(k) != "set") \
                            or (isinstance(v, list) and not all(isinstance(x, str) for x in v)):
                        raise InputError(f"{path} row {n}, field {k}: {type(v).__name__} where a single value belongs",
                                         "give text or a number (a list of strings only for a set field)")
                rows.append(row)
        frame = pd.DataFrame(rows)
        first_row = 1
    else:
        frame = _csv(path, text)
        first_row = 2  # the header is line 1
    return to_events(frame, rs, crs, str(path), first_row)


def to_events(frame: pd.DataFrame, rs: RuleSet, crs: str, label: str, first_row: int = 1) -> Events:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}",
                         "events need id, time (ISO 8601 with offset), lon and lat")

    def bad(i: int, field: str, value, why: str, fix: str):
        shown = value.item() if hasattr(value, "item") else value  # numpy scalars print as plain numbers
        raise InputError(f"{label} row {i + first_row}, field {field} ({shown!r}): {why}. Nothing was evaluated.", fix)

    t = pd.to_datetime(frame["time"], utc=True, errors="coerce", format="ISO8601")
    if t.isna().any():
        i = int(np.flatnonzero(t.isna())[0])
        bad(i, "time", frame["time"].iloc[i], "not an ISO 8601 time", "write e.g. 2026-06-01T21:40:00+08:00")
    has_tz = frame["time"].astype(str).str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    if not has_tz.all():
        i = int(np.flatnonzero(~has_tz.to_numpy())[0])
        bad(i, "time", frame["time"].iloc[i], "has no UTC offset", "add one, e.g. +08:00 or Z")
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    for name, v, lo, hi in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        badrow = np.flatnonzero(~((v >= lo) & (v <= hi)))
        if len(badrow):
            i = int(badrow[0])
            bad(i, name, frame[name].iloc[i], f"not a {name} in degrees", f"give {name} between {lo} and {hi}")
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    out = pd.DataFrame({"id": frame["id"].astype(str), "t": t.dt.tz_localize(None).astype("datetime64[us]"),
                        "x": x, "y": y})
    for name, ftype in rs.fields.items():
        if name not in frame.columns:
            out[name] = None if ftype != "number" else np.nan
            continue
        col = frame[name]
        if ftype == "number":
            num = pd.to_numeric(col, errors="coerce")
            wrong = (num.isna() & col.notna()) | (num.notna() & ~np.isfinite(num.astype(float)))
            if wrong.any():
                i = int(np.flatnonzero(wrong.to_numpy())[0])
                bad(i, name, col.iloc[i], "not a number", f"give {name} as a number, or leave it empty")
            out[name] = num.astype(float)
        elif ftype == "set":
            out[name] = [frozenset(v) if isinstance(v, list) else
                         frozenset(s.strip() for s in str(v).split(";") if s.strip()) if isinstance(v, str) else
                         frozenset() for v in col]
        elif ftype == "bool":
            out[name] = col.map(lambda v: str(v).lower() in ("true", "1", "yes"))
        else:
            out[name] = col.where(col.notna(), None).astype(object)
    return Events.from_frame(out)


def from_incidents(frame: pd.DataFrame) -> Events:
    """Stored incidents (id, t, x, y, category, area, premises) as engine events."""
    cols = ["id", "t", "x", "y", *BUILTIN_FIELDS]
    return Events.from_frame(frame[cols])


def read_verdicts(path: Path):
    """Officers' verdicts from CSV: rule, version, alert_time (ISO 8601 with offset), verdict, held (1/0 per condition)."""
    from datetime import datetime

    from lawful.rules.learning import VERDICTS, Verdict

    text = read_text(path, what="a verdict file (CSV)", limit=EVENT_BYTES,
                     fix="give a CSV of verdicts: rule, version, alert_time, verdict, held")
    frame = _csv(path, text, empty_is_missing=False)
    missing = [c for c in ("rule", "version", "alert_time", "verdict", "held") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}",
                         "the columns are rule, version, alert_time, verdict, held")
    out = []
    for n, r in enumerate(frame.to_dict("records"), 2):
        def bad(field, why, fix):
            raise InputError(f"{path} row {n}, field {field} ({r[field]!r}): {why}. Nothing was reported.", fix)
        try:
            at = datetime.fromisoformat(r["alert_time"])
        except ValueError:
            bad("alert_time", "not an ISO 8601 time", "write e.g. 2026-06-01T22:10:00+08:00")
        if at.tzinfo is None:
            bad("alert_time", "has no UTC offset", "add one, e.g. +08:00")
        if r["verdict"] not in VERDICTS:
            bad("verdict", "not a verdict", f"use one of {', '.join(VERDICTS)}")
        if not re.fullmatch(r"[0-9]{1,9}", r["version"]):
            bad("version", "not a version number", "write e.g. 1")
        if not r["held"] or set(r["held"]) - {"0", "1"} or len(r["held"]) > 100:
            bad("held", "not a string of 1s and 0s", "one digit per condition in the rule's order, e.g. 101")
        out.append(Verdict(r["rule"], int(r["version"]), at, r["verdict"], tuple(c == "1" for c in r["held"])))
    return out
