"""The solver alone: policy limits hold as constraints, returns diminish per place, routes fit the shift."""

from __future__ import annotations

import numpy as np
import pytest

from lawful.patrol.plan import Config, Places, Unit, config_sha256, covered_share, greedy, solve
from tests.conftest import imports_of_the_store

# Area "hot" holds the riskiest places, close to both units; three quieter areas further out.
PLACES = Places(cell=[f"{i},0" for i in range(14)],
                x=np.array([0, 200, 400, 600, 800, 3000, 3200, 3400, -3000, -3200, -3400, 0, 200, 400], float),
                y=np.array([0] * 5 + [2000] * 3 + [-2000] * 3 + [4000] * 3, float),
                risk=np.array([10, 9, 8, 7, 6, 2, 1.8, 1.6, 1.8, 1.6, 1.4, 1.6, 1.4, 1.2], float),
                area=["hot"] * 5 + ["north"] * 3 + ["south"] * 3 + ["far"] * 3)
UNITS = [Unit("a", 0, 500), Unit("b", 500, -500)]


def test_the_solver_imports_no_database_or_web_module():
    assert imports_of_the_store("lawful.patrol.plan") == []


def test_the_unconstrained_optimum_breaks_the_neighbourhood_cap_and_the_plan_does_not():
    free = solve(UNITS, PLACES, 480, Config(max_area_share=1.0))
    capped = solve(UNITS, PLACES, 480, Config(max_area_share=0.3))
    assert free.area_shares(PLACES.area)["hot"] > 0.3
    assert max(capped.area_shares(PLACES.area).values()) <= 0.3 + 1e-9
    assert capped.visits.sum() > 0 and capped.status == "optimal"
    assert capped.covered < free.covered  # the limit costs coverage, and the plan pays it


def test_no_place_gets_more_than_its_cap_and_returns_diminish():
    p = solve(UNITS, PLACES, 480, Config(max_area_share=1.0, max_visits_per_place=2))
    v = p.place_visits()
    assert v.max() <= 2
    assert v[0] >= 1 and (v > 0).sum() > 2  # the riskiest place does not take every visit
    assert covered_share(2, 0.5) - covered_share(1, 0.5) < covered_share(1, 0.5) - covered_share(0, 0.5)


def test_every_route_fits_its_units_patrol_time():
    cfg = Config(max_area_share=1.0, patrol_share=0.2)
    p = solve(UNITS, PLACES, 480, cfg)
    for name, stops in p.routes.items():
        busy = len(stops) * cfg.visit_min
        assert busy <= 480 * cfg.patrol_share
        assert all(a < d for _, a, d in stops) and [a for _, a, _ in stops] == sorted(a for _, a, _ in stops)
    assert p.minutes_driven > 0


def test_the_optimum_covers_at_least_what_greedy_covers_within_the_same_limits():
    for share in (1.0, 0.3):
        cfg = Config(max_area_share=share)
        best, base = solve(UNITS, PLACES, 480, cfg), greedy(UNITS, PLACES, 480, cfg)
        assert base.covered <= best.covered <= best.bound + 1e-9
        assert max(base.area_shares(PLACES.area).values()) <= share + 1e-9


def test_the_optimiser_beats_greedy_where_greedy_is_myopic():
    # The neighbourhood cap: greedy fills the "hot" neighbourhood first and trims it afterwards, leaving time spent on
    # the drive there; the optimiser plans within the cap from the start.
    cfg = Config(max_area_share=0.3)
    best, base = solve(UNITS, PLACES, 480, cfg), greedy(UNITS, PLACES, 480, cfg)
    assert best.covered > 2 * base.covered and best.status == "optimal"
    # The time budget: the visit with the most risk per minute (place 0, 100 min out and back) leaves 92 of the 192
    # free minutes, too few for either of the other two (95 min each), which together cover more.
    metres = lambda minutes: (minutes - 15) / 2 * 500  # noqa: E731  (30 km/h = 500 m a minute)
    places = Places(cell=["0,0", "1,0", "2,0"], x=np.array([metres(100), -metres(95), 0.0]),
                    y=np.array([0.0, 0.0, metres(95)]), risk=np.array([60.0, 55.0, 55.0]), area=["a", "b", "c"])
    cfg = Config(max_area_share=1.0, max_visits_per_place=1)
    best, base = solve([Unit("a", 0, 0)], places, 480, cfg), greedy([Unit("a", 0, 0)], places, 480, cfg)
    assert base.place_visits().tolist() == [1, 0, 0] and best.place_visits().tolist() == [0, 1, 1]
    assert best.covered == pytest.approx(55.0) and base.covered == pytest.approx(30.0)


def test_a_unit_limit_is_kept():
    p = solve([Unit("a", 0, 500, max_visits=2), Unit("b", 500, -500, max_visits=0)], PLACES, 480,
              Config(max_area_share=1.0))
    assert p.visits[0].sum() == 2 and p.visits[1].sum() == 0


@pytest.mark.parametrize("table, message", [
    ({"max_area_share": 0}, "max_area_share"),
    ({"visit_min": float("nan")}, "visit_min"),
    ({"colour": "blue"}, "unknown planning setting"),
])
def test_a_bad_configuration_is_refused(table, message):
    with pytest.raises(ValueError, match=message):
        Config.from_table(table)


def test_the_configuration_fingerprint_changes_with_any_limit():
    assert config_sha256({"max_area_share": 0.3}) != config_sha256({"max_area_share": 0.31})
