"""Evaluate a rule set on a batch (vectorised over arrays) or on a stream (one event at a time, bounded state,
out-of-order events within a stated lateness). Both give the same alerts for the same events: the stream releases
an event only once every event up to its time has arrived (or the lateness has passed), then evaluates it against
exactly the window the batch would use.

Windows are (t - H, t]: an event counts itself, and events at the same instant count each other.
"""

from __future__ import annotations

import heapq
import operator
from datetime import datetime
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pyproj import Transformer

from lawful.rules.language import (AreaSpike, Compare, CountNear, InZone, Near, Rule, RuleSet, TimeOfDay, Weekday,
                                   WEEKDAYS)
from lawful.rules.zones import Zone

US_PER_HOUR = 3_600_000_000


@lru_cache(maxsize=256)
def _project(crs: str, lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)


@dataclass(frozen=True)
class Context:
    tz: ZoneInfo
    crs: str
    zones: tuple[Zone, ...] = ()

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return _project(self.crs, lon, lat)


@dataclass(frozen=True)
class ClauseResult:
    text: str
    weight: float
    held: bool
    value: str


@dataclass(frozen=True)
class Alert:
    rule: str
    version: int
    action: str
    event_id: str
    t: np.datetime64
    score: float
    threshold: float
    clauses: tuple[ClauseResult, ...]

    def key(self) -> tuple:
        return (self.t, self.event_id, self.rule)

    def record(self) -> dict:
        """The alert as plain data (the --json output, and what the gate stores)."""
        return {"rule": self.rule, "version": self.version, "action": self.action, "event": self.event_id,
                "time": str(self.t), "score": self.score, "threshold": self.threshold,
                "conditions": [{"when": c.text, "weight": c.weight, "held": c.held, "value": c.value}
                               for c in self.clauses]}

    def sentence(self, tz: ZoneInfo) -> str:
        when = pd.Timestamp(self.t, tz="UTC").tz_convert(tz).strftime("%Y-%m-%d %H:%M")
        parts = [f"{c.text} ({c.value}) {'yes' if c.held else 'no'}" + (f" +{c.weight:g}" if c.held else "")
                 for c in self.clauses]
        return (f"{self.rule} v{self.version} -> {self.action} on event {self.event_id} at {when}: score "
                f"{self.score:g} >= threshold {self.threshold:g}. " + "; ".join(parts) + ".")


# ---- the event table ---------------------------------------------------------------------------------------------
@dataclass
class Events:
    """Columns as arrays: id, t (datetime64[us], UTC), x, y (metres), and every field the rule set declares."""

    columns: dict[str, np.ndarray]
    _cache: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.columns["t"])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Events":
        cols = {c: frame[c].to_numpy() for c in frame.columns}
        cols["t"] = np.asarray(frame["t"].to_numpy(), dtype="datetime64[us]")
        cols["id"] = frame["id"].astype(str).to_numpy(dtype=object)
        cols["x"] = frame["x"].to_numpy(dtype=float)
        cols["y"] = frame["y"].to_numpy(dtype=float)
        return cls(cols)

    def row(self, i: int) -> dict:
        return {k: v[i] for k, v in self.columns.items()}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


def _local(events: Events, ctx: Context) -> pd.DatetimeIndex:
    return events.cached("local", lambda: pd.DatetimeIndex(events.columns["t"]).tz_localize("UTC").tz_convert(ctx.tz))


def _codes(events: Events, name: str) -> tuple[np.ndarray, dict]:
    """Text columns as integer codes: comparing codes is ~40x faster than comparing Python strings."""
    def make():
        codes, uniques = pd.factorize(events.columns[name], use_na_sentinel=True)
        return codes, {u: i for i, u in enumerate(uniques)}
    return events.cached(("codes", name), make)


def _in_window(minute: np.ndarray | int, c: TimeOfDay):
    if c.start < c.end:
        return (minute >= c.start) & (minute < c.end)
    return (minute >= c.start) | (minute < c.end)  # crosses midnight


# ---- batch -------------------------------------------------------------------------------------------------------
# One table for both engines: on arrays the operators are elementwise, on single values they are the plain ones.
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}

