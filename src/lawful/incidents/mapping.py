"""The mapping file: how one source's columns become incident fields, read from TOML and checked strictly.

A mapping declares everything a load may keep. Columns it does not name are dropped (minimum necessary use).
See examples/mappings/toronto-mci.toml for a complete, commented example.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyproj import CRS
from pyproj.exceptions import CRSError

from lawful.errors import ConfigError
from lawful.incidents.models import CLASSIFICATIONS
from lawful.limits import check_tree, parse_toml, read_text

FORMATS = ("csv", "parquet", "geojson")
TIME_FIELDS = ("occurred_at", "occurred_from", "occurred_to", "reported_at")
PLAIN_FIELDS = ("category", "area_code", "premises_type", "lat", "lon", "x", "y")

_ALLOWED = {
    "source": {"name", "format", "encoding", "timezone", "crs", "classification", "retention_days", "strip_whitespace",
               "bounds", "description", "purposes", "delimiter", "quote"},
    "retention": {"category"},
    "key": {"column", "hash"},
    "fields": set(PLAIN_FIELDS) | set(TIME_FIELDS),
    "categories": {"allowed", "rename"},
    "extra": {"keep", "pseudonymise"},
}
_TIME_KEYS = {"column", "format", "hour_column"}


@dataclass(frozen=True)
class TimeField:
    """A timestamp column; with hour_column, the column gives only the local date and the hour comes from there."""

    column: str
    format: str | None = None
    hour_column: str | None = None


@dataclass(frozen=True)
class Mapping:
    path: str
    source: str
    format: str | None
    encoding: str
    timezone: str
    crs: str
    classification: str
    retention_days: int | None
    strip_whitespace: bool
    bounds: tuple[float, float, float, float] | None
    key_column: str | None
    key_hash: tuple[str, ...]
    fields: dict[str, str]
    times: dict[str, TimeField]
    categories_allowed: frozenset[str] | None
    category_rename: dict[str, str] = field(default_factory=dict)
    extra_keep: tuple[str, ...] = ()
    extra_pseudonymise: tuple[str, ...] = ()  # kept only as keyed pseudonyms (names, ID numbers, phones, plates)
    purposes: tuple[str, ...] = ()  # what the source's data is declared for (the minimisation report shows them)
    retention_by_category: dict[str, int] = field(default_factory=dict)  # overrides retention_days per category
    delimiter: str = ","  # CSV: the character between fields (";" and "\t" exports are common)
    quote: str | None = '"'  # CSV: the character that encloses a field holding the delimiter; None: no quoting

    @property
    def uses_xy(self) -> bool:
        return "x" in self.fields

    def required_columns(self) -> list[str]:
        """Every source column the mapping reads, in a stable order."""
        cols: list[str] = []
        if self.key_column:
            cols.append(self.key_column)
        cols += list(self.key_hash)
        cols += list(self.fields.values())
        for tf in self.times.values():
            cols += [tf.column] + ([tf.hour_column] if tf.hour_column else [])
        cols += list(self.extra_keep) + list(self.extra_pseudonymise)
        return list(dict.fromkeys(cols))


def _fail(path: str, where: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"Mapping {path}, {where}: {problem}.", fix)


def _str(path: str, where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"expected a column name (text), got {value!r}", "write it as a quoted string.")
    return value


def _source_name(path: str, value: object) -> str:
    """A source's name: text without control characters (it keys every record of the source and is written into
    the load's statements)."""
    name = _str(path, "[source] name", value)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _fail(path, "[source] name", f"{name!r} holds a control character",
                    'use plain text, e.g. "my-agency-rms".')
    return name


def _str_list(path: str, where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, where, f"expected a list of strings, got {value!r}", 'write it as ["a", "b"].')
    return tuple(value)


def load_mapping(path: str | Path, label: str | None = None) -> Mapping:
    """Read and check a mapping file; any mistake raises ConfigError naming the key and the fix. `label`: how
    messages and the load record name it (an upload's staged copy lives under the server's data directory, which
    is nobody's business but the operator's)."""
    path = str(path)
    name = label or path
    if not os.path.lexists(path):
        raise ConfigError(f"Mapping file {name} does not exist.", "check the path given to --mapping.")
    try:
        text = read_text(path, what="a mapping (TOML)", error=ConfigError, fix="give --mapping the path to a mapping "
                         "TOML file (see examples/mappings/toronto-mci.toml)")
    except ConfigError as exc:
        if label is None:
            raise
        raise ConfigError(exc.message.replace(path, label), exc.fix) from None
    return parse_mapping(parse_toml(text, f"Mapping {name}", error=ConfigError), name)


