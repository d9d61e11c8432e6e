"""Plans through the services and the gate: only from an accepted forecast, within the approved limits, explained,
decided by a supervisor, exported and measured against the visit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lawful.errors import LawfulError
from lawful.patrol import plan as solver
from lawful.patrol import service
from lawful.trail.models import TrailEntry

ROOT = Path(__file__).resolve().parents[2]
LOG = (ROOT / "examples" / "patrol" / "visits.csv").read_text()


def trail(patrol, action: str) -> list[TrailEntry]:
    with patrol.tx() as s:
        return list(s.scalars(select(TrailEntry).where(TrailEntry.action == action).order_by(TrailEntry.seq)))


def test_a_plan_is_an_open_output_of_the_planner_with_a_reason_per_assignment(patrol):
    p = patrol.plan()
    assert (p["kind"], p["status"], p["issued_by"]) == ("plan", "open", "analyst")
    pay = p["payload"]
    assert pay["forecast"] == patrol.forecast and pay["planner"] == patrol.planner
    assert len(p["explanation"]) == len(pay["assignments"]) + 1 > 1  # one per assignment, then fairness
    first = p["explanation"][0]["sentence"]
    assert first.startswith(f"cell {p['explanation'][0]['cell']}: ") and "of tonight's forecast risk; " in first
    assert " of 15 min by unit-" in first and "3 break-ins within 200 m" in first
    [issued] = [e for e in trail(patrol, "output.issue") if '"kind":"plan"' in e.details]
    assert issued.actor == "analyst" and issued.object == f"output:{p['id']}"
    assert pay["comparison"]["optimiser"]["covered_share"] >= pay["comparison"]["greedy"]["covered_share"]


def test_the_plan_keeps_the_neighbourhood_cap_that_the_unconstrained_optimum_breaks(patrol):
    p = patrol.plan()
    shares = {a["area"]: a["visit_share"] for a in p["payload"]["areas"]}
    assert max(shares.values()) <= 0.3 + 1e-9 and shares["077"] > 0
    # the same places and units, without the policy limit: area 077 (74% of the risk) would take more
    a = p["payload"]["assignments"]
    cells = {x["cell"]: x for x in a}
    from tests.patrol.conftest import CELLS, GX, GY, CELL
    places = solver.Places([f"{ix},{iy}" for ix, iy, _, _ in CELLS],
                           solver.np.array([GX + (ix + .5) * CELL for ix, _, _, _ in CELLS]),
                           solver.np.array([GY + (iy + .5) * CELL for _, iy, _, _ in CELLS]),
                           solver.np.array([s for _, _, s, _ in CELLS]), [ar for *_, ar in CELLS])
    units = [solver.Unit(u["name"], *_xy(patrol, u)) for u in p["payload"]["units"]]
    free = solver.solve(units, places, 480, solver.Config(max_area_share=1.0))
    assert free.area_shares(places.area)["077"] > 0.3
    assert set(cells) <= set(places.cell)


def _xy(patrol, unit):
    from lawful.incidents.validate import transformer

    return transformer("EPSG:4326", patrol.settings.crs).transform(unit["lon"], unit["lat"])


def test_only_an_accepted_forecast_can_be_planned(patrol):
    fresh = patrol.issue_forecast()
    with pytest.raises(LawfulError, match="is open: a plan is made only from a forecast a supervisor accepted"):
        patrol.plan(forecast=fresh)
    patrol.decide(fresh, "supervisor", "rejected")
    with pytest.raises(LawfulError, match="is rejected"):
        patrol.plan(forecast=fresh)


def test_a_request_may_tighten_the_policy_limits_but_never_loosen_them(patrol):
    with pytest.raises(LawfulError, match="above the approved limit of 0.3") as e:
        patrol.plan(limits={"max_area_share": 0.9})
    assert e.value.kind == "denied"
    p = patrol.plan(limits={"max_area_share": 0.25, "max_visits_per_place": 1})
    assert max(a["visit_share"] for a in p["payload"]["areas"]) <= 0.25 + 1e-9
    assert all(a["visits"] == 1 for a in p["payload"]["assignments"])


def test_a_suspended_planner_issues_nothing_and_the_refusal_is_on_the_trail(patrol):
    from lawful.governance import registry

    patrol.step(registry.suspend, patrol.planner, "ap1", reason="checking")
    with pytest.raises(LawfulError, match="the gate refused: .* is suspended"):
        patrol.plan()
    assert any(patrol.planner in e.object for e in trail(patrol, "gate.refuse"))


def test_a_decided_plan_is_exported_and_its_dosage_measured_from_the_visit_log(patrol):
    p = patrol.plan()
    with patrol.tx() as s:
        with pytest.raises(LawfulError, match="is open: dispatch receives only a plan a supervisor accepted"):
            service.export_plan(s, actor=patrol.actor(s, "analyst"), plan_id=p["id"], fmt="csv")
    patrol.decide(p["id"], "supervisor", "accepted")
    with patrol.tx() as s:
        csv_text = service.export_plan(s, actor=patrol.actor(s, "analyst"), plan_id=p["id"], fmt="csv")["text"]
        geo = service.export_plan(s, actor=patrol.actor(s, "analyst"), plan_id=p["id"], fmt="geojson")["geojson"]
    lines = csv_text.splitlines()
    assert lines[0] == "plan,unit,order,cell,lon,lat,arrive,depart,area,reason"
    assert len(lines) - 1 == len(geo["features"]) == sum(len(u["stops"]) for u in p["payload"]["units"])
    lon, lat = geo["features"][0]["geometry"]["coordinates"]
    assert -79.7 < lon < -79.1 and 43.5 < lat < 43.9  # lon/lat, EPSG:4326
    assert len(trail(patrol, "disclosure")) == 2
    from zoneinfo import ZoneInfo

    with patrol.tx() as s:
        d = service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], text=LOG,
                                  source="visits.csv", tz=ZoneInfo("America/Toronto"))
    rows = {(r["unit"], r["cell"]): r for r in d["rows"]}
    assert rows[("unit-1", "106,46")]["delivered_min"] == 15.0 and rows[("unit-1", "106,46")]["planned_min"] == 15
    assert rows[("unit-1", "104,46")]["delivered_min"] == 14.0  # from lon/lat inside the cell
    assert rows[("unit-1", "105,46")]["delivered_min"] == 8.0
    assert "111,52" in d["never_visited"] and "106,46" not in d["never_visited"]
    why = {(v["unit"], v["cell"]): v["why"] for v in d["outside_plan"]}
    assert why == {("unit-2", "120,70"): "cell not in the plan", ("unit-1", "98,40"): "cell planned for another unit"}
    assert d["koper_bands"] == {"under 10 min": 1, "10-16 min": 6, "over 16 min": 1}
    [collected] = [e for e in trail(patrol, "collection") if "visit log" in e.details]
    assert collected.actor == "supervisor"


def test_a_bad_visit_log_names_the_row_and_writes_nothing(patrol):
    p = patrol.plan()
    patrol.decide(p["id"], "supervisor", "accepted")
    from zoneinfo import ZoneInfo

    bad = "unit,cell,arrive,depart\nunit-1,106-46,2019-12-10T22:05,2019-12-10T22:20\n"
    with patrol.tx() as s:
        with pytest.raises(LawfulError, match=r"visits.csv row 2, field cell \('106-46'\): write the cell as col,row"):
            service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], text=bad,
                                  source="visits.csv", tz=ZoneInfo("America/Toronto"))
    with patrol.tx() as s:
        assert service.dosage(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"])["visits"] == 0


def test_the_plan_weighs_its_patrol_minutes_against_each_neighbourhoods_share_of_crime(patrol):
    p = patrol.plan()
    f = p["payload"]["fairness"]
    rows = {r["area"]: r for r in f["rows"]}
    # one recorded break-in per cell: 077 holds 5 of the 14; the cap keeps its minutes to at most 30%
    assert rows["077"]["crime_share"] == pytest.approx(5 / 14, abs=1e-6)
    assert rows["077"]["minutes_share"] <= 0.3 + 1e-9 and rows["077"]["disparity"] < 1
    assert sum(r["minutes"] for r in rows.values()) == f["minutes"] == sum(a["minutes"] for a in
                                                                          p["payload"]["assignments"])
    last = p["explanation"][-1]["sentence"]
    assert last.startswith("Fairness: ") and "share of recorded Break and Enter over the year before" in last
    # a plan that sends everything to 080 (3 of 14 break-ins) names it over-exposed and 077 under-exposed
    from lawful.patrol import fairness

    lopsided, text = fairness.plan_fairness([{"area": "080", "minutes": 60.0}, {"area": "077", "minutes": 15.0}],
                                            {a: r["crime"] for a, r in rows.items()}, "Break and Enter")
    assert lopsided["over"] == ["080"] and set(lopsided["under"]) == {"078", "079"}  # 077: 0.56x
    assert "Over-exposed (at least 1.5x their share of crime): 080 (80% of minutes, 21% of crime, 3.7x)" in text


def test_the_weekly_cap_counts_the_weeks_accepted_plans(patrol):
    week = {"max_visits_per_place_week": 1}
    first = patrol.plan(limits=week)
    used = {a["cell"] for a in first["payload"]["assignments"]}
    assert used and all(a["visits"] == 1 for a in first["payload"]["assignments"])
    from datetime import date

    # while the first plan is open it is not counted, but named
    open_week = patrol.plan(limits=week, day=date(2019, 12, 11))["payload"]["week"]
    assert open_week["open_plans"] == [first["id"]] and open_week["plans"] == [] and open_week["capped"] == []
    patrol.decide(first["id"], "supervisor", "accepted")
    second = patrol.plan(limits=week, day=date(2019, 12, 11))  # Wednesday, same week (Monday 9 to Sunday 15)
    pay = second["payload"]
    assert pay["week"]["plans"] == [first["id"]] and set(pay["week"]["capped"]) == used
    assert not used & {a["cell"] for a in pay["assignments"]}  # the earlier plan used up those places' cap
    assert any(e["sentence"].startswith("Weekly cap: ") for e in second["explanation"])
    nxt = patrol.plan(limits=week, day=date(2019, 12, 16))["payload"]  # Monday of the next week: the cap is new
    assert nxt["week"]["plans"] == [] and used & {a["cell"] for a in nxt["assignments"]}


def test_the_plan_shows_its_bound(patrol):
    best = patrol.plan()["payload"]["comparison"]["optimiser"]
    assert best["covered_share"] <= best["bound_share"] + 1e-9 and 0 <= best["gap"] < 1


def test_the_weekly_report_weighs_the_weeks_accepted_plans(patrol):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from lawful.governance.report import weekly

    p = patrol.plan()
    patrol.plan()  # left open
    patrol.decide(p["id"], "supervisor", "accepted")
    tz = ZoneInfo("America/Toronto")
    with patrol.tx() as s:
        text = weekly(s, week_ending=datetime.now(tz).date(), tz=tz, thresholds=patrol.t)
    section = text.split("## Patrol plans\n", 1)[1].split("\n## ", 1)[0]
    assert "- 2 plan(s) issued this week: 1 accepted, 1 open." in section
    minutes = sum(a["minutes"] for a in p["payload"]["assignments"])
    assert f"- Accepted or amended: 1, {minutes:.0f} patrol minutes in 4 neighbourhood(s)." in section
    assert "would have to move for minutes to follow crime" in section and "- Under-exposed: none." in section


PINGS = (ROOT / "examples" / "patrol" / "pings.csv").read_text()


def _accepted_plan(patrol) -> dict:
    p = patrol.plan()
    patrol.decide(p["id"], "supervisor", "accepted")
    return p


def test_gps_pings_become_visits_by_dwell_time_in_a_cell(patrol):
    from zoneinfo import ZoneInfo

    p = _accepted_plan(patrol)
    with patrol.tx() as s:
        d = service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], text=PINGS,
                                  source="pings.csv", tz=ZoneInfo("America/Toronto"))
    assert d["from"] == "GPS pings" and d["visits"] == 4
    with patrol.tx() as s:
        stays = sorted((v.unit, v.cell, round(v.minutes)) for v in s.scalars(select(service.Visit)))
    # 105,46: one ping driving through (no visit); 110,52: two pings, a 10 min gap, then a 6 min stay
    assert stays == [("unit-1", "104,46", 14), ("unit-1", "106,46", 15), ("unit-1", "110,52", 6),
                     ("unit-2", "98,40", 14)]
    assert d["koper_bands"] == {"under 10 min": 1, "10-16 min": 3, "over 16 min": 0}
    [collected] = [e for e in trail(patrol, "collection") if "GPS pings" in e.details]
    assert collected.actor == "supervisor"
    with patrol.tx() as s, pytest.raises(LawfulError, match=r"pings.csv row 3, field time \('at ten'\)"):
        service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], tz=ZoneInfo("UTC"),
                              text="unit,cell,time\nunit-1,\"106,46\",2019-12-10T22:05\nunit-1,\"106,46\",at ten\n",
                              source="pings.csv")
    with patrol.tx() as s, pytest.raises(LawfulError, match="no stay of 3 minutes or more in one cell"):
        service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], tz=ZoneInfo("UTC"),
                              text="unit,cell,time\nunit-1,\"106,46\",2019-12-10T22:05\n", source="pings.csv")


def test_crime_in_patrolled_places_is_marked_during_after_or_discovered(patrol):
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from lawful.incidents.models import Incident
    from tests.patrol.conftest import CELL, GX, GY

    p = _accepted_plan(patrol)
    tz = ZoneInfo("America/Toronto")

    def at(text):
        return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(timezone.utc)

    with patrol.tx() as s:  # in 106,46 (visited 22:05-22:20 by the log) and 130,80 (never patrolled)
        load = s.scalars(select(Incident.load_id)).first()
        x, y = GX + 106.5 * CELL, GY + 46.5 * CELL
        for n, (cell_xy, occurred, reported) in enumerate([
                ((x, y), "2019-12-10T22:10", "2019-12-10T22:12"),  # while the unit was there
                ((x, y), "2019-12-11T01:00", "2019-12-11T01:30"),  # in the shift, nobody there
                ((x, y), "2019-12-13T10:00", "2019-12-13T11:00"),  # within 7 days after
                ((x, y), "2019-12-09T18:00", "2019-12-10T22:15"),  # earlier, reported during the visit: discovery
                ((x, y), "2019-12-10T03:00", "2019-12-10T04:00"),  # before the shift: the comparison window
                ((x, y), "2019-12-25T10:00", "2019-12-25T11:00"),  # after the window
                ((GX + 130.5 * CELL, GY + 80.5 * CELL), "2019-12-10T22:30", None)]):
            s.add(Incident(source="test", source_key=f"late-{n}", category="Robbery", occurred_at=at(occurred),
                           reported_at=at(reported) if reported else None, lat=43.6, lon=-79.4, x=cell_xy[0],
                           y=cell_xy[1], area_code="077", classification="internal",
                           ingested_at=datetime.now(timezone.utc), load_id=load))
    with patrol.tx() as s:
        d = service.import_visits(s, actor=patrol.actor(s, "supervisor"), plan_id=p["id"], text=LOG,
                                  source="visits.csv", tz=tz)
    crime = d["crime"]
    assert crime["counts"] == {"during a visit": 1, "during the shift": 1, "after the patrol": 1,
                               "before the patrol": 1}
    assert crime["discovered"] == 1 and crime["before"] == 1 and crime["after_days"] == 7
    marks = {(i["occurred_at"][:16], i["mark"], i["discovered"]) for i in crime["incidents"]}
    assert {m for _, m, _ in marks} == set(crime["counts"]) and all(i["cell"] == "106,46" for i in crime["incidents"])
    assert [i["discovered"] for i in crime["incidents"] if i["mark"] == "before the patrol"] == [True]
