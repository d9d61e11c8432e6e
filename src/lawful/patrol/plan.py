"""Patrol allocation over an accepted forecast's places: which places get how many visits, by which unit, in which
order. Pure: numpy and SciPy only, never the database, the web or governance.

The objective is the expected share of the forecast's risk covered, with diminishing returns per place:

    covered(place, k visits) = risk(place) * (1 - (1 - p) ** k)        (p = first_visit_share, default 0.5)

so the first visit of about 15 minutes covers half of a place's risk, the second half of what is left, and so on.
The shape (concave, saturating) follows Koper (1995): a stop of about 10-16 minutes deters for a while afterwards,
with diminishing returns beyond about 15 minutes, so further presence in the same shift is worth less than the first
visit; Telep, Mitchell & Weisburd (2014) spread 12-16 minute visits over the shift. The value of p is a modelling
assumption, stated on the card and in every plan, not a measured effect.

The optimum is an integer program solved by SciPy's `milp` (HiGHS):

    maximise   sum_{i,k} gain[i,k] * y[i,k]  -  eps * minutes driven (a tie-breaker)
    subject to sum_u x[u,i] = sum_k y[i,k]                 visits of place i (y[i,k]: place i gets a k-th visit)
               sum_i x[u,i] * (visit + 2 * drive[u,i]) <= free minutes of unit u
               sum_i x[u,i] <= unit u's visit limit
               sum_{i in area a} v_i <= max_area_share * sum_i v_i     (policy: no neighbourhood takes more)
               y[i,k] binary for k <= max_visits_per_place              (policy: visits per place)

A visit is priced as an out-and-back trip from the unit's start point, an upper bound on the driving of any route
through the same places (triangle inequality), so every route built afterwards fits the unit's time. Each place is
offered to its `candidates` nearest units only. Distances are Manhattan (a street grid) at `speed_kmh`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix


@dataclass(frozen=True)
class Config:
    """The approved planning configuration (a card's [model] table) and its policy limits."""

    visit_min: float = 15.0
    first_visit_share: float = 0.5  # p in covered = risk * (1 - (1 - p) ** k)
    max_visits_per_place: int = 3  # policy: per place per shift
    max_area_share: float = 0.3  # policy: of all visits, in any one neighbourhood
    patrol_share: float = 0.4  # of a shift free for directed patrol
    speed_kmh: float = 30.0
    candidates: int = 2  # nearest units offered each place
    time_limit_s: float = 5.0
    mip_rel_gap: float = 0.01  # HiGHS stops within 1% of the proven optimum

    FIELDS = ("visit_min", "first_visit_share", "max_visits_per_place", "max_area_share", "patrol_share",
              "speed_kmh", "candidates")
    BOUNDS = {"visit_min": (1, 120), "first_visit_share": (0.01, 1), "max_visits_per_place": (1, 20),
              "max_area_share": (0.01, 1), "patrol_share": (0.01, 1), "speed_kmh": (1, 150), "candidates": (1, 100)}

    @classmethod
    def from_table(cls, table: dict) -> "Config":
        """Check a card's [model] table (only the fields above; numbers within their bounds)."""
        unknown = sorted(set(table) - set(cls.FIELDS) - {"planner"})
        if unknown:
            raise ValueError(f"unknown planning setting(s) {', '.join(unknown)}; use {', '.join(cls.FIELDS)}")
        kw = {}
        for k in cls.FIELDS:
            if k in table:
                v = table[k]
                lo, hi = cls.BOUNDS[k]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                    raise ValueError(f"planning setting {k} = {v!r} is not a number from {lo} to {hi}")
                kw[k] = int(v) if k in ("max_visits_per_place", "candidates") else float(v)
        return cls(**kw)

    def table(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}


def config_sha256(table: dict) -> str:
    """The SHA-256 of a planning configuration as approved (canonical JSON of the card's [model] table)."""
    return hashlib.sha256(json.dumps(table, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Unit:
    name: str
    x: float  # start point, metres in the projected CRS
    y: float
    max_visits: int | None = None


@dataclass(frozen=True)
class Places:
    cell: list[str]  # labels, "103,46"
    x: np.ndarray  # centres, metres
    y: np.ndarray
    risk: np.ndarray  # forecast scores (any non-negative scale)
    area: list[str]  # neighbourhood of each place


@dataclass
class Plan:
    visits: np.ndarray  # (units, places) visits
    covered: float  # expected risk covered
    risk_total: float
    minutes_driven: float
    status: str
    seconds: float
    routes: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # unit -> (place, arrive, depart)

    @property
    def share(self) -> float:
        return self.covered / self.risk_total if self.risk_total > 0 else 0.0

    def place_visits(self) -> np.ndarray:
        return self.visits.sum(axis=0)

    def area_shares(self, areas: list[str]) -> dict[str, float]:
        v = self.place_visits()
        total = v.sum()
        out: dict[str, float] = {}
        for a, n in zip(areas, v):
            out[a] = out.get(a, 0.0) + float(n)
        return {a: (n / total if total else 0.0) for a, n in sorted(out.items())}


def covered_share(k: np.ndarray | int, p: float) -> np.ndarray:
    """The share of a place's risk covered by k visits: 1 - (1 - p) ** k."""
    return 1.0 - (1.0 - p) ** np.asarray(k, float)


def drive_minutes(units: list[Unit], places: Places, speed_kmh: float) -> np.ndarray:
    """(units, places) one-way Manhattan driving minutes from each unit's start point."""
    ux = np.array([u.x for u in units], float)[:, None]
    uy = np.array([u.y for u in units], float)[:, None]
    metres = np.abs(ux - places.x[None, :]) + np.abs(uy - places.y[None, :])
    return metres / (speed_kmh * 1000.0 / 60.0)


def _check(units: list[Unit], places: Places, shift_min: float) -> None:
    if not units:
        raise ValueError("a plan needs at least one unit")
    if len(places.cell) == 0:
        raise ValueError("the forecast has no places to plan over")
    if not (math.isfinite(shift_min) and shift_min > 0):
        raise ValueError("the shift must last more than 0 minutes")
    if np.any(~np.isfinite(places.risk)) or np.any(places.risk < 0):
        raise ValueError("forecast risks must be finite and not negative")


def _free(units: list[Unit], shift_min: float, cfg: Config) -> np.ndarray:
    return np.full(len(units), shift_min * cfg.patrol_share)


def solve(units: list[Unit], places: Places, shift_min: float, cfg: Config = Config()) -> Plan:
    """The optimal allocation under the policy limits (HiGHS branch and bound, proven within cfg.mip_rel_gap)."""
    _check(units, places, shift_min)
    t0 = time.perf_counter()
    n_u, n_p, K = len(units), len(places.cell), cfg.max_visits_per_place
    drive = drive_minutes(units, places, cfg.speed_kmh)
    cost = cfg.visit_min + 2.0 * drive  # minutes per visit, out and back
    free = _free(units, shift_min, cfg)
    m = min(cfg.candidates, n_u)
    near = np.argsort(drive, axis=0, kind="stable")[:m, :]  # (m, places) unit indices
    pair_u = near.T.reshape(-1)  # x variables: place-major
    pair_p = np.repeat(np.arange(n_p), m)
    ok = cost[pair_u, pair_p] <= free[pair_u]  # a visit the unit could never fit is not offered
    pair_u, pair_p = pair_u[ok], pair_p[ok]
    n_x = len(pair_u)
    n_y = n_p * K
    k = np.arange(1, K + 1)
    p = cfg.first_visit_share
    gain = (places.risk[:, None] * p * (1 - p) ** (k[None, :] - 1)).reshape(-1)  # y variables: place-major
    risk_total = float(places.risk.sum())
    eps = 1e-6 * max(risk_total, 1e-12) / max(float(cost.max()), 1.0)
    c = np.concatenate([eps * 2.0 * drive[pair_u, pair_p], -gain])  # milp minimises

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    # visits of each place: sum_u x[u,i] - sum_k y[i,k] = 0
    rows += list(pair_p); cols += list(range(n_x)); vals += [1.0] * n_x
    yi = np.repeat(np.arange(n_p), K)
    rows += list(yi); cols += list(n_x + np.arange(n_y)); vals += [-1.0] * n_y
    lo += [0.0] * n_p; hi += [0.0] * n_p
    r = n_p
    # unit time and visit limits
    for u in range(n_u):
        mine = np.flatnonzero(pair_u == u)
        rows += [r] * len(mine); cols += list(mine); vals += list(cost[u, pair_p[mine]])
        lo.append(-np.inf); hi.append(float(free[u])); r += 1
        if units[u].max_visits is not None:
            rows += [r] * len(mine); cols += list(mine); vals += [1.0] * len(mine)
            lo.append(-np.inf); hi.append(float(units[u].max_visits)); r += 1
    # neighbourhood share: sum_{i in a} v_i - s * sum_i v_i <= 0, over the y variables
    if cfg.max_area_share < 1.0:
        areas = np.array(places.area, object)
        s = cfg.max_area_share
        for a in sorted(set(places.area)):
            inside = np.repeat(areas == a, K)
            rows += [r] * n_y; cols += list(n_x + np.arange(n_y)); vals += list(np.where(inside, 1.0 - s, -s))
            lo.append(-np.inf); hi.append(0.0); r += 1
    A = coo_matrix((vals, (rows, cols)), shape=(r, n_x + n_y)).tocsr()
    ub = np.concatenate([np.full(n_x, float(K)), np.ones(n_y)])
    res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(n_x + n_y),
               bounds=Bounds(np.zeros(n_x + n_y), ub),
               options={"time_limit": cfg.time_limit_s, "mip_rel_gap": cfg.mip_rel_gap})
    if res.x is None:
        raise ValueError(f"the solver found no plan: {res.message}")
    xs = np.round(res.x[:n_x]).astype(int)
    visits = np.zeros((n_u, n_p), dtype=int)
    np.add.at(visits, (pair_u, pair_p), xs)
    status = "optimal" if res.status == 0 else "best found at the time limit"
    plan = _finish(visits, units, places, shift_min, cfg, status, time.perf_counter() - t0)
    if res.status != 0:  # not proven: never hand out less than the baseline that keeps the same limits
        base = greedy(units, places, shift_min, cfg)
        if base.covered > plan.covered:
            base.status = "greedy (the solver's best within its time limit covered less)"
            base.seconds = time.perf_counter() - t0
            return base
    return plan


def greedy(units: list[Unit], places: Places, shift_min: float, cfg: Config = Config()) -> Plan:
    """The baseline a planner would do by hand: rank first, apply the policy after. Take the next visit with the
    highest gain per minute (the place's next marginal gain over visit plus out-and-back driving from the nearest
    unit that still has the time) within the per-place cap; then drop the least valuable visits of any neighbourhood
    over its share; then top up, in the same order, with visits that keep every neighbourhood within its share."""
    _check(units, places, shift_min)
    t0 = time.perf_counter()
    n_u, n_p, K, p, s = len(units), len(places.cell), cfg.max_visits_per_place, cfg.first_visit_share, \
        cfg.max_area_share
    drive = drive_minutes(units, places, cfg.speed_kmh)
    cost = cfg.visit_min + 2.0 * drive
    left = _free(units, shift_min, cfg).copy()
    limit = np.array([u.max_visits if u.max_visits is not None else 10**9 for u in units])
    visits = np.zeros((n_u, n_p), dtype=int)
    per_place = np.zeros(n_p, dtype=int)
    area_of = np.array(places.area, object)
    per_area = {a: 0 for a in set(places.area)}

    def fill(capped: bool) -> None:
        blocked = np.zeros(n_p, dtype=bool)
        while True:
            fits = (cost <= left[:, None]) & (visits.sum(axis=1) < limit)[:, None]
            best_cost = np.where(fits, cost, np.inf).min(axis=0)
            gain = places.risk * p * (1 - p) ** per_place
            score = np.where((per_place < K) & np.isfinite(best_cost) & ~blocked, gain / best_cost, -1.0)
            i = int(np.argmax(score))
            if score[i] <= 0:
                return
            a = area_of[i]
            if capped and per_area[a] and per_area[a] + 1 > s * (per_place.sum() + 1) + 1e-9:
                blocked[area_of == a] = True  # this neighbourhood is full until the others catch up
                continue
            blocked[:] = False
            u = int(np.argmin(np.where(fits[:, i], cost[:, i], np.inf)))
            visits[u, i] += 1
            per_place[i] += 1
            left[u] -= cost[u, i]
            per_area[a] += 1

    def trim() -> None:
        while s < 1.0 and per_place.sum():
            total = per_place.sum()
            over = sorted(a for a, n in per_area.items() if n > s * total + 1e-9)
            if not over:
                return
            inside = np.flatnonzero((area_of == over[0]) & (per_place > 0))
            i = int(inside[np.argmin(places.risk[inside] * (1 - p) ** (per_place[inside] - 1))])
            u = int(np.flatnonzero(visits[:, i])[0])
            visits[u, i] -= 1
            per_place[i] -= 1
            left[u] += cost[u, i]
            per_area[over[0]] -= 1

    fill(capped=False)
    for _ in range(5 if s < 1.0 else 0):  # first visits of a neighbourhood are let in, then trimmed again
        trim()
        before = visits.copy()
        fill(capped=True)
        if (visits == before).all():
            break
    trim()
    return _finish(visits, units, places, shift_min, cfg, "greedy", time.perf_counter() - t0)


def _finish(visits: np.ndarray, units: list[Unit], places: Places, shift_min: float, cfg: Config, status: str,
            seconds: float) -> Plan:
    v = visits.sum(axis=0)
    covered = float((places.risk * covered_share(v, cfg.first_visit_share)).sum())
    routes, driven = route(visits, units, places, shift_min, cfg)
    return Plan(visits, covered, float(places.risk.sum()), driven, status, seconds, routes)


def route(visits: np.ndarray, units: list[Unit], places: Places, shift_min: float,
          cfg: Config) -> tuple[dict[str, list[tuple[int, float, float]]], float]:
    """Each unit's order: visits in rounds (round r visits the places with at least r visits from that unit), each
    round a nearest-neighbour tour from and back to the start point; rounds spread evenly over the shift so repeat
    visits are apart. Returns unit -> [(place, arrive_min, depart_min)] from the shift's start, and minutes driven."""
    speed = cfg.speed_kmh * 1000.0 / 60.0
    routes: dict[str, list[tuple[int, float, float]]] = {}
    driven = 0.0
    for u, unit in enumerate(units):
        stops: list[tuple[int, float, float]] = []
        rounds = int(visits[u].max()) if visits.shape[1] else 0
        t = 0.0
        for r in range(rounds):
            t = max(t, r * shift_min / rounds)
            todo = list(np.flatnonzero(visits[u] > r))
            x, y = unit.x, unit.y
            while todo:
                d = [abs(places.x[i] - x) + abs(places.y[i] - y) for i in todo]
                j = int(np.argmin(d))
                i = int(todo.pop(j))
                t += d[j] / speed
                driven += d[j] / speed
                stops.append((i, t, t + cfg.visit_min))
                t += cfg.visit_min
                x, y = places.x[i], places.y[i]
            back = (abs(x - unit.x) + abs(y - unit.y)) / speed
            t += back
            driven += back
        routes[unit.name] = stops
    return routes, driven
