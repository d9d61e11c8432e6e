"""Patrol allocation over an accepted forecast's places: which places get how many visits, by which unit, in which
order. Pure: numpy and SciPy only, never the database, the web or governance.

The objective is the expected share of the forecast's risk covered, with diminishing returns per place:

    covered(place, k visits) = risk(place) * (1 - (1 - p) ** k)        (p = first_visit_share, default 0.5)

so the first visit of about 15 minutes covers half of a place's risk, the second half of what is left, and so on.
The shape (concave, saturating) follows Koper (1995): a stop of about 10-16 minutes deters for a while afterwards,
with diminishing returns beyond about 15 minutes, so further presence in the same shift is worth less than the first
visit; Telep, Mitchell & Weisburd (2014) spread 12-16 minute visits over the shift. The value of p is a modelling
assumption, stated on the card and in every plan, not a measured effect.

The allocation is an integer program (SciPy's `milp`, HiGHS):

    maximise   sum_{i,k} gain[i,k] * y[i,k]  -  eps * minutes driven (a tie-breaker)
    subject to sum_u x[u,i] = sum_k y[i,k]    visits of place i (y[i,k]: its k-th visit, gain risk * p * (1-p)^(k-1))
               sum_i x[u,i] * (visit + 2 * drive[u,i]) <= free minutes of unit u
               sum_i x[u,i] <= unit u's visit limit
               V = sum y;  sum_{i in area a} sum_k y[i,k] - max_area_share * V <= 0   (policy: no neighbourhood more)
               y[i,k] binary for k <= max_visits_per_place                            (policy: visits per place)

The gains fall with k, so the diminishing returns are linear, and V keeps each neighbourhood row short. HiGHS cannot
prove this program within 1% in seconds at city scale (measured on the bundled Toronto data: its LP relaxation lies
2-4% above the best plans known, from the leftover minutes of each unit's knapsack, and after 5 s its own best plan
covered less than greedy's), so `solve` searches instead: the LP relaxation (an upper bound), rounded down and
repaired, then each unit in turn takes its exact best response to the others (a multiple-choice knapsack solved by
dynamic programming over its minutes) while coverage rises; small programs are then proven by HiGHS, and the greedy
plan is taken if it covers more. Every unit that has the time is offered every place.

A visit is priced as an out-and-back trip from the unit's start point, an upper bound on the driving of any route
through the same places (triangle inequality), so every route built afterwards fits the unit's time. Distances are
Manhattan (a street grid) at `speed_kmh`.
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
    max_visits_per_place_week: int = 10  # policy: per place per week, counting the week's other accepted plans
    max_area_share: float = 0.3  # policy: of all visits, in any one neighbourhood
    patrol_share: float = 0.4  # of a shift free for directed patrol
    speed_kmh: float = 30.0
    candidates: int = 2  # kept so approved cards still verify; every unit with the time is now offered each place
    time_limit_s: float = 1.5  # for the best-response search
    proof_time_s: float = 2.0  # for HiGHS on the whole integer program, when the search is not proven within the gap
    proof_max_vars: int = 2000  # ... and that program is this small (larger ones are not proven in seconds)
    mip_rel_gap: float = 0.01  # "optimal" means proven within 1% of the optimum

    FIELDS = ("visit_min", "first_visit_share", "max_visits_per_place", "max_visits_per_place_week",
              "max_area_share", "patrol_share", "speed_kmh", "candidates")
    INTS = ("max_visits_per_place", "max_visits_per_place_week", "candidates")
    BOUNDS = {"visit_min": (1, 120), "first_visit_share": (0.01, 1), "max_visits_per_place": (1, 20),
              "max_visits_per_place_week": (1, 140),
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
                kw[k] = int(v) if k in cls.INTS else float(v)
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
    cap: np.ndarray | None = None  # visits still allowed per place (the weekly cap less the week's other plans)

    def caps(self, per_shift: int) -> np.ndarray:
        """Visits each place may get in this plan: the per-shift cap, lowered where the weekly cap is nearly used."""
        k = np.full(len(self.cell), per_shift, dtype=int)
        return k if self.cap is None else np.clip(np.minimum(k, np.asarray(self.cap, int)), 0, None)


@dataclass
class Plan:
    visits: np.ndarray  # (units, places) visits
    covered: float  # expected risk covered
    risk_total: float
    minutes_driven: float
    status: str
    seconds: float
    routes: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # unit -> (place, arrive, depart)
    bound: float | None = None  # no plan within the same limits covers more (the LP relaxation, or HiGHS's proof)

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


class _Program:
    """One instance's data and the pieces the search is made of: HiGHS programs over some units with the others'
    visits fixed (the whole program when every unit is free), the LP rounding repair and the exact per-unit best
    response."""

    def __init__(self, units: list[Unit], places: Places, shift_min: float, cfg: Config):
        self.n_u, self.n_p, self.K = len(units), len(places.cell), cfg.max_visits_per_place
        self.p, self.s, self.risk = cfg.first_visit_share, cfg.max_area_share, places.risk
        self.drive = drive_minutes(units, places, cfg.speed_kmh)
        self.cost = cfg.visit_min + 2.0 * self.drive  # minutes per visit, out and back
        self.free = _free(units, shift_min, cfg)
        self.limit = np.array([u.max_visits if u.max_visits is not None else 10**9 for u in units], float)
        self.cap = places.caps(self.K)  # per place: the shift's cap, or less where the week's cap is nearly used
        self.fits = (self.cost <= self.free[:, None]) & (self.cap > 0)[None, :]  # what a unit could never fit
        k = np.arange(self.K)
        self.gain = places.risk[:, None] * self.p * (1 - self.p) ** k[None, :]  # (places, K): the k+1-th visit
        names = sorted(set(places.area))
        index = {a: j for j, a in enumerate(names)}
        self.area = np.array([index[a] for a in places.area], int)
        self.n_a = len(names)
        self.eps = 1e-6 * max(float(places.risk.sum()), 1e-12) / max(float(self.cost.max()), 1.0)

    def value(self, visits: np.ndarray) -> float:
        return float((self.risk * covered_share(visits.sum(axis=0), self.p)).sum())

    def feasible(self, visits: np.ndarray) -> bool:
        v = visits.sum(axis=0)
        per_area = np.bincount(self.area, weights=v, minlength=self.n_a)
        return bool((v <= self.cap).all() and ((visits * self.cost).sum(axis=1) <= self.free + 1e-6).all()
                    and (visits.sum(axis=1) <= self.limit).all() and (visits[~self.fits] == 0).all()
                    and (self.s >= 1.0 or (per_area <= self.s * v.sum() + 1e-9).all()))

    def program(self, free_units: np.ndarray, base: np.ndarray, offer: np.ndarray | None = None, relax: bool = False,
                time_limit: float | None = None, gap: float = 1e-4):
        """HiGHS over the units `free_units` with the other units' visits in `base` fixed:

            maximise   sum gain[i,k] * y[i,k]  -  eps * minutes driven                  (eps: a tie-breaker)
            subject to sum_u x[u,i] = sum_k y[i,k]              (y[i,k]: place i gets its k-th visit, above the fixed)
                       sum_i x[u,i] * cost[u,i] <= free minutes of u;  sum_i x[u,i] <= u's visit limit
                       V = sum y;  sum_{i in a} y[i,k] - s * V <= s * V0 - n0[a]    (per neighbourhood a)
                       x, y integer (unless relax), 0 <= y <= 1

        y could be continuous (the gains fall with k, so an optimum fills each place's visits in order), but HiGHS
        then branches only on x, among symmetric units: the 2-unit test program took 90 s instead of 0.4 s. `offer`
        limits which (unit, place) pairs are offered. Returns (visits, or None, and SciPy's result)."""
        K = self.K
        offered = np.zeros((self.n_u, self.n_p), bool)
        offered[free_units] = self.fits[free_units] if offer is None else (self.fits & offer)[free_units]
        pu, pp = np.nonzero(offered)
        n_x = len(pu)
        v0 = base.sum(axis=0) - base[free_units].sum(axis=0)
        touched = np.unique(pp)
        cap = self.cap
        y_place = np.repeat(touched, np.maximum(cap[touched] - v0[touched], 0))
        y_k = np.concatenate([np.arange(v0[i], cap[i]) for i in touched]).astype(int) if len(touched) \
            else np.zeros(0, int)
        n_y = len(y_place)
        row_of = np.full(self.n_p, -1)
        row_of[touched] = np.arange(len(touched))
        gain = self.gain[y_place, y_k]
        c = np.concatenate([np.zeros(n_x) if relax else self.eps * 2.0 * self.drive[pu, pp], -gain, [0.0]])
        rows, cols, vals, lo, hi = [row_of[pp], row_of[y_place]], [np.arange(n_x), n_x + np.arange(n_y)], \
            [np.ones(n_x), -np.ones(n_y)], [np.zeros(len(touched))], [np.zeros(len(touched))]
        r = len(touched)
        slot = np.full(self.n_u, -1)
        slot[free_units] = np.arange(len(free_units))
        rows.append(r + slot[pu]); cols.append(np.arange(n_x)); vals.append(self.cost[pu, pp])
        lo.append(np.full(len(free_units), -np.inf)); hi.append(self.free[free_units]); r += len(free_units)
        for u in free_units:
            if self.limit[u] < 10**9:
                mine = np.flatnonzero(pu == u)
                rows.append(np.full(len(mine), r)); cols.append(mine); vals.append(np.ones(len(mine)))
                lo.append([-np.inf]); hi.append([self.limit[u]]); r += 1
        total = n_x + n_y  # the column of V
        if self.s < 1.0:
            rows.append(np.full(n_y + 1, r)); cols.append(np.arange(n_x, total + 1))
            vals.append(np.r_[np.ones(n_y), -1.0]); lo.append([0.0]); hi.append([0.0]); r += 1
            n0 = np.bincount(self.area, weights=v0, minlength=self.n_a)
            rows += [r + self.area[y_place], r + np.arange(self.n_a)]
            cols += [n_x + np.arange(n_y), np.full(self.n_a, total)]
            vals += [np.ones(n_y), np.full(self.n_a, -self.s)]
            lo.append(np.full(self.n_a, -np.inf)); hi.append(self.s * v0.sum() - n0); r += self.n_a
        A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(r, total + 1)).tocsr()
        options = {"mip_rel_gap": gap}
        if time_limit is not None:
            options["time_limit"] = max(float(time_limit), 0.01)
        res = milp(c, constraints=LinearConstraint(A, np.concatenate(lo), np.concatenate(hi)),
                   integrality=np.r_[np.full(n_x + n_y, 0 if relax else 1), 0],
                   bounds=Bounds(np.zeros(total + 1), np.r_[np.full(n_x, float(K)), np.ones(n_y), np.inf]),
                   options=options)
        if res.x is None:
            return None, res
        x = np.floor(res.x[:n_x] + 1e-6) if relax else np.round(res.x[:n_x])
        visits = base.copy()
        visits[free_units] = 0
        np.add.at(visits, (pu, pp), x.astype(int))
        return visits, res

    def repair(self, visits: np.ndarray) -> np.ndarray:
        """Make a rounded-down plan keep the neighbourhood share (drop the least valuable visits of a neighbourhood
        over it), then fill the time left with the visit of highest gain per minute over every unit and place that
        keeps all limits."""
        visits = visits.copy()
        cost, p, s, area = self.cost, self.p, self.s, self.area
        left = self.free - (visits * cost).sum(axis=1)
        count = visits.sum(axis=1).astype(float)
        v = visits.sum(axis=0)
        per_area = np.bincount(area, weights=v, minlength=self.n_a)
        while s < 1.0 and v.sum():
            over = np.flatnonzero(per_area > s * v.sum() + 1e-9)
            if not len(over):
                break
            inside = np.flatnonzero((area == over[0]) & (v > 0))
            i = int(inside[np.argmin(self.risk[inside] * (1 - p) ** (v[inside] - 1))])
            by = np.flatnonzero(visits[:, i])
            u = int(by[np.argmax(cost[by, i])])
            visits[u, i] -= 1; v[i] -= 1; per_area[over[0]] -= 1; left[u] += cost[u, i]; count[u] -= 1
        while True:
            can = self.fits & (cost <= left[:, None] + 1e-9) & (count < self.limit)[:, None]
            ok = v < self.cap
            if s < 1.0:
                ok &= per_area[area] + 1 <= s * (v.sum() + 1) + 1e-9
            score = np.where(can & ok[None, :], (self.risk * p * (1 - p) ** v)[None, :] / cost, -1.0)
            u, i = divmod(int(np.argmax(score)), self.n_p)
            if score[u, i] <= 0:
                return visits
            visits[u, i] += 1; v[i] += 1; per_area[area[i]] += 1; left[u] -= cost[u, i]; count[u] += 1

    def best_response(self, u: int, visits: np.ndarray, step: float = 0.1) -> np.ndarray:
        """Unit u's best visits with every other unit's kept: a multiple-choice knapsack (0 to K - others' visits
        at each place, concave gains) solved exactly by dynamic programming over its free minutes in `step`s, each
        visit's minutes rounded up (so what it picks fits). Ignores the neighbourhood share and u's visit limit;
        the caller checks them."""
        v0 = visits.sum(axis=0) - visits[u]
        cap = int(np.floor(self.free[u] / step + 1e-9))
        cand = np.flatnonzero(self.fits[u] & (v0 < self.cap) & (self.risk > 0))
        w = np.ceil(self.cost[u, cand] / step - 1e-9).astype(int)
        penalty = self.eps * 2.0 * self.drive[u, cand]
        best = np.zeros(cap + 1)  # best[c]: the most gain within c steps
        choice = np.zeros((len(cand), cap + 1), np.int8)
        for j, i in enumerate(cand):
            new, g = best.copy(), 0.0
            for e in range(1, int(self.cap[i]) - int(v0[i]) + 1):
                g += self.gain[i, v0[i] + e - 1] - penalty[j]
                ew = e * w[j]
                if ew > cap:
                    break
                take = best[:cap + 1 - ew] + g
                better = take > new[ew:]
                new[ew:][better] = take[better]
                choice[j, ew:][better] = e
            best = new
        out = visits.copy()
        out[u] = 0
        c = cap
        for j in range(len(cand) - 1, -1, -1):
            e = int(choice[j, c])
            if e:
                out[u, cand[j]] = e
                c -= e * w[j]
        return out

    def descend(self, visits: np.ndarray, deadline: float) -> np.ndarray:
        """Coordinate ascent: each unit in turn takes its best response while that raises the coverage; stops when a
        round over every unit changes nothing (or at the deadline). Where the exact response breaks a
        neighbourhood share or the unit's visit limit, HiGHS solves that unit's own program instead."""
        value = self.value(visits)
        while time.perf_counter() < deadline:
            improved = False
            for u in range(self.n_u):
                if time.perf_counter() >= deadline:
                    break
                out = self.best_response(u, visits)
                if not self.feasible(out):
                    ratio = np.where(self.fits[u], self.risk / self.cost[u], -1.0)
                    offer = np.zeros((self.n_u, self.n_p), bool)
                    offer[u, np.argsort(-ratio, kind="stable")[:60]] = True
                    offer[u, visits[u] > 0] = True
                    out, _ = self.program(np.array([u]), visits, offer=offer, gap=1e-3,
                                          time_limit=max(deadline - time.perf_counter(), 0.05))
                    if out is None or not self.feasible(out):
                        continue
                new = self.value(out)
                if new > value * (1 + 1e-12) + 1e-12:
                    visits, value, improved = out, new, True
            if not improved:
                break
        return visits


def solve(units: list[Unit], places: Places, shift_min: float, cfg: Config = Config()) -> Plan:
    """The best allocation found under the policy limits, never below the greedy baseline:
    1. HiGHS solves the LP relaxation of the whole program (an upper bound on any plan's coverage);
    2. its solution rounded down and repaired is the start; each unit then takes its exact best response in turn
       while coverage rises (within cfg.time_limit_s);
    3. if that is not within cfg.mip_rel_gap of the bound and the integer program has at most cfg.proof_max_vars
       variables, HiGHS gets it for at most cfg.proof_time_s: it proves the optimum (its plan is taken if it
       covers more);
    4. the greedy plan is taken if it covers more (never handed out worse than the baseline).
    `status` is "optimal" when proven within cfg.mip_rel_gap, else "best found" with the gap to the LP bound."""
    _check(units, places, shift_min)
    t0 = time.perf_counter()
    prog = _Program(units, places, shift_min, cfg)
    base = greedy(units, places, shift_min, cfg)
    zero = np.zeros((prog.n_u, prog.n_p), dtype=int)
    if not prog.fits.any() or float(places.risk.sum()) <= 0:
        return _finish(zero, units, places, shift_min, cfg, "optimal", time.perf_counter() - t0, bound=0.0)
    everyone = np.arange(prog.n_u)
    rounded, lp = prog.program(everyone, zero, relax=True)
    if rounded is None:
        raise ValueError(f"the solver found no plan: {lp.message}")
    bound = float(-lp.fun)
    visits = prog.descend(prog.repair(rounded), t0 + cfg.time_limit_s)
    by_greedy = prog.value(base.visits) > prog.value(visits)
    if by_greedy:
        visits = base.visits.copy()
    value = prog.value(visits)
    proven = value >= bound * (1 - cfg.mip_rel_gap)
    n_vars = int(prog.fits.sum() + prog.n_p * prog.K)
    if not proven and cfg.proof_time_s > 0 and n_vars <= cfg.proof_max_vars:  # HiGHS proves the optimum
        better, res = prog.program(everyone, zero, gap=cfg.mip_rel_gap, time_limit=cfg.proof_time_s)
        if better is not None and prog.feasible(better) and prog.value(better) > value:
            visits, value, by_greedy = better, prog.value(better), False
        proven = res.status == 0  # HiGHS's plan is within the gap of the optimum, and ours covers at least as much
        dual = getattr(res, "mip_dual_bound", None)
        if proven and dual is not None and math.isfinite(dual):
            bound = min(bound, -float(dual) + 1e-9 * bound)  # HiGHS's proof is tighter than the LP relaxation
    bound = max(bound, value)
    if proven:
        status = "optimal"
    elif by_greedy:
        status = "greedy (the solver's best within its time limit covered less)"
    else:
        status = f"best found, within {(bound - value) / bound:.1%} of the LP bound"
    return _finish(visits, units, places, shift_min, cfg, status, time.perf_counter() - t0, bound=bound)


def greedy(units: list[Unit], places: Places, shift_min: float, cfg: Config = Config()) -> Plan:
    """The baseline a planner would do by hand: rank first, apply the policy after. Take the next visit with the
    highest gain per minute (the place's next marginal gain over visit plus out-and-back driving from the nearest
    unit that still has the time) within the per-place cap; then drop the least valuable visits of any neighbourhood
    over its share; then top up, in the same order, with visits that keep every neighbourhood within its share."""
    _check(units, places, shift_min)
    t0 = time.perf_counter()
    n_u, n_p, p, s = len(units), len(places.cell), cfg.first_visit_share, cfg.max_area_share
    K = places.caps(cfg.max_visits_per_place)
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
            seconds: float, bound: float | None = None) -> Plan:
    v = visits.sum(axis=0)
    covered = float((places.risk * covered_share(v, cfg.first_visit_share)).sum())
    routes, driven = route(visits, units, places, shift_min, cfg)
    return Plan(visits, covered, float(places.risk.sum()), driven, status, seconds, routes, bound)


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
