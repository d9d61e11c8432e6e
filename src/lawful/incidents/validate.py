"""Turn a raw table into incident records: parse, check, project. Vectorised; every refusal is a located Problem.

Nothing here touches the store. Checks are column-wide array operations so a quarter of a million rows take
well under a second; a row may collect several problems, and any problem keeps the whole row out.

A file read in chunks is prepared a chunk at a time with one `FileState` carried from chunk to chunk: what it
must know of the rows already seen (each key's first row, for duplicate keys; how often each content hash came,
for the order among identical rows) as sorted runs of 128-bit hashes (`SeenKeys`, spilled to files when large),
and the notes' counts. The
result is the same as preparing the whole file at once.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS, Transformer

from lawful.errors import InputError, StoreError
from lawful.privacy.pseudonyms import pseudonym
from lawful.incidents.mapping import Mapping, TimeField
from lawful.incidents.readers import Problem, RawTable
from lawful.settings import Settings

RECORD_COLUMNS = (
    "source", "source_key", "category", "occurred_at", "occurred_from", "occurred_to", "reported_at",
    "lat", "lon", "x", "y", "area_code", "premises_type", "attributes", "classification", "ingested_at",
    "retention_until",
)
OLDEST_PLAUSIBLE = pd.Timestamp("1900-01-01", tz="UTC")
_TRANSFORMERS: dict[tuple[str, str], Transformer] = {}


def transformer(src: str, dst: str) -> Transformer:
    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)
    return _TRANSFORMERS[key]


_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)
_HASH_KEYS = ("lawful-keys-hi-1", "lawful-keys-lo-2")  # pandas' hash_array takes a 16-byte key


def _release(run: dict) -> None:
    """A spilled run's pages out of this process's memory: the kernel keeps them in its page cache (written back
    first where changed: the mapping is shared) and maps them in again when they are next read."""
    for arr in run.values():
        m = getattr(arr, "_mmap", None) if isinstance(arr, np.memmap) else None
        if m is not None:
            m.madvise(mmap.MADV_DONTNEED)


class SeenKeys:
    """The keys seen so far in a file, as sorted 64-bit hashes with a second 64-bit hash to tell apart the rare
    keys whose first hashes collide (kept aside in a dict), and one number per key: its first row (`first`), or
    how many times it came (`count`). 32 bytes a key.

    Kept as sorted runs, like a log-structured merge tree: each chunk's new keys become a run, and a run is merged
    with the one before it once that one is at most twice its size, so the work grows as n log n (inserting every
    chunk into one sorted array grew as n squared). A run of `spill_keys` keys or more is written to a file in a
    private temporary folder and read through the kernel's page cache, so the memory a load holds stays bounded
    whatever the number of keys: after each chunk the files' pages are handed back to the kernel (they stay in
    its cache, not in the load's memory). Runs stop merging at `max_run_keys`, beyond which a chunk looks in each."""

    SPILL_KEYS = 1 << 19  # 16 MiB of keys: smaller runs stay in memory (together under twice this)
    MAX_RUN_KEYS = 1 << 21  # 64 MiB files: a merge maps two runs and writes one

    def __init__(self, spill_keys: int | None = None, max_run_keys: int | None = None):
        self.spill_keys = spill_keys or self.SPILL_KEYS
        self.max_run_keys = max_run_keys or self.MAX_RUN_KEYS
        self.runs: list[dict[str, np.ndarray]] = []  # oldest (largest) first; a key's hi is in at most one run
        self.aside: dict[tuple[int, int], list[int]] = {}  # (hi, lo) -> [first, count], for colliding hi
        self._folder: str | None = None
        self._files = 0

    def __len__(self) -> int:
        return sum(len(r["hi"]) for r in self.runs) + len(self.aside)

    @property
    def spilled(self) -> int:
        """Keys held in files rather than in memory."""
        return sum(len(r["hi"]) for r in self.runs if isinstance(r["hi"], np.memmap))

    def observe(self, keys: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of these keys (the next rows of the file, in order): the row where the key first came, and how
        many times it came before. Then remembers them."""
        codes, uniques = pd.factorize(np.asarray(keys, dtype=object), use_na_sentinel=False)
        uniq = np.asarray(uniques, dtype=object)
        hi = pd.util.hash_array(uniq, hash_key=_HASH_KEYS[0], categorize=False)
        lo = pd.util.hash_array(uniq, hash_key=_HASH_KEYS[1], categorize=False)
        return self._observe(codes, hi, lo, rows)

    def observe_digests(self, digests: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`observe` for keys that are already uniform hashes: an (n, 10) array of bytes (80-bit BLAKE2b digests),
        whose first 8 bytes serve as the first hash and the last 2 as the second, so (hi, lo) is the digest itself
        and nothing is hashed again. A file's chunks go all through `observe` or all through this."""
        hi_all = np.ascontiguousarray(digests[:, :8]).view("<u8").ravel()
        lo_all = np.ascontiguousarray(digests[:, 8:10]).view("<u2").ravel().astype(np.uint64)
        codes, hi = pd.factorize(hi_all, use_na_sentinel=False)
        n_u = len(hi)
        first_idx = np.empty(n_u, dtype=np.int64)
        first_idx[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        if (lo_all != lo_all[first_idx][codes]).any():  # two digests of this chunk share their first 8 bytes
            pairs = pd.MultiIndex.from_arrays([hi_all, lo_all])
            codes, _ = pd.factorize(pairs, use_na_sentinel=False)
            first_idx = np.empty(codes.max() + 1, dtype=np.int64)
            first_idx[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
            hi = hi_all[first_idx]
        return self._observe(np.asarray(codes), np.asarray(hi, dtype=np.uint64), lo_all[first_idx], rows)

    def _observe(self, codes: np.ndarray, hi: np.ndarray, lo: np.ndarray, rows: np.ndarray):
        n_u = len(hi)
        ordinal_local = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        first_idx = np.empty(n_u, dtype=np.int64)
        first_idx[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the last write wins: each code's first row
        first_local = rows[first_idx].astype(np.int64)
        counts = np.bincount(codes, minlength=n_u).astype(np.int64)
        hi_match = np.zeros(n_u, dtype=bool)
        found = np.zeros(n_u, dtype=bool)
        prior_first = first_local.copy()
        prior_count = np.zeros(n_u, dtype=np.int64)
        for run in self.runs:
            rhi = run["hi"]
            pos = np.searchsorted(rhi, hi)
            at = np.minimum(pos, len(rhi) - 1)
            match = (pos < len(rhi)) & (rhi[at] == hi)
            if not match.any():
                _release(run)
                continue
            hi_match |= match
            hit = np.flatnonzero(match & (run["lo"][at] == lo))
            if len(hit):
                where = at[hit]
                prior_first[hit] = run["first"][where]
                prior_count[hit] = run["count"][where]
                run["count"][where] += counts[hit]  # distinct keys of this chunk: distinct places
                found[hit] = True
            _release(run)  # one file's pages in memory at a time, whatever the number of files
        for k in np.flatnonzero(hi_match & ~found):  # a first-hash collision: the key is told apart by the second
            kept = self.aside.get((int(hi[k]), int(lo[k])))
            if kept:
                prior_first[k], prior_count[k] = kept
                kept[1] += int(counts[k])
            else:
                self.aside[(int(hi[k]), int(lo[k]))] = [int(first_local[k]), int(counts[k])]
        new = ~hi_match
        if new.any():
            idx = np.flatnonzero(new)
            idx = idx[np.argsort(hi[idx], kind="stable")]
            repeat = np.zeros(len(idx), dtype=bool)
            repeat[1:] = hi[idx][1:] == hi[idx][:-1]
            for k in idx[repeat]:  # two new keys of this chunk share a first hash
                self.aside[(int(hi[k]), int(lo[k]))] = [int(first_local[k]), int(counts[k])]
            idx = idx[~repeat]
            self.runs.append({"hi": hi[idx].astype(np.uint64), "lo": lo[idx].astype(np.uint64),
                              "first": first_local[idx], "count": counts[idx]})
            self._compact()
        for run in self.runs[-2:]:  # what a merge or a spill just wrote
            _release(run)
        return prior_first[codes], prior_count[codes] + ordinal_local

    def _compact(self) -> None:
        """Merge the newest run into the one before while that one is at most twice its size (and the result
        within max_run_keys); a run of spill_keys or more lives in a file."""
        runs = self.runs
        while len(runs) >= 2:
            a, b = runs[-2], runs[-1]
            na, nb = len(a["hi"]), len(b["hi"])
            if na > 2 * nb or na + nb > self.max_run_keys:
                break
            into = np.searchsorted(a["hi"], b["hi"]) + np.arange(nb)  # b's places in the merged order
            from_a = np.ones(na + nb, dtype=bool)
            from_a[into] = False
            merged = {}
            for name in ("hi", "lo", "first", "count"):  # a column at a time, its pages handed back after
                out = self._array(na + nb, a[name].dtype)
                out[from_a] = a[name]
                out[into] = b[name]
                merged[name] = out
                for part in (a, b, merged):
                    _release({name: part[name]})
            runs[-2:] = [merged]
            for run in (a, b):
                self._discard(run)
        if runs and len(runs[-1]["hi"]) >= self.spill_keys and not isinstance(runs[-1]["hi"], np.memmap):
            run = runs[-1]
            runs[-1] = {name: self._file_copy(arr) for name, arr in run.items()}

    def _array(self, n: int, dtype) -> np.ndarray:
        if n < self.spill_keys:
            return np.empty(n, dtype=dtype)
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="lawful-keys-")  # 0700: the keys' hashes are the load's own
            weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        self._files += 1
        path = f"{self._folder}/{self._files}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            try:  # the blocks taken now: a full disk is an error here, never a SIGBUS when a page is written
                os.posix_fallocate(fd, 0, n * np.dtype(dtype).itemsize)
            finally:
                os.close(fd)
            return np.memmap(path, dtype=dtype, mode="r+", shape=(n,))
        except OSError as exc:
            raise StoreError(f"The keys this load has seen ({len(self):,} so far) go to files in {self._folder}, and "
                             f"that failed ({exc.strerror or exc}); nothing was committed.",
                             "give the temporary folder room (about 32 bytes a row of the file), or point TMPDIR "
                             "at one that has it, and load again.") from None

    def _file_copy(self, arr: np.ndarray) -> np.ndarray:
        out = self._array(len(arr), arr.dtype)
        out[:] = arr
        return out

    @staticmethod
    def _discard(run: dict) -> None:
        """A merged run's files go (their pages with the last reference; the mapping cannot be closed under it)."""
        for arr in run.values():
            if isinstance(arr, np.memmap) and arr.filename:
                os.unlink(arr.filename)


@dataclass
class FileState:
    """What preparing one chunk must know of the chunks before it (see the module's text)."""

    keys: SeenKeys = field(default_factory=SeenKeys)
    note_counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (time field, kind) -> rows

    def count(self, name: str, kind: str, n: int) -> None:
        self.note_counts[(name, kind)] = self.note_counts.get((name, kind), 0) + n

    def notes(self) -> list[str]:
        out = []
        for (name, kind), n in self.note_counts.items():
            if kind == "skipped":
                out.append(f"{n} {name} times fell in the hour skipped by daylight saving and were moved to the "
                           "first valid minute after it.")
            else:
                out.append(f"{n} {name} times fell in the hour repeated when daylight saving ends and were read "
                           "as the first (daylight-time) one.")
        return out


@dataclass
class Prepared:
    records: pd.DataFrame  # the good rows, columns RECORD_COLUMNS, ready for the store
    problems: list[Problem]  # every problem found, in row order
    rows_read: int  # rows in the file, good and bad
    bad_rows: int
    notes: list[str] = field(default_factory=list)  # facts about the data a user should know (not errors)


class _Checks:
    """Collects problems column by column; a row with any problem is bad."""

    def __init__(self, raw: RawTable):
        self.rows = raw.row_numbers
        self.bad = np.zeros(len(raw.frame), dtype=bool)
        self.found: list[tuple[np.ndarray, str, np.ndarray, object]] = []

    def add(self, mask: np.ndarray | pd.Series, field_name: str, values: pd.Series, reason) -> None:
        """reason is a string, a function of the offending value giving one, or a Series of per-row reasons."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.bad |= mask
            idx = np.flatnonzero(mask)
            if isinstance(reason, pd.Series):
                reason = np.asarray(reason, dtype=object)[idx].tolist()
            self.found.append((idx, field_name, np.asarray(values, dtype=object)[idx], reason))

    def problems(self, extra: list[Problem]) -> list[Problem]:
        out = list(extra)
        for idx, field_name, values, reason in self.found:
            for j, (i, v) in enumerate(zip(idx, values)):
                text = "" if v is None else str(v)
                why = reason[j] if isinstance(reason, list) else reason(text) if callable(reason) else reason
                out.append(Problem(int(self.rows[i]), field_name, text, why))
        out.sort(key=lambda p: p.row)
        return out


def prepare(raw: RawTable, mapping: Mapping, settings: Settings, file_label: str, now: datetime | None = None,
            pseudonym_key: bytes | None = None, state: FileState | None = None) -> Prepared:
    """Check and convert every row; the good ones come back as store records, the bad ones as problems. For a
    file read in chunks, give every chunk the same `state`: its notes then count the whole file so far."""
    now = now or datetime.now(timezone.utc)
    frame, n = raw.frame, len(raw.frame)
    checks = _Checks(raw)
    state = state if state is not None else FileState()
    out: dict[str, object] = {}

    out["source_key"] = _source_keys(frame, mapping, file_label, checks, state.keys)
    out["category"] = _categories(frame, mapping, checks)
    times = {name: _parse_time(frame, name, tf, mapping.timezone, checks, state) for name, tf in mapping.times.items()}
    _check_time_order(times, now, checks)
    if "occurred_at" not in times:  # known only to a range: the midpoint stands for it, the range is kept
        times["occurred_at"] = times["occurred_from"] + (times["occurred_to"] - times["occurred_from"]) / 2
    for name in ("occurred_at", "occurred_from", "occurred_to", "reported_at"):
        out[name] = times.get(name, pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]"))
    out.update(_coordinates(frame, mapping, settings, checks))
    for name in ("area_code", "premises_type"):
        col = mapping.fields.get(name)
        out[name] = frame[col].where(frame[col] != "", None) if col else None
    out["attributes"] = _attributes(frame, mapping, pseudonym_key)

    ingested = pd.Timestamp(now).tz_convert("UTC")
    records = pd.DataFrame({k: out[k] for k in ("source_key", "category", "occurred_at", "occurred_from", "occurred_to",
                                                "reported_at", "lat", "lon", "x", "y", "area_code", "premises_type",
                                                "attributes")}, index=frame.index)
    records.insert(0, "source", mapping.source)
    records["classification"] = mapping.classification
    records["ingested_at"] = ingested
    days = records["category"].map({c: mapping.retention_by_category.get(c, mapping.retention_days)
                                    for c in pd.unique(records["category"])})
    records["retention_until"] = records["occurred_at"] + pd.to_timedelta(days.astype("float64"), unit="D")
    good = ~checks.bad
    problems = checks.problems(raw.problems)
    return Prepared(
        records=records.loc[good, list(RECORD_COLUMNS)].reset_index(drop=True),
        problems=problems,
        rows_read=n + len({p.row for p in raw.problems}),
        bad_rows=len({p.row for p in problems}),
        notes=state.notes(),
    )


def _source_keys(frame: pd.DataFrame, m: Mapping, file_label: str, checks: _Checks, seen: SeenKeys) -> pd.Series:
    if m.key_column:
        keys = frame[m.key_column]
        checks.add(keys == "", m.key_column, keys, "empty key; every row needs its own id")
        first, before = seen.observe(keys, checks.rows)  # this chunk's rows against every row before them
        dup = (before > 0) & (keys != "").to_numpy()
        if dup.any():
            first_row = pd.Series(first, index=frame.index)
            checks.add(dup, m.key_column, keys,
                       "duplicate key '" + keys + "'; first seen at row " + first_row.astype("str"))
        return keys
    # No id in the source: a row is known by its content. Identical rows are distinct records (e.g. several
    # offences of one event), told apart by their order among identical rows within this file.
    parts = [pa.array(frame[c], type=pa.large_string()) for c in m.key_hash]
    joined = pc.cast(pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string())), pa.large_binary())
    blake2b = hashlib.blake2b  # one call per row is the only per-row Python left: the digest's bytes, hex by numpy
    raw = np.frombuffer(b"".join([blake2b(v, digest_size=10).digest() for v in joined.to_pylist()]),
                        dtype=np.uint8).reshape(-1, 10)
    _, ordinal = seen.observe_digests(raw, checks.rows)
    hexed = pc.cast(pa.array(_HEX[raw].reshape(len(raw), 20).view("S20").ravel(), type=pa.binary()), pa.string())
    keys = pc.binary_join_element_wise(pa.scalar(file_label), hexed,
                                       pc.cast(pa.array(ordinal, type=pa.int64()), pa.string()), ":")
    return pd.Series(keys.to_pylist(), index=frame.index, dtype=object)


def _categories(frame: pd.DataFrame, m: Mapping, checks: _Checks) -> pd.Series:
    col = m.fields["category"]
    cats = frame[col]
    if m.category_rename:
        cats = cats.replace(m.category_rename)
    checks.add(cats == "", col, cats, "empty category")
    if m.categories_allowed is not None:
        allowed = sorted(m.categories_allowed)
        unknown = ~cats.isin(m.categories_allowed) & (cats != "")
        checks.add(unknown, col, frame[col],
                   lambda v: f"unknown category {v!r}; the mapping allows {allowed} (add it to [categories] allowed, "
                             "or rename it in [categories] rename)")
    return cats


def _parse_time(frame: pd.DataFrame, name: str, tf: TimeField, tz: str, checks: _Checks, state: FileState) -> pd.Series:
    text = frame[tf.column]
    empty = text == ""
    required = name == "occurred_at" or name in ("occurred_from", "occurred_to")
    if required:
        checks.add(empty, tf.column, text, f"no {name.replace('_', ' ')}")
    fmt = tf.format or "ISO8601"
    aware = None  # values that carry their own UTC offset, when the column mixes offsets (or offsets and none)
    try:
        parsed = pd.to_datetime(text.where(~empty, None), format=fmt, errors="coerce")
    except ValueError as exc:
        if "timezone" not in str(exc).lower() and "time zone" not in str(exc).lower():  # an unusable format string
            raise InputError(f"Column {tf.column!r} cannot be read as times with format {fmt!r}: {exc}.",
                             "use one consistent format, and give it as format = \"...\" in the mapping.") from None
        # Mixed offsets: an export that writes each time with its offset changes it at every daylight-saving change
        # (-05:00 in winter, -04:00 in summer). Each value with an offset is read as the instant it names; the
        # others as wall-clock times in the jurisdiction's zone, as always.
        has_offset = text.str.contains(_OFFSET, regex=True) & ~empty
        parsed = pd.to_datetime(text.where(~empty & ~has_offset, None), format=fmt, errors="coerce")
        aware = pd.to_datetime(text.where(has_offset, None), format=fmt, errors="coerce", utc=True)
        aware = aware.where(has_offset)
        if parsed.dt.tz is not None:  # cannot happen (no offsets left), but never mix the two below
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    unparsed = (parsed.isna() & ~empty) if aware is None else (parsed.isna() & aware.isna() & ~empty)
    checks.add(unparsed, tf.column, text, lambda v: f"not a real date and time in the format {fmt!r}")
    if aware is not None:
        local = _parse_wall(parsed, frame, name, tf, tz, checks, state, empty)
        return local.where(aware.isna(), aware.astype("datetime64[us, UTC]")).astype("datetime64[us, UTC]")
    return _parse_wall(parsed, frame, name, tf, tz, checks, state, empty)


# a time of day followed by its UTC offset, at the end of the value ("22:15:00-05:00", "22:15Z"; not "2019-03-01")
_OFFSET = r"\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"


def _parse_wall(parsed: pd.Series, frame: pd.DataFrame, name: str, tf: TimeField, tz: str, checks: _Checks,
                state: FileState, empty: pd.Series) -> pd.Series:
    """Parsed times to UTC: aware ones as they are; wall-clock ones in the zone `tz` (with the hour column, if any)."""
    if parsed.dt.tz is not None:
        local = parsed.dt.tz_convert(tz)
        if tf.hour_column is None:
            return local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        wall = local.dt.tz_localize(None).dt.normalize()
    else:
        wall = parsed.dt.normalize() if tf.hour_column else parsed
    if tf.hour_column:
        hours = pd.Series(_numbers(frame[tf.hour_column]), index=frame.index)
        bad_hour = ~hours.between(0, 23) | (hours % 1 != 0)
        checks.add(bad_hour & ~empty, tf.hour_column, frame[tf.hour_column], "not an hour from 0 to 23")
        wall = wall + pd.to_timedelta(hours.where(~bad_hour, 0), unit="h")
    wall = wall.astype("datetime64[us]")
    # Local wall-clock times: an hour skipped by daylight saving moves forward; a repeated hour is read as the
    # first (daylight) one. Both are counted so the load summary can say how many were affected.
    ambiguous_first = np.ones(len(wall), dtype=bool)
    localized = wall.dt.tz_localize(tz, ambiguous=ambiguous_first, nonexistent="NaT")
    skipped = localized.isna() & wall.notna()
    if skipped.any():
        localized = wall.dt.tz_localize(tz, ambiguous=ambiguous_first, nonexistent="shift_forward")
        state.count(name, "skipped", int(skipped.sum()))
    repeated = wall.notna() & (localized != wall.dt.tz_localize(tz, ambiguous=~ambiguous_first, nonexistent="shift_forward"))
    if repeated.any():
        state.count(name, "repeated", int(repeated.sum()))
    return localized.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _check_time_order(times: dict[str, pd.Series], now: datetime, checks: _Checks) -> None:
    tomorrow = pd.Timestamp(now).tz_convert("UTC") + pd.Timedelta(days=1)
    for name, ts in times.items():
        checks.add(ts > tomorrow, name, ts, "is in the future")
        checks.add(ts < OLDEST_PLAUSIBLE, name, ts, "is before 1900, which usually means a placeholder date")
    if "occurred_from" in times and "occurred_to" in times:
        checks.add(times["occurred_from"] > times["occurred_to"], "occurred_to", times["occurred_to"],
                   "is before occurred_from; the range is reversed")
    start = times.get("occurred_from", times.get("occurred_at"))
    if "reported_at" in times and start is not None:
        checks.add(times["reported_at"] < start - pd.Timedelta(days=1), "reported_at", times["reported_at"],
                   "is more than a day before the incident occurred")


def _numbers(col: pd.Series) -> np.ndarray:
    """Text to float, NaN where it is not a number: Arrow's parser when every value is one (the usual case, many
    times faster), pandas' when some are not."""
    try:
        return pc.cast(pa.array(col, type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)


def _coordinates(frame: pd.DataFrame, m: Mapping, s: Settings, checks: _Checks) -> dict[str, np.ndarray]:
    a_col, b_col = (m.fields["x"], m.fields["y"]) if m.uses_xy else (m.fields["lon"], m.fields["lat"])
    a, b = _numbers(frame[a_col]), _numbers(frame[b_col])
    for col, v in ((a_col, a), (b_col, b)):
        checks.add(~np.isfinite(v), col, frame[col], "not a number")
    if m.uses_xy:
        lon, lat = transformer(m.crs, "EPSG:4326").transform(a, b)
    else:
        lon, lat = transformer(m.crs, "EPSG:4326").transform(a, b) if m.crs != "EPSG:4326" else (a, b)
    min_lon, min_lat, max_lon, max_lat = m.bounds or s.bounds
    finite = np.isfinite(lon) & np.isfinite(lat)
    outside = finite & ((lon < min_lon) | (lon > max_lon) | (lat < min_lat) | (lat > max_lat))
    where = f"outside the jurisdiction's bounds (lon {min_lon}..{max_lon}, lat {min_lat}..{max_lat})"
    checks.add(outside, f"{a_col}/{b_col}", frame[b_col] + "," + frame[a_col] if not m.uses_xy else frame[a_col] + "," + frame[b_col],
               lambda v: f"{where}; a 0,0 or swapped pair usually means a missing or mistyped location")
    x, y = transformer("EPSG:4326", s.crs).transform(lon, lat)
    return {"lon": lon, "lat": lat, "x": x, "y": y}


def _attributes(frame: pd.DataFrame, m: Mapping, key: bytes | None):
    if not (m.extra_keep or m.extra_pseudonymise):
        return None
    kept = frame[list(m.extra_keep)]
    rows = [dict(zip(m.extra_keep, row)) for row in kept.itertuples(index=False, name=None)]
    if m.extra_pseudonymise:
        if key is None:
            raise ValueError("the mapping pseudonymises fields but no key was given")
        for col in m.extra_pseudonymise:  # the identifier itself is never stored, only its keyed pseudonym
            for row, value in zip(rows, frame[col]):
                row[col] = pseudonym(key, value) if value else None
    return rows
