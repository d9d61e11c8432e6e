"""Incident store operations: load a file, list what a load refused, summarise and fetch what is stored.

Functions take the session first and keyword-only arguments after; they never commit. A load writes its
incidents, its quarantined rows and its own record in the caller's one transaction, or nothing at all.
"""

from __future__ import annotations

import getpass
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from lawful.errors import InputError, RowError, StoreError
from lawful.incidents.mapping import Mapping
from lawful.incidents.models import CLASSIFICATIONS, Incident, Load, QuarantinedRow
from lawful.incidents.readers import RawTable, read_table
from lawful.incidents.store import Progress, insert_incidents
from lawful.incidents.validate import Prepared, prepare
from lawful.limits import is_disk_full
from lawful.settings import Settings


def current_actor() -> str:
    """Who is loading, until identities arrive (the access issue replaces this with the signed-in user)."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


@dataclass
class LoadSummary:
    load_id: int
    file: str
    source: str
    rows_read: int
    inserted: int
    already_present: int
    quarantined_rows: int
    problem_counts: list[tuple[str, str, int, int]]  # field, reason, rows, first row
    dropped_columns: list[str]
    kept_extras: list[str]
    notes: list[str] = field(default_factory=list)


def ingest_file(session: Session, *, path: Path, mapping: Mapping, settings: Settings, strict: bool = False,
                actor: str | None = None, progress: Progress | None = None) -> LoadSummary:
    """Load one file through a mapping: check every row, keep the good ones, quarantine the rest."""
    if progress:
        progress("reading", 0, 1)
    raw = read_table(path, mapping)
    return ingest_table(session, raw=raw, mapping=mapping, settings=settings, file_label=path.name, strict=strict,
                        actor=actor, progress=progress)


def ingest_table(session: Session, *, raw: RawTable, mapping: Mapping, settings: Settings, file_label: str,
                 strict: bool = False, actor: str | None = None, progress: Progress | None = None) -> LoadSummary:
    """Load an already-read table. Raises before writing anything if the load must not happen."""
    started = datetime.now(timezone.utc)
    if mapping.key_hash:
        _refuse_renamed_copy(session, raw=raw, mapping=mapping, file_label=file_label)
    if progress:
        progress("checking", 0, 1)
    key = None
    if mapping.extra_pseudonymise:  # the checked key: a lost or swapped one is refused, never silently replaced
        from lawful.privacy.service import pseudonym_key

        key = pseudonym_key(session, actor=actor or current_actor(), settings=settings)
    prepared = prepare(raw, mapping, settings, file_label, now=started, pseudonym_key=key)
    if strict and prepared.problems:
        first = prepared.problems[0]
        raise RowError(file_label, first.row, first.field, first.value, first.reason)

    try:
        return _write_load(session, raw=raw, mapping=mapping, prepared=prepared, file_label=file_label,
                           started=started, actor=actor, progress=progress)
    except (OSError, DBAPIError) as exc:
        if not is_disk_full(exc):
            raise
        raise StoreError(f"The disk holding the store filled up while loading {file_label}; nothing was committed "
                         "(a load is one transaction, rolled back as a whole).",
                         "free space on the store's disk (or give it more), then run the load again.") from None


def _write_load(session: Session, *, raw: RawTable, mapping: Mapping, prepared: Prepared, file_label: str,
                started: datetime, actor: str | None, progress: Progress | None) -> LoadSummary:
    load = Load(source=mapping.source, file_name=file_label, file_sha256=raw.sha256, mapping_name=mapping.path,
                actor=actor or current_actor(), started_at=started, finished_at=started, rows_read=prepared.rows_read,
                inserted=0, already_present=0, quarantined=prepared.bad_rows,
                dropped_columns=[c for c in raw.columns if c not in raw.frame.columns])
    session.add(load)
    session.flush()
    # Rows go in time order: the time indexes then grow at one end, and a window's rows sit on neighbouring pages.
    records = prepared.records.sort_values("occurred_at", kind="stable")
    try:
        inserted = insert_incidents(session, records, load.id, progress)
    except IntegrityError:
        raise StoreError(f"Another load of source {mapping.source!r} wrote the same records while this one ran; "
                         "this load was rolled back.", "run it again: it will add only what is still missing.") from None
    _quarantine(session, load.id, file_label, prepared)
    load.inserted, load.already_present = inserted, len(prepared.records) - inserted
    load.finished_at = datetime.now(timezone.utc)
    session.flush()
    from lawful.trail import audit  # the trail records every collection of data (LED Art. 25)

    audit.append(session, actor=load.actor, action="collection", obj=f"load:{load.id}", purpose="incident data hub",
                 details={"file": file_label, "sha256": raw.sha256, "source": mapping.source, "inserted": inserted,
                          "quarantined_rows": prepared.bad_rows, "classification": mapping.classification})
    return LoadSummary(
        load_id=load.id, file=file_label, source=mapping.source, rows_read=prepared.rows_read, inserted=inserted,
        already_present=load.already_present, quarantined_rows=prepared.bad_rows,
        problem_counts=_count_problems(prepared), dropped_columns=load.dropped_columns,
        kept_extras=list(mapping.extra_keep), notes=prepared.notes,
    )


def _refuse_renamed_copy(session: Session, *, raw: RawTable, mapping: Mapping, file_label: str) -> None:
    # Hash keys are scoped to the file name (identical rows in two files cannot be told from a re-load), so the
    # same bytes under another name would load twice. Refuse that instead of duplicating silently.
    earlier = session.execute(
        select(Load.file_name, Load.id).where(Load.source == mapping.source, Load.file_sha256 == raw.sha256,
                                              Load.file_name != file_label).limit(1)
    ).first()
    if earlier:
        raise InputError(
            f"{file_label} has exactly the content already loaded as {earlier.file_name} (load {earlier.id}) for source "
            f"{mapping.source!r}; its rows are keyed by file name, so loading it again under a new name would "
            "duplicate them.", f"load it under its original name, {earlier.file_name}, which adds nothing.")


def _quarantine(session: Session, load_id: int, file_label: str, prepared: Prepared) -> None:
    if prepared.problems:
        session.execute(insert(QuarantinedRow), [
            {"load_id": load_id, "file_name": file_label, "row_number": p.row, "field": p.field,
             "value": p.value[:1000], "reason": p.reason} for p in prepared.problems
        ])


def _count_problems(prepared: Prepared) -> list[tuple[str, str, int, int]]:
    counts: Counter = Counter()
    first: dict[tuple[str, str], int] = {}
    for p in prepared.problems:
        key = (p.field, p.reason)
        counts[key] += 1
        first.setdefault(key, p.row)
    return [(f, r, n, first[(f, r)]) for (f, r), n in counts.most_common()]


def get_all_quarantined(session: Session, *, load_id: int | None = None, limit: int = 50) -> list[QuarantinedRow]:
    """Quarantined rows, newest load first, in file order."""
    query = select(QuarantinedRow).order_by(QuarantinedRow.load_id.desc(), QuarantinedRow.row_number, QuarantinedRow.id)
    if load_id is not None:
        query = query.where(QuarantinedRow.load_id == load_id)
    return list(session.scalars(query.limit(limit)))


@dataclass
class Stats:
    total: int
    by_year_category: dict[int, dict[str, int]]  # local calendar year of occurrence
    categories: list[str]
    first: datetime | None
    last: datetime | None
    bounds_lonlat: tuple[float, float, float, float] | None
    bounds_xy: tuple[float, float, float, float] | None
    sources: dict[str, int]
    timezone: str


def get_categories(session: Session) -> list[str]:
    """The categories of the stored incidents, sorted."""
    return list(session.scalars(select(Incident.category).distinct().order_by(Incident.category)))


def get_stats(session: Session, *, settings: Settings) -> Stats:
    """Counts by local year and category, the time span and the spatial extent of everything stored.

    Counted by the database: the span first, then one range count per category and local year on the (category,
    time) index, between the years' UTC start instants (exact in any zone, daylight saving included). Reading every
    row into pandas instead took ~40% of the server's time under load (bench_api), and a CASE over the years in one
    GROUP BY was slower still on SQLite (text times)."""
    dialect = session.get_bind().dialect.name
    span = _query(session, f"SELECT min({_time_select(dialect)}), max({_time_select(dialect)}), count(*) "
                           "FROM incidents", {})[0]
    ext = session.execute(select(func.min(Incident.lon), func.min(Incident.lat), func.max(Incident.lon),
                                 func.max(Incident.lat), func.min(Incident.x), func.min(Incident.y),
                                 func.max(Incident.x), func.max(Incident.y))).one()
    sources = dict(session.execute(select(Incident.source, func.count()).group_by(Incident.source)).all())
    if not span[2]:
        return Stats(total=0, by_year_category={}, categories=[], first=None, last=None, bounds_lonlat=None,
                     bounds_xy=None, sources=sources, timezone=settings.timezone)
    first, last = (pd.Timestamp(t).tz_localize("UTC").to_pydatetime()
                   for t in _to_datetime64([span[0], span[1]], dialect))
    tz = ZoneInfo(settings.timezone)
    years = range(first.astimezone(tz).year, last.astimezone(tz).year + 1)
    p = _placeholder(dialect)
    categories = [c for (c,) in _query(session, "SELECT DISTINCT category FROM incidents", {})]
    starts = [_bind_time(datetime(y, 1, 1, tzinfo=tz), dialect) for y in (*years, years[-1] + 1)]
    by_year: dict[int, dict[str, int]] = {}
    sql = (f"SELECT count(*) FROM incidents WHERE category = {p('c')} AND occurred_at >= {p('lo')} "
           f"AND occurred_at < {p('hi')}")
    for category in categories:  # one range count per category and local year, each on the (category, time) index
        for k, year in enumerate(years):
            lo = starts[k] if k else _bind_time(first, dialect)  # from the first time, in case it precedes Jan 1
            (n,), = _query(session, sql, {"c": category, "lo": lo, "hi": starts[k + 1]})
            if n:
                by_year.setdefault(year, {})[str(category)] = int(n)
    by_year = {y: dict(sorted(by_year[y].items())) for y in sorted(by_year)}
    return Stats(
        total=int(span[2]), by_year_category=by_year,
        categories=sorted({c for row in by_year.values() for c in row}), first=first, last=last,
        bounds_lonlat=tuple(ext[:4]), bounds_xy=tuple(ext[4:]), sources=sources, timezone=settings.timezone,
    )


@dataclass(frozen=True)
class EventArrays:
    """A window of incidents as arrays: what forecasting and rules consume."""

    ids: np.ndarray  # int64
    t: np.ndarray  # datetime64[us], UTC
    x: np.ndarray  # metres, jurisdiction CRS
    y: np.ndarray
    area: np.ndarray  # object (str or None)

    def __len__(self) -> int:
        return len(self.ids)


def fetch_events(session: Session, *, category: str | None, start: datetime, end: datetime) -> EventArrays:
    """Incidents with start <= occurred_at < end (and of one category, if given), ordered by time: read as columns
    (`store.fetch_window`, no Python object per row, so the time grows linearly with the rows); a window too large
    for SQLite's one-string read falls back to rows."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be tz-aware")
    from sqlalchemy.exc import DBAPIError

    from lawful.incidents.store import fetch_window

    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        import sqlite3

        too_big = (sqlite3.DataError, sqlite3.OperationalError, DBAPIError)
    else:
        too_big = ()
    try:
        ids, t, x, y, area = fetch_window(session, category=category, lo=_bind_time(start, dialect),
                                          hi=_bind_time(end, dialect))
    except too_big as exc:
        if "too big" not in str(exc):
            raise
        return fetch_events_rows(session, category=category, start=start, end=end)
    return EventArrays(ids=ids, t=t, x=x, y=y, area=area)