def _text(path: str, where: str, value: object, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _fail(path, where, f"expected text, got {value!r}"[:200], "write it as a quoted string.")
    return value


def parse_mapping(doc: dict, path: str = "<mapping>") -> Mapping:
    check_tree(doc, f"Mapping {path}", error=ConfigError)  # depth, finite numbers, 64-bit integers, no dates
    for section, value in doc.items():
        if section not in _ALLOWED:
            raise _fail(path, f"[{section}]", "unknown section", f"use only {sorted(_ALLOWED)}.")
        if not isinstance(value, dict):
            raise _fail(path, section, "expected a table", f"write it as a [{section}] section.")
        for key in value:
            if key not in _ALLOWED[section]:
                raise _fail(path, f"[{section}] {key}", "unknown key", f"use only {sorted(_ALLOWED[section])}.")

    src = doc.get("source", {})
    if "name" not in src:
        raise _fail(path, "[source]", "no name", 'add name = "my-agency-rms": loads of one source share keys.')
    fmt = src.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise _fail(path, "[source] format", f"{fmt!r} is not supported", f"use one of {FORMATS}.")
    encoding = _text(path, "[source] encoding", src.get("encoding"), "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise _fail(path, "[source] encoding", f"{encoding!r} is not a text encoding", 'use e.g. "utf-8" or "cp1252".') from None
    _text(path, "[source] description", src.get("description"), "")
    if not isinstance(src.get("strip_whitespace", True), bool):
        raise _fail(path, "[source] strip_whitespace", f"{src['strip_whitespace']!r} is not true or false",
                    "write strip_whitespace = true.")
    tz = _text(path, "[source] timezone", src.get("timezone"), "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail(path, "[source] timezone", f"{tz!r} is not a time zone", 'use an IANA name like "America/Toronto".') from None
    crs = _text(path, "[source] crs", src.get("crs"), "EPSG:4326")
    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise _fail(path, "[source] crs", f"{crs!r} is not a coordinate reference system", 'use e.g. "EPSG:4326".') from None
    classification = src.get("classification", "internal")
    if classification not in CLASSIFICATIONS:
        raise _fail(path, "[source] classification", f"{classification!r} is not a level", f"use one of {CLASSIFICATIONS}.")
    retention = src.get("retention_days")
    if retention is not None and (not isinstance(retention, int) or isinstance(retention, bool) or not 0 < retention
                                  <= 100 * 366):
        raise _fail(path, "[source] retention_days", f"{retention!r} is not a positive whole number of days (at most "
                    "100 years)", "give days, e.g. 3650.")
    by_category = doc.get("retention", {}).get("category", {})
    if not isinstance(by_category, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 100 * 366
                                                    for v in by_category.values()):
        raise _fail(path, "[retention] category", "expected a table of category = days", '{ "Assault" = 7300 }.')
    bounds = src.get("bounds")
    if bounds is not None:
        if not (isinstance(bounds, list) and len(bounds) == 4
                and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
                and bounds[0] < bounds[2] and bounds[1] < bounds[3]):
            raise _fail(path, "[source] bounds", f"{bounds!r} is not a box", "give [min_lon, min_lat, max_lon, max_lat].")
        bounds = tuple(float(b) for b in bounds)

    key = doc.get("key", {})
    key_column = _str(path, "[key] column", key["column"]) if "column" in key else None
    key_hash = _str_list(path, "[key] hash", key["hash"]) if "hash" in key else ()
    if bool(key_column) == bool(key_hash):
        raise _fail(path, "[key]", "give exactly one of column or hash",
                    'use column = "incident_id" if the file has an id, else hash = [the columns that describe a row].')

    raw_fields = doc.get("fields", {})
    fields = {k: _str(path, f"[fields] {k}", v) for k, v in raw_fields.items() if k in PLAIN_FIELDS}
    times: dict[str, TimeField] = {}
    for name in TIME_FIELDS:
        if name not in raw_fields:
            continue
        spec = raw_fields[name]
        if isinstance(spec, str):
            times[name] = TimeField(column=spec)
            continue
        if not isinstance(spec, dict) or "column" not in spec or set(spec) - _TIME_KEYS:
            raise _fail(path, f"[fields] {name}", f"expected a column name or a table with {sorted(_TIME_KEYS)}",
                        f'write {name} = "col" or [fields.{name}] with column = "col".')
        times[name] = TimeField(
            column=_str(path, f"[fields.{name}] column", spec["column"]),
            format=_str(path, f"[fields.{name}] format", spec["format"]) if "format" in spec else None,
            hour_column=_str(path, f"[fields.{name}] hour_column", spec["hour_column"]) if "hour_column" in spec else None,
        )
    if "category" not in fields:
        raise _fail(path, "[fields]", "no category column", 'add category = "the column with the offence type".')
    if "occurred_at" not in times and not {"occurred_from", "occurred_to"} <= set(times):
        raise _fail(path, "[fields]", "no occurred_at",
                    "map occurred_at, or both occurred_from and occurred_to for records known only to a time range.")
    has_ll, has_xy = {"lat", "lon"} <= set(fields), {"x", "y"} <= set(fields)
    if has_ll == has_xy:
        raise _fail(path, "[fields]", "coordinates need exactly one of lat + lon or x + y",
                    "map lat and lon (degrees), or x and y (in the [source] crs).")
    if has_ll and not CRS.from_user_input(crs).is_geographic:
        raise _fail(path, "[source] crs", f"lat/lon given but {crs!r} is projected", "use x and y for projected coordinates.")

    cats = doc.get("categories", {})
    allowed = frozenset(_str_list(path, "[categories] allowed", cats["allowed"])) if "allowed" in cats else None
    rename = cats.get("rename", {})
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        raise _fail(path, "[categories] rename", "expected a table of source name = category", '{ "B&E" = "Break and Enter" }.')
    extra = doc.get("extra", {})
    keep = _str_list(path, "[extra] keep", extra.get("keep", []))
    pseudonymise = _str_list(path, "[extra] pseudonymise", extra.get("pseudonymise", []))
    # A column kept only as a pseudonym must not also be stored in clear, as an extra, a field or the key.
    in_clear = {c: f"[extra] keep" for c in keep}
    in_clear.update({c: f"[fields] {k}" for k, c in fields.items()})
    in_clear.update({tf.column: f"[fields] {k}" for k, tf in times.items()})
    in_clear.update({tf.hour_column: f"[fields.{k}] hour_column" for k, tf in times.items() if tf.hour_column})
    if key_column:
        in_clear[key_column] = "[key] column"
    both = [c for c in pseudonymise if c in in_clear]
    if both:
        raise _fail(path, "[extra] pseudonymise", f"column {both[0]!r} is pseudonymised but also kept in clear by "
                    f"{in_clear[both[0]]}", f"keep {both[0]!r} in only one place: remove it from {in_clear[both[0]]} "
                    "(it is then stored only as a keyed pseudonym), or from [extra] pseudonymise.")

    delimiter, quote = _dialect(path, src)
    return Mapping(
        path=path, source=_source_name(path, src["name"]), format=fmt, encoding=encoding,
        timezone=tz, crs=crs, classification=classification, retention_days=retention,
        strip_whitespace=bool(src.get("strip_whitespace", True)), bounds=bounds,
        key_column=key_column, key_hash=key_hash, fields=fields, times=times,
        categories_allowed=allowed, category_rename=dict(rename),
        extra_keep=keep, extra_pseudonymise=pseudonymise,
        purposes=_str_list(path, "[source] purposes", src.get("purposes", [])),
        retention_by_category=dict(by_category), delimiter=delimiter, quote=quote,
    )


_NAMED = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _dialect(path: str, src: dict) -> tuple[str, str | None]:
    """[source] delimiter and quote (CSV): one character each, distinct, never a line break or a letter or digit."""
    delimiter = src.get("delimiter", ",")
    if isinstance(delimiter, str):
        delimiter = _NAMED.get(delimiter.lower(), delimiter)
    if not (isinstance(delimiter, str) and len(delimiter) == 1 and delimiter not in '\r\n"' and not delimiter.isalnum()):
        raise _fail(path, "[source] delimiter", f"{src.get('delimiter')!r} is not one separator character",
                    'give one character, e.g. delimiter = ";" or delimiter = "\\t" (or "tab", "semicolon", "pipe").')
    quote = src.get("quote", '"')
    if quote in ("", "none"):
        return delimiter, None
    if not (isinstance(quote, str) and len(quote) == 1 and quote not in "\r\n" and not quote.isalnum()
            and quote != delimiter):
        raise _fail(path, "[source] quote", f"{quote!r} is not one quoting character distinct from the delimiter",
                    "give quote = '\"' (the default), quote = \"'\", or quote = \"none\" for files without quoting.")
    return delimiter, quote