def held_batch(cond, events: Events, ctx: Context) -> np.ndarray:
    n = len(events)
    if isinstance(cond, Compare):
        col = events.columns.get(cond.field)
        if col is None:
            return np.zeros(n, dtype=bool)
        if cond.op == "contains":
            return events.cached(("contains", cond.field, cond.value),
                                 lambda: np.fromiter((cond.value in s if s is not None and s == s else False
                                                      for s in col), dtype=bool, count=n))
        if col.dtype.kind in "fiub":
            v = col if col.dtype.kind == "f" else col.astype(float)
            if cond.op == "in":
                return np.isin(v, np.asarray(cond.value, dtype=float))  # NaN is never in the list
            out = _COMPARE[cond.op](v, float(cond.value))
            return out & ~np.isnan(v) if cond.op == "!=" else out  # NaN fails every other comparison already
        codes, index = _codes(events, cond.field)
        lut = np.zeros(len(index) + 1, dtype=bool)  # a lookup table beats isin; the last slot is 'missing' (-1)
        lut[[index[v] for v in (cond.value if cond.op == "in" else (cond.value,)) if v in index]] = True
        hit = lut[codes]
        return ~hit & (codes >= 0) if cond.op == "!=" else hit
    if isinstance(cond, TimeOfDay):
        local = _local(events, ctx)
        minute = events.cached("minute", lambda: (local.hour * 60 + local.minute).to_numpy())
        return _in_window(minute, cond)
    if isinstance(cond, Weekday):
        wd = events.cached("weekday", lambda: _local(events, ctx).weekday.to_numpy())
        lut = np.zeros(7, dtype=bool)
        lut[list(cond.days)] = True
        return lut[wd]
    if isinstance(cond, InZone):
        return events.cached(("zone", cond.name, cond.kind), lambda: _zone_mask(cond, events, ctx))
    if isinstance(cond, Near):
        def distance():
            px, py = ctx.point(cond.lon, cond.lat)
            return np.hypot(events.columns["x"] - px, events.columns["y"] - py)
        return events.cached(("distance", cond.lon, cond.lat), distance) <= cond.metres
    if isinstance(cond, CountNear):
        return count_near(events, cond) >= cond.at_least
    if isinstance(cond, AreaSpike):
        count, base = area_spike(events, cond, ctx)
        return count > base
    raise TypeError(cond)


def _zone_mask(cond: InZone, events: Events, ctx: Context) -> np.ndarray:
    mask = np.zeros(len(events), dtype=bool)
    for z in ctx.zones:
        if z.name == cond.name or z.kind == cond.kind:
            mask |= z.contains(events.columns["x"], events.columns["y"])
    return mask


def _matching(events: Events, category: str | None) -> np.ndarray:
    if category is None:
        return np.ones(len(events), dtype=bool)
    codes, index = _codes(events, "category")
    return codes == index.get(category, -2)


def count_near(events: Events, cond: CountNear) -> np.ndarray:
    """For each event, how many matching events lie within cond.metres in (t - H, t]. Events go into square
    buckets of side r; for each of the 9 neighbouring buckets one sorted search finds the candidates in the time
    window, and only those few get a distance. No pairs are ever enumerated beyond them."""
    def make():
        n_all = len(events)
        t = events.columns["t"].astype(np.int64)
        x, y = events.columns["x"], events.columns["y"]
        r, h = cond.metres, int(cond.hours * US_PER_HOUR)
        m = np.flatnonzero(_matching(events, cond.category))
        counts = np.zeros(n_all, dtype=np.int64)
        if not len(m):
            return counts
        gx, gy = np.floor(x / r).astype(np.int64), np.floor(y / r).astype(np.int64)
        shift = 1 << 20  # bucket indices stay within +-2^20 (a million buckets of r each way)
        bucket = (gx + shift) * (shift * 2) + (gy + shift)
        keys, dense = np.unique(bucket[m], return_inverse=True)
        times = np.sort(t[m])

        def rank(q):  # how many matching events happened at or before q: order-preserving, dense
            return np.searchsorted(times, q, "right")

        stride = len(m) + 1
        combined = dense.astype(np.int64) * stride + rank(t[m])
        order = np.argsort(combined, kind="stable")
        combined, members = combined[order], m[order]
        r_hi, r_lo = rank(t), rank(t - h)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                q = (gx + dx + shift) * (shift * 2) + (gy + dy + shift)
                k = np.searchsorted(keys, q)
                found = (k < len(keys)) & (keys[np.minimum(k, len(keys) - 1)] == q)
                if not found.any():
                    continue
                rows = np.flatnonzero(found)
                base = k[rows].astype(np.int64) * stride
                lo = np.searchsorted(combined, base + r_lo[rows], "right")
                hi = np.searchsorted(combined, base + r_hi[rows], "right")
                n = hi - lo
                if not n.any():
                    continue
                who = np.repeat(rows, n)
                pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
                cand = members[pos]
                close = np.hypot(x[who] - x[cand], y[who] - y[cand]) <= r
                counts += np.bincount(who[close], minlength=n_all)
        return counts
    return events.cached(("near", cond.category, cond.metres, cond.hours), make)