def fetch_events_rows(session: Session, *, category: str | None, start: datetime, end: datetime) -> EventArrays:
    """fetch_events through the driver's rows (a tuple per incident): the fallback, and the reference the columnar
    read is tested against."""
    dialect = session.get_bind().dialect.name
    p = _placeholder(dialect)
    where = f"occurred_at >= {p('lo')} AND occurred_at < {p('hi')}"
    params = {"lo": _bind_time(start, dialect), "hi": _bind_time(end, dialect)}
    if category is not None:
        where += f" AND category = {p('cat')}"
        params["cat"] = category
    sql = f"SELECT id, {_time_select(dialect)}, x, y, area_code FROM incidents WHERE {where} ORDER BY occurred_at, id"
    rows = _query(session, sql, params)
    if not rows:
        empty = np.array([], dtype=float)
        return EventArrays(np.array([], dtype=np.int64), np.array([], dtype="datetime64[us]"), empty, empty,
                           np.array([], dtype=object))
    ids, t, x, y, area = zip(*rows)
    return EventArrays(
        ids=np.asarray(ids, dtype=np.int64), t=_to_datetime64(t, dialect), x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float), area=np.asarray(area, dtype=object),
    )


def require_read(session: Session, *, actor, purpose: str, category: str | None = None,
                 action: str = "incidents.read") -> str:
    """The access decision for reading stored incidents (of one category): the actor's clearance must reach the
    highest classification among them. Raises AccessDenied; returns that classification."""
    from lawful.access.decide import Resource, require

    level = get_highest_classification(session, category=category)
    require(actor, action, Resource("incidents", category or "all", level), purpose)
    return level


