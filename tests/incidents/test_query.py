"""The incidents behind a place: `lawful incidents show ID` and `lawful incidents list` by cell, circle,
neighbourhood and dates, through GET /api/v1/incidents[/{id}], decided by the policy and on the trail."""

from __future__ import annotations

import json
import math

import pytest

from lawful import db
from lawful.forecast.grid import cell_box, from_lonlat
from tests.conftest import GOOD_ROWS, HEADER, TEST_MAPPING, run_cli, store_fingerprint, write_csv
from tests.forecast.test_cli_forecast import analyst, loaded  # noqa: F401  (fixtures)
from tests.web.conftest import people, server  # noqa: F401  (fixtures)

API = "/api/v1"


def audit(server, people, action: str) -> list[dict]:
    r = server.get(f"{API}/audit/log", params={"action": action, "limit": 1000}, headers=people("dee", "dpo"))
    assert r.status_code == 200, r.text
    return r.json()


def first_place(server, headers) -> dict:
    r = server.post(f"{API}/forecast/run", headers=headers, json={"day": "2019-12-24", "model": "naive-all", "top": 1,
                                                                  "since": "2018-01-01", "window_days": 365})
    assert r.status_code == 200, r.text
    return r.json()["places"][0]


# ---- the API ---------------------------------------------------------------------------------------------------------
def test_the_incidents_in_a_forecasts_place_are_the_ones_in_its_cell(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    place = first_place(server, ana)
    r = server.get(f"{API}/incidents", params={"cell": place["cell_id"], "limit": 10_000}, headers=ana)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == body["shown"] > 0
    x0, y0, x1, y1 = cell_box(place["cell_id"])
    for i in body["incidents"]:
        x, y = from_lonlat("EPSG:32617", i["lon"], i["lat"])
        assert x0 <= x < x1 and y0 <= y < y1 and i["cell_id"] == place["cell_id"]
    times = [i["occurred_at"] for i in body["incidents"]]
    assert times == sorted(times, reverse=True)  # newest first
    # the top cell's neighbourhood is the most common one of its incidents
    hoods = [i["neighbourhood"] for i in body["incidents"]]
    assert place["neighbourhood"] == max(sorted(set(hoods)), key=hoods.count)
    [entry] = [e for e in audit(server, people, "consultation") if e["object"] == "incidents:query"]
    assert entry["actor"] == "ana" and json.loads(entry["details"])["matched"] == body["total"]


def test_a_circle_neighbourhood_and_dates_narrow_the_query(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    q = {"lon": -79.4163, "lat": 43.7001, "radius": 150, "from": "2019-06-01", "to": "2019-06-30",
         "category": "Break and Enter", "limit": 10_000}
    body = server.get(f"{API}/incidents", params=q, headers=ana).json()
    assert body["total"] > 0
    cx, cy = from_lonlat("EPSG:32617", -79.4163, 43.7001)
    for i in body["incidents"]:
        x, y = from_lonlat("EPSG:32617", i["lon"], i["lat"])
        assert math.hypot(x - cx, y - cy) <= 150 + 1  # (lon/lat are rounded to 6 places)
        assert "2019-06-01" <= i["occurred_local"][:10] <= "2019-06-30"  # --to is the last day included
        assert i["category"] == "Break and Enter"
    wider = server.get(f"{API}/incidents", params={**q, "radius": 1000}, headers=ana).json()["total"]
    assert wider >= body["total"]
    hood = server.get(f"{API}/incidents", params={"neighbourhood": "Hood1", "limit": 3}, headers=ana).json()
    assert hood["shown"] == 3 and hood["total"] > 3 and {i["neighbourhood"] for i in hood["incidents"]} == {"Hood1"}
    none = server.get(f"{API}/incidents", params={"neighbourhood": "hood1"}, headers=ana).json()
    assert none["total"] == 0 and "Hood1" in none["hint"]
    future = server.get(f"{API}/incidents", params={"from": "2999-01-01", "to": "9999-12-31"}, headers=ana).json()
    assert future["total"] == 0 and future["incidents"] == []


def test_one_incident_by_id_and_an_unknown_id_is_a_404_problem(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    [i] = server.get(f"{API}/incidents", params={"limit": 1}, headers=ana).json()["incidents"]
    r = server.get(f"{API}/incidents/{i['id']}", headers=ana)
    assert r.status_code == 200, r.text
    one = r.json()
    assert {k: one[k] for k in i} == i
    assert one["attributes"] == {"weapon": "none"} and one["source"] == "test-rms" and one["source_key"]
    assert any(e["object"] == f"incident:{i['id']}" and e["actor"] == "ana"
               for e in audit(server, people, "consultation"))
    r = server.get(f"{API}/incidents/999999", headers=ana)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "no incident 999999" in r.json()["detail"] and "lawful incidents list" in r.json()["fix"]
    assert server.get(f"{API}/incidents/0", headers=ana).status_code == 422
    assert server.get(f"{API}/incidents/stats", headers=ana).status_code == 200  # still its own route


@pytest.mark.parametrize("params, message", [
    ({"lon": "nan", "lat": 43.65}, "lon"),
    ({"lon": -79.38, "lat": "inf"}, "lat"),
    ({"lon": -79.38}, "--near needs both"),
    ({"radius": 100}, "--radius needs --near"),
    ({"lon": 43.65, "lat": -79.38}, "swapped pair"),
    ({"lon": -79.38, "lat": 43.65, "radius": 50_000}, "radius"),
    ({"lon": -79.38, "lat": 43.65, "radius": 0}, "radius"),
    ({"cell": "3047,24135"}, "e.g. 200m:3047:24135"),
    ({"from": "2019-12-31", "to": "2019-12-01"}, "is before --from"),
    ({"from": "2019-13-01"}, "from"),
    ({"limit": 0}, "limit"),
])
def test_bad_queries_are_422_problems_that_say_the_fix_and_read_nothing(loaded, server, people, params,  # noqa: F811
                                                                        message):
    ana = people("ana", "analyst")
    r = server.get(f"{API}/incidents", params=params, headers=ana)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert message in r.json()["detail"] + r.json().get("fix", "")
    assert [e for e in audit(server, people, "consultation") if e["object"] == "incidents:query"] == []


def test_clearance_below_the_incidents_and_roles_without_incidents_read_are_refused_on_the_trail(
        store, server, people, tmp_path):
    """Secret incidents: an internal-clearance analyst gets neither one nor a list; an officer reads none."""
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file

    (tmp_path / "m.toml").write_text(TEST_MAPPING.replace('classification = "internal"', 'classification = "secret"'))
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as session:
            ingest_file(session, path=write_csv(tmp_path / "s.csv", GOOD_ROWS, HEADER),
                        mapping=load_mapping(tmp_path / "m.toml"), settings=store, actor="test-setup")
    finally:
        engine.dispose()
    ana, sid, otto = people("ana", "analyst"), people("sid", "analyst", clearance="secret"), people("otto", "officer")
    assert server.get(f"{API}/incidents/1", headers=sid).status_code == 200
    assert server.get(f"{API}/incidents", headers=sid).json()["total"] == 3
    before = store_fingerprint(store)
    for who, path in ((ana, f"{API}/incidents/1"), (ana, f"{API}/incidents"), (otto, f"{API}/incidents/1"),
                      (otto, f"{API}/incidents")):
        r = server.get(path, headers=who)
        assert r.status_code == 403 and r.json()["kind"] == "denied", r.text
    assert "secret, above ana's clearance (internal)" in server.get(f"{API}/incidents/1", headers=ana).json()["detail"]
    assert store_fingerprint(store) == before
    denied = [e["actor"] for e in audit(server, people, "access.deny")]
    assert denied.count("ana") == 3 and denied.count("otto") == 2  # every refusal on the trail


def test_personal_fields_come_back_only_as_pseudonyms(store, server, people, tmp_path):
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file
    from lawful.privacy.service import pseudonym_key  # noqa: F401  (the key is made on first use)

    (tmp_path / "m.toml").write_text(TEST_MAPPING.replace('keep = ["weapon"]',
                                                          'keep = ["weapon"]\npseudonymise = ["victim_name"]'))
    ana = people("ana", "analyst")  # (the first admin exists from here on: the key's creation needs an actor)
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as session:
            ingest_file(session, path=write_csv(tmp_path / "p.csv", GOOD_ROWS, HEADER),
                        mapping=load_mapping(tmp_path / "m.toml"), settings=store, actor="test-setup")
    finally:
        engine.dispose()
    found = server.get(f"{API}/incidents", params={"neighbourhood": "Downtown"}, headers=ana).json()["incidents"]
    one = server.get(f"{API}/incidents/{found[0]['id']}", headers=ana)
    assert one.status_code == 200, one.text
    assert one.json()["attributes"]["victim_name"].startswith("psn:") and "Jane Roe" not in one.text


def test_an_empty_store_answers_an_empty_list_not_an_error(store, server, people):
    r = server.get(f"{API}/incidents", params={"cell": "200m:3150:24175"}, headers=people("ana", "analyst"))
    assert r.status_code == 200 and r.json()["total"] == 0


# ---- the CLI ---------------------------------------------------------------------------------------------------------
def test_incidents_list_and_show_from_the_command_line(loaded, analyst, capsys):  # noqa: F811
    code, out, err = run_cli(["forecast", "run", "--as", "ana", "--date", "2019-12-24", "--model", "naive-all",
                              "--top", "1", "--since", "2018-01-01", "--json"], capsys)
    assert code == 0, err
    [place] = json.loads(out)
    code, out, err = run_cli(["incidents", "list", "--as", "ana", "--cell", place["cell_id"], "--from", "2019-12-01",
                              "--to", "2019-12-23", "--limit", "5"], capsys)
    assert code == 0, err
    assert "newest first" in out and place["cell_id"] in out and "Break and Enter" in out
    code, out, err = run_cli(["incidents", "list", "--as", "ana", "--near", "-79.4163,43.7001", "--radius", "100",
                              "--json"], capsys)
    assert code == 0, err
    r = json.loads(out)
    assert r["total"] >= r["shown"] > 0
    first = r["incidents"][0]
    code, out, err = run_cli(["incidents", "show", str(first["id"]), "--as", "ana"], capsys)
    assert code == 0, err
    assert f"Incident {first['id']}" in out and first["cell_id"] in out and "weapon" in out
    code, out, err = run_cli(["incidents", "show", str(first["id"]), "--as", "ana", "--json"], capsys)
    assert json.loads(out)["id"] == first["id"]
    code, out, err = run_cli(["incidents", "list", "--as", "ana", "--neighbourhood", "Nowhere"], capsys)
    assert code == 0 and "No stored incident matches" in err and out == ""


@pytest.mark.parametrize("args, message", [
    (["show", "424242"], "no incident 424242 is stored"),
    (["list", "--near", "nan,nan"], "--near 'nan,nan' is not a point"),
    (["list", "--near", "-79.38"], "is not a point"),
    (["list", "--near", "43.65,-79.38"], "swapped pair"),
    (["list", "--cell", "cell 3,4"], "is not a cell id"),
    (["list", "--from", "tomorrow"], "--from 'tomorrow' is not a date"),
    (["list", "--from", "2019-12-31", "--to", "2019-01-01"], "is before --from"),
])
def test_bad_incident_commands_exit_2_with_the_fix(loaded, analyst, capsys, args, message):  # noqa: F811
    code, out, err = run_cli(["incidents", *args, "--as", "ana"], capsys)
    assert code == 2 and message in err and out == "", err


def test_no_sign_in_no_incidents(loaded, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("LAWFUL_TOKEN", raising=False)  # (this folder's conftest signs a loader in)
    code, out, err = run_cli(["incidents", "list"], capsys)
    assert code == 2 and "sign in" in err and out == ""