def area_spike(events: Events, cond: AreaSpike, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(count of matching events in the area in (t - H, t], the P-th percentile of the area's matching daily counts
    over the B local days before the event's local day)."""
    def make():
        n = len(events)
        t = events.columns["t"].astype(np.int64)
        area_codes, _ = _codes(events, "area")
        m = _matching(events, cond.category) & (area_codes >= 0)
        h = int(cond.hours * US_PER_HOUR)
        local = _local(events, ctx)
        day = ((local.tz_localize(None).normalize() - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy()
        count = np.zeros(n, dtype=np.int64)
        base = np.zeros(n, dtype=float)
        mt, ma, md = t[m], area_codes[m], day[m]
        for a in np.unique(area_codes[area_codes >= 0]):
            rows = np.flatnonzero(area_codes == a)
            at = np.sort(mt[ma == a])
            count[rows] = np.searchsorted(at, t[rows], "right") - np.searchsorted(at, t[rows] - h, "right")
            days_a = md[ma == a]
            lo_day = day[rows].min() - cond.baseline_days
            hist = np.bincount(days_a - lo_day, minlength=day[rows].max() - lo_day + 1) if len(days_a) else \
                np.zeros(day[rows].max() - lo_day + 1, dtype=np.int64)
            windows = np.lib.stride_tricks.sliding_window_view(hist[: day[rows].max() - lo_day], cond.baseline_days)
            base[rows] = np.percentile(windows[day[rows] - lo_day - cond.baseline_days], cond.percentile, axis=1)
        return count, base
    return events.cached(("spike", cond.category, cond.hours, cond.percentile, cond.baseline_days), make)


@dataclass(frozen=True)
class Fired:
    rule: Rule
    index: np.ndarray  # positions of the events the rule fired on
    held: np.ndarray  # (fired events, clauses): which clauses held for each
    score: np.ndarray  # the fired events' scores


def match_batch(rs: RuleSet, events: Events, ctx: Context) -> list[Fired]:
    """The vectorised part: every clause over every event, scores, and where each rule fires. The sums run in
    clause order, as in the stream engine, so both compare exactly the same floating-point scores."""
    out = []
    for rule in rs.rules:
        score = np.zeros(len(events))
        held = []
        for c in rule.clauses:
            mask = held_batch(c.condition, events, ctx)
            held.append(mask)
            score += mask * c.weight  # faster than np.add(..., where=mask), which was tried
        idx = np.flatnonzero(score >= rule.threshold - 1e-12)
        # keep only the fired rows: holding every mask of every rule would cost a page-faulting GB on 1M events
        out.append(Fired(rule, idx, np.column_stack([h[idx] for h in held]), score[idx]))
    return out


def run_batch(rs: RuleSet, events: Events, ctx: Context) -> list[Alert]:
    """Every alert of every rule over the events, each explained, in (time, event, rule) order."""
    alerts, where = [], []
    t = events.columns["t"].astype(np.int64)
    for k, f in enumerate(match_batch(rs, events, ctx)):
        for j, i in enumerate(f.index):
            alerts.append(_alert(f.rule, events, int(i), f.held[j].tolist(), float(f.score[j]), ctx))
        where.append(np.column_stack([t[f.index], f.index, np.full(len(f.index), k)]))
    if not alerts:
        return []
    w = np.concatenate(where)
    return [alerts[j] for j in np.lexsort((w[:, 2], w[:, 1], w[:, 0]))]  # by time, then event, then rule


def _alert(rule: Rule, events: Events, i: int, held: list[bool], score: float, ctx: Context,
           windows: dict | None = None) -> Alert:
    ev = events.row(i) if isinstance(events, Events) else events
    results = tuple(ClauseResult(c.text, c.weight, h, _value(c.condition, ev, ctx, events, i, windows))
                    for c, h in zip(rule.clauses, held))
    return Alert(rule.id, rule.version, rule.action, str(ev["id"]), ev["t"], round(score, 9), rule.threshold, results)


def _value(cond, ev: dict, ctx: Context, events, i: int, windows: dict | None) -> str:
    """What the condition saw, for the explanation."""
    if isinstance(cond, Compare):
        v = ev.get(cond.field)
        if isinstance(v, (set, frozenset)):
            return ", ".join(sorted(v)) or "none"
        return "missing" if v is None or (isinstance(v, float) and v != v) else str(v)
    if isinstance(cond, (TimeOfDay, Weekday)):
        local = _local_dt(int(np.datetime64(ev["t"], "us").astype(np.int64)), ctx.tz)
        return local.strftime("%H:%M") if isinstance(cond, TimeOfDay) else WEEKDAYS[local.weekday()].title()
    if isinstance(cond, InZone):
        names = [z.name for z in ctx.zones if (z.name == cond.name or z.kind == cond.kind)
                 and z.contains(np.array([ev["x"]]), np.array([ev["y"]]))[0]]
        return ", ".join(names) or "outside"
    if isinstance(cond, Near):
        px, py = ctx.point(cond.lon, cond.lat)
        return f"{np.hypot(ev['x'] - px, ev['y'] - py):.0f} m"
    if isinstance(cond, CountNear):
        n = windows[("near", cond)] if windows else count_near(events, cond)[i]
        return f"{int(n)} in {cond.hours:g} h"
    if isinstance(cond, AreaSpike):
        if windows:
            n, b = windows[("spike", cond)]
        else:
            counts, baselines = area_spike(events, cond, ctx)
            n, b = counts[i], baselines[i]
        return f"{int(n)} vs p{cond.percentile:g} {b:.1f}"
    return ""


# ---- stream ------------------------------------------------------------------------------------------------------
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


def _local_dt(t_us: int, tz: ZoneInfo) -> datetime:
    """Local wall time of a UTC instant in microseconds: the standard library is 10x faster than pandas per call."""
    return datetime.fromtimestamp(t_us // 1_000_000, tz).replace(microsecond=t_us % 1_000_000)

class Stream:
    """One event at a time. State: events inside the longest window (per grid bucket), per-area recent times and
    daily counts for the baselines: bounded by the windows, not by the stream's length.

    An event is evaluated once the watermark (newest time seen - lateness) passes it, so events up to `lateness`
    late are placed where they belong. An event older than one already evaluated can no longer be placed: it is
    refused and counted in `too_late`.
    """

    def __init__(self, rs: RuleSet, ctx: Context, lateness_seconds: float = 0.0):
        self.rs, self.ctx = rs, ctx
        self.lateness = int(lateness_seconds * 1_000_000)
        self.pending: list = []  # heap of (t, arrival, event)
        self.arrivals = 0
        self.max_t: int | None = None
        self.released_until: int | None = None  # every event with t < this has been evaluated
        self.too_late = 0
        near = [c.condition for r in rs.rules for c in r.clauses if isinstance(c.condition, CountNear)]
        spikes = [c.condition for r in rs.rules for c in r.clauses if isinstance(c.condition, AreaSpike)]
        self.near, self.spikes = near, spikes
        self.r = max((c.metres for c in near), default=1.0)
        self.h = max((int(c.hours * US_PER_HOUR) for c in near + spikes), default=0)
        self.buckets: dict[tuple[int, int], deque] = {}
        self.by_time: deque = deque()  # (t, bucket) for eviction
        self.area_times: dict[str, deque] = {}
        self.area_days: dict[tuple[str, str | None], dict[int, int]] = {}
        self.points = {c: ctx.point(c.lon, c.lat) for r in rs.rules for c in (cl.condition for cl in r.clauses)
                       if isinstance(c, Near)}

    def push(self, event: dict) -> list[Alert]:
        t = int(np.datetime64(event["t"], "us").astype(np.int64))
        if self.released_until is not None and t < self.released_until:
            self.too_late += 1
            return []
        heapq.heappush(self.pending, (t, self.arrivals, event))
        self.arrivals += 1
        self.max_t = t if self.max_t is None else max(self.max_t, t)
        return self._release(self.max_t - self.lateness)

    def flush(self) -> list[Alert]:
        return self._release(None)

    @property
    def state_size(self) -> int:
        return len(self.by_time) + sum(len(d) for d in self.area_times.values()) + len(self.pending)

    def _release(self, watermark: int | None) -> list[Alert]:
        batch = []
        while self.pending and (watermark is None or self.pending[0][0] <= watermark):
            batch.append(heapq.heappop(self.pending))
        # simultaneous events count each other: release an instant only once all of it has arrived
        if watermark is not None:
            while batch and batch[-1][0] == watermark:
                heapq.heappush(self.pending, batch.pop())
        if not batch:
            return []
        self.released_until = batch[-1][0] + 1
        self._evict(batch[0][0] - self.h)
        for t, _, ev in batch:
            self._add(t, ev)
        alerts = []
        for t, _, ev in batch:
            alerts += self._evaluate(t, ev)
        return alerts

    def _bucket(self, x: float, y: float) -> tuple[int, int]:
        return int(np.floor(x / self.r)), int(np.floor(y / self.r))

    def _add(self, t: int, ev: dict) -> None:
        if self.near:
            b = self._bucket(ev["x"], ev["y"])
            self.buckets.setdefault(b, deque()).append((t, ev["x"], ev["y"], ev.get("category")))
            self.by_time.append((t, b))
        area = ev.get("area")
        if self.spikes and area is not None and area == area:
            self.area_times.setdefault(area, deque()).append((t, ev.get("category")))
            day = self._day(t)
            for c in self.spikes:
                if c.category is None or ev.get("category") == c.category:
                    days = self.area_days.setdefault((area, c.category), {})
                    days[day] = days.get(day, 0) + 1

    def _evict(self, cutoff: int) -> None:
        while self.by_time and self.by_time[0][0] <= cutoff:
            _, b = self.by_time.popleft()
            d = self.buckets[b]
            d.popleft()
            if not d:
                del self.buckets[b]
        for area, d in list(self.area_times.items()):
            while d and d[0][0] <= cutoff:
                d.popleft()
            if not d:
                del self.area_times[area]

    def _day(self, t: int) -> int:
        return _local_dt(t, self.ctx.tz).date().toordinal() - _EPOCH_ORDINAL  # days since 1970-01-01, local

    def _evaluate(self, t: int, ev: dict) -> list[Alert]:
        ev = dict(ev, t=np.datetime64(t, "us"))
        local = _local_dt(t, self.ctx.tz)
        windows: dict = {}
        alerts = []
        for rule in self.rs.rules:
            held = [self._held(c.condition, ev, t, local, windows) for c in rule.clauses]
            score = sum(c.weight for c, h in zip(rule.clauses, held) if h)
            if score >= rule.threshold - 1e-12:
                alerts.append(_alert(rule, ev, 0, held, score, self.ctx, windows))
        return alerts

    def _held(self, cond, ev: dict, t: int, local: datetime, windows: dict) -> bool:
        if isinstance(cond, Compare):
            v = ev.get(cond.field)
            if v is None or (isinstance(v, float) and v != v):
                return False  # a missing value satisfies nothing, as in the batch
            if cond.op == "contains":
                return cond.value in v
            if cond.op == "in":
                return v in cond.value
            return bool(_COMPARE[cond.op](v, cond.value))
        if isinstance(cond, TimeOfDay):
            return bool(_in_window(local.hour * 60 + local.minute, cond))
        if isinstance(cond, Weekday):
            return local.weekday() in cond.days
        if isinstance(cond, InZone):
            return any((z.name == cond.name or z.kind == cond.kind)
                       and z.contains(np.array([ev["x"]]), np.array([ev["y"]]))[0] for z in self.ctx.zones)
        if isinstance(cond, Near):
            px, py = self.points[cond]
            return bool(np.hypot(ev["x"] - px, ev["y"] - py) <= cond.metres)
        if isinstance(cond, CountNear):
            key = ("near", cond)
            if key not in windows:
                windows[key] = self._count_near(cond, ev, t)
            return windows[key] >= cond.at_least
        if isinstance(cond, AreaSpike):
            key = ("spike", cond)
            if key not in windows:
                windows[key] = self._spike(cond, ev, t)
            n, b = windows[key]
            return n > b
        raise TypeError(cond)

    def _count_near(self, cond: CountNear, ev: dict, t: int) -> int:
        h = int(cond.hours * US_PER_HOUR)
        bx, by = self._bucket(ev["x"], ev["y"])
        reach = int(np.ceil(cond.metres / self.r))
        n = 0
        for dx in range(-reach, reach + 1):
            for dy in range(-reach, reach + 1):
                for tj, xj, yj, cat in self.buckets.get((bx + dx, by + dy), ()):
                    if t - h < tj <= t and (cond.category is None or cat == cond.category) \
                            and np.hypot(ev["x"] - xj, ev["y"] - yj) <= cond.metres:  # the batch's formula
                        n += 1
        return n

    def _spike(self, cond: AreaSpike, ev: dict, t: int) -> tuple[int, float]:
        area = ev.get("area")
        if area is None or area != area:
            return 0, 0.0
        h = int(cond.hours * US_PER_HOUR)
        n = sum(1 for tj, cat in self.area_times.get(area, ()) if t - h < tj <= t
                and (cond.category is None or cat == cond.category))
        today = self._day(t)
        days = self.area_days.get((area, cond.category), {})
        for d in [d for d in days if d < today - cond.baseline_days]:
            del days[d]  # bounded: at most baseline_days + 1 days per area
        hist = [days.get(d, 0) for d in range(today - cond.baseline_days, today)]
        return n, float(np.percentile(hist, cond.percentile))