def get_all_with_attribute(session: Session, *, field: str, value: str) -> list[Incident]:
    """Incidents whose extra attribute `field` equals `value` (e.g. one person's pseudonym), oldest first."""
    lookup = "json_extract(attributes, :path)" if session.get_bind().dialect.name == "sqlite" else "attributes ->> :field"
    ids = list(session.scalars(text(f"SELECT id FROM incidents WHERE attributes IS NOT NULL AND {lookup} = :value"),
                               {"path": f'$."{field}"', "field": field, "value": value}))
    if not ids:
        return []
    return list(session.scalars(select(Incident).where(Incident.id.in_(ids)).order_by(Incident.occurred_at,
                                                                                       Incident.id)))


def get_highest_classification(session: Session, *, category: str | None = None) -> str:
    """The highest classification among stored incidents (of one category, if given): what reading them needs."""
    q = select(Incident.classification).distinct()
    if category is not None:
        q = q.where(Incident.category == category)
    levels = set(session.scalars(q))
    return max(levels, key=CLASSIFICATIONS.index) if levels else "public"


def fetch_incident_frame(session: Session, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Incidents with start <= occurred_at < end as a frame: id, t (UTC), x, y, category, area, premises."""
    dialect = session.get_bind().dialect.name
    p = _placeholder(dialect)
    where = f"occurred_at >= {p('lo')} AND occurred_at < {p('hi')}"
    params = {"lo": _bind_time(start, dialect), "hi": _bind_time(end, dialect)}
    rows = _query(session, f"SELECT id, {_time_select(dialect)}, x, y, category, area_code, "
                           f"premises_type FROM incidents WHERE {where} ORDER BY occurred_at, id", params)
    ids, t, x, y, cat, area, prem = zip(*rows) if rows else ((),) * 7
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object), "t": _to_datetime64(t, dialect) if rows else
                          np.array([], dtype="datetime64[us]"), "x": np.asarray(x, float), "y": np.asarray(y, float),
                          "category": pd.Series(cat, dtype=object), "area": pd.Series(area, dtype=object),
                          "premises": pd.Series(prem, dtype=object)})
    return frame


# Bulk reads go straight to the driver: per-row ORM processing would dominate on large windows. Times come back
# in each driver's cheapest form: SQLite's stored UTC text, which numpy parses directly, and PostgreSQL's epoch
# microseconds, which avoids building one Python datetime per row (measured 57 -> 27 ms on a year of burglaries).
def _time_select(dialect: str) -> str:
    return "occurred_at" if dialect == "sqlite" else "(extract(epoch FROM occurred_at) * 1000000)::bigint"


def _to_datetime64(values, dialect: str) -> np.ndarray:
    if dialect == "sqlite":  # 'YYYY-MM-DD HH:MM:SS.ffffff'
        return np.asarray(values, dtype="datetime64[us]")
    return np.asarray(values, dtype=np.int64).astype("datetime64[us]")


def _placeholder(dialect: str):
    return (lambda name: f":{name}") if dialect == "sqlite" else (lambda name: f"%({name})s")


def _bind_time(value: datetime, dialect: str):
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else utc


def _query(session: Session, sql: str, params: dict) -> list[tuple]:
    return session.connection().connection.driver_connection.execute(sql, params).fetchall()


def stats_for(session: Session, *, actor, settings: Settings, purpose: str = "crime analysis") -> Stats:
    """get_stats for a person: reading counts of stored incidents needs `incidents.read` at the clearance of the
    most classified of them, and the reading is a consultation on the trail."""
    from lawful.trail import audit

    require_read(session, actor=actor, purpose=purpose)
    stats = get_stats(session, settings=settings)
    audit.append(session, actor=actor.name, action="consultation", obj="incidents:stats", purpose=purpose,
                 details={"total": stats.total})
    return stats


# ---- the incidents behind a place: one incident, or a query by area and dates ----------------------------------------
MAX_RADIUS_M = 5_000.0
MAX_LIST = 10_000


def incident_view(row: Incident, *, settings: Settings, cell_m: float = 200.0, full: bool = False) -> dict:
    """One stored incident as an analyst reads it: when (UTC and local), what, where (lon/lat, the 200 m cell it
    lies in, its neighbourhood). `full` adds the source's key, the load and the kept extra fields as stored (the
    personal ones only as the keyed pseudonyms ingestion made of them, `psn:...`)."""
    tz = ZoneInfo(settings.timezone)
    gx, gy = int(np.floor(row.x / cell_m)), int(np.floor(row.y / cell_m))
    out = {"id": row.id, "category": row.category, "occurred_at": row.occurred_at.isoformat(),
           "occurred_local": row.occurred_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
           "lon": round(row.lon, 6), "lat": round(row.lat, 6), "cell_id": f"{cell_m:g}m:{gx}:{gy}",
           "neighbourhood": row.area_code, "premises": row.premises_type, "classification": row.classification,
           "source": row.source}
    if full:
        out.update({"source_key": row.source_key, "load": row.load_id, "x": row.x, "y": row.y,
                    "occurred_from": row.occurred_from.isoformat() if row.occurred_from else None,
                    "occurred_to": row.occurred_to.isoformat() if row.occurred_to else None,
                    "reported_at": row.reported_at.isoformat() if row.reported_at else None,
                    "retention_until": row.retention_until.isoformat() if row.retention_until else None,
                    "attributes": row.attributes or {}, "time_zone": settings.timezone})
    return out


def get_one(session: Session, *, actor, incident_id: int, settings: Settings, purpose: str = "crime analysis") -> dict:
    """One incident for a person: `incidents.read` for the purpose at the incident's own classification
    (AccessDenied otherwise, which the server writes to the trail), and the reading is a consultation on the trail.
    An unknown id is NotFound."""
    from lawful.access.decide import Resource, require
    from lawful.errors import NotFound
    from lawful.trail import audit

    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id} is stored",
                       "find incidents with `lawful incidents list` (by --cell, --near, --neighbourhood and dates)")
    require(actor, "incidents.read", Resource("incidents", row.category, row.classification), purpose)
    audit.append(session, actor=actor.name, action="consultation", obj=f"incident:{row.id}", purpose=purpose,
                 details={"incident": row.id, "category": row.category, "classification": row.classification})
    return incident_view(row, settings=settings, full=True)


@dataclass(frozen=True)
class Query:
    """A query by area and dates, checked: every bound is finite, every area inside the jurisdiction."""

    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (a cell: lower inclusive, upper exclusive)
    near: tuple[float, float, float] | None = None  # x, y, radius (metres)
    neighbourhood: str | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    category: str | None = None
    cell_m: float = 200.0

    def where(self) -> list:
        w = []
        if self.box:
            x0, y0, x1, y1 = self.box
            w += [Incident.x >= x0, Incident.x < x1, Incident.y >= y0, Incident.y < y1]
        if self.near:
            x, y, r = self.near
            w += [Incident.x >= x - r, Incident.x <= x + r, Incident.y >= y - r, Incident.y <= y + r,
                  (Incident.x - x) * (Incident.x - x) + (Incident.y - y) * (Incident.y - y) <= r * r]
        if self.neighbourhood is not None:
            w.append(Incident.area_code == self.neighbourhood)
        if self.start is not None:
            w.append(Incident.occurred_at >= self.start)
        if self.end is not None:
            w.append(Incident.occurred_at < self.end)
        if self.category is not None:
            w.append(Incident.category == self.category)
        return w

    def record(self) -> dict:
        return {k: v for k, v in (("box", self.box), ("near", self.near), ("neighbourhood", self.neighbourhood),
                                  ("from", self.start.isoformat() if self.start else None),
                                  ("to", self.end.isoformat() if self.end else None), ("category", self.category))
                if v is not None}


def make_query(*, settings: Settings, cell: str | None = None, lon: float | None = None, lat: float | None = None,
               radius: float | None = None, neighbourhood: str | None = None, start=None, end=None,
               category: str | None = None) -> Query:
    """Check a query's bounds and turn them into the store's terms: a cell id into its square, lon/lat into
    projected metres, local dates into UTC instants (`end` is the last day included)."""
    import math
    from datetime import time, timedelta

    from lawful.forecast.grid import cell_box, from_lonlat, parse_cell_id

    box, near, cell_m = None, None, 200.0
    if cell is not None:
        try:
            cell_m = parse_cell_id(cell)[0]
            box = cell_box(cell)
        except ValueError as exc:
            raise InputError(f"--cell: {exc}", "copy the cell id from a forecast, e.g. --cell 200m:3047:24135") from None
    if (lon is None) != (lat is None):
        raise InputError("--near needs both a longitude and a latitude", "write it as lon,lat, e.g. --near -79.38,43.65")
    if radius is not None and lon is None:
        raise InputError("--radius needs --near (the point it is measured from)", "e.g. --near -79.38,43.65 --radius 200")
    if lon is not None:
        b = settings.bounds
        if not (math.isfinite(lon) and math.isfinite(lat) and b[0] <= lon <= b[2] and b[1] <= lat <= b[3]):
            raise InputError(f"--near {lon},{lat} is outside the jurisdiction (lon {b[0]}..{b[2]}, lat {b[1]}..{b[3]})",
                             "give the point as lon,lat in degrees (EPSG:4326); a swapped pair is common")
        r = 200.0 if radius is None else radius
        if not (math.isfinite(r) and 0 < r <= MAX_RADIUS_M):
            raise InputError(f"--radius {r:g} is not a distance from 0 to {MAX_RADIUS_M:g} m",
                             "give metres, e.g. --radius 200")
        x, y = from_lonlat(settings.crs, lon, lat)
        near = (float(x), float(y), float(r))
    tz = ZoneInfo(settings.timezone)
    # outside 1900..9000 a bound only says "from the beginning" or "to the end" (and would overflow in UTC)
    lo = datetime.combine(start, time(0), tz) if start is not None and start.year >= 1900 else None
    hi = datetime.combine(end + timedelta(days=1), time(0), tz) if end is not None and end.year <= 9000 else None
    if start is not None and end is not None and end < start:
        raise InputError(f"--to {end} is before --from {start}", "--to is the last day included; give one on or "
                                                                  "after --from")
    return Query(box, near, neighbourhood, lo, hi, category, cell_m)


def get_all(session: Session, *, actor, settings: Settings, query: Query, limit: int = 100,
            purpose: str = "crime analysis") -> dict:
    """The incidents matching a query, newest first, at most `limit`, with how many match in all. Reading them needs
    `incidents.read` for the purpose at the highest classification among the matches (AccessDenied otherwise: the
    whole answer is refused, never silently thinned), and the reading is a consultation on the trail."""
    from lawful.access.decide import Resource, require
    from lawful.trail import audit

    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"--limit {limit} is out of range", f"give 1 to {MAX_LIST}")
    where = query.where()
    # one pass for both what the decision needs (the highest classification) and how many match
    levels = dict(session.execute(select(Incident.classification, func.count()).where(*where)
                                  .group_by(Incident.classification)).all())
    highest = max(levels, key=CLASSIFICATIONS.index) if levels else "public"
    require(actor, "incidents.read", Resource("incidents", query.category or "all", highest), purpose)
    total = sum(levels.values())
    rows = session.scalars(select(Incident).where(*where).order_by(Incident.occurred_at.desc(), Incident.id.desc())
                           .limit(limit))
    found = [incident_view(r, settings=settings, cell_m=query.cell_m) for r in rows]
    hint = None
    if not total and query.neighbourhood is not None:
        import difflib

        known = [a for a in session.scalars(select(Incident.area_code).distinct()) if a]
        close = difflib.get_close_matches(query.neighbourhood, known, n=3, cutoff=0.6)
        hint = f"no stored incident has the neighbourhood {query.neighbourhood!r}" + (
            f"; the closest stored: {', '.join(close)}" if close else "")
    audit.append(session, actor=actor.name, action="consultation", obj="incidents:query", purpose=purpose,
                 details={"query": query.record(), "matched": int(total), "shown": len(found)})
    return {"total": int(total), "shown": len(found), "limit": limit, "time_zone": settings.timezone,
            "query": query.record(), "hint": hint, "incidents": found}
