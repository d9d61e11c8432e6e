"""The forecasting API: analyses as jobs or one request, each decided by the policy and on the trail; an
operational forecast only through the governance gate."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import _token_of
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture)

SMALL = {"since": "2018-01-01", "window_days": 180}


def finished(server, headers: dict, job: dict):
    """A job's result, followed the way the CLI follows it (lawful.client over this server)."""
    from lawful import client

    assert job["state"] in ("queued", "running", "done") and job["id"]
    client.HTTP_FACTORY = lambda _server: server
    return client.Client(token=headers["Authorization"].split()[1]).wait(job)


def log(server, dpo: dict, action: str) -> list[dict]:
    r = server.get("/api/v1/audit/log", params={"action": action, "limit": 100}, headers=dpo)
    assert r.status_code == 200, r.text
    entries = r.json()
    for e in entries:  # the trail keeps details as the JSON text it hashed
        e["details"] = json.loads(e["details"]) if isinstance(e["details"], str) else e["details"]
    return entries


def test_a_forecast_lists_places_with_terms_and_is_development_by_the_caller(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/forecast/run", json={"day": "2019-12-01", "model": "kde", "top": 3, **SMALL},
                    headers=ana)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["category"], body["day"], body["model"]) == ("Break and Enter", "2019-12-01", "kde")
    assert [p["rank"] for p in body["places"]] == [1, 2, 3]
    first = body["places"][0]
    assert sum(t["value"] for t in first["terms"]) == pytest.approx(first["score"])
    assert "incidents within 200 m" in first["sentence"]
    [entry] = log(server, people("dee", "dpo"), "development")
    assert (entry["actor"], entry["object"], entry["purpose"]) == ("ana", "incidents:Break and Enter", "crime analysis")
    assert entry["details"]["analysis"] == "forecast run"


def test_a_backtest_job_returns_its_summary_and_the_report_files(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/forecast/backtests", headers=ana, json={
        "start": "2019-11-01", "end": "2019-12-25", "every_days": 14, "models": "naive,naive-all", "report": True,
        **SMALL})
    assert r.status_code == 202, r.text
    result = finished(server, ana, r.json())
    assert result["days"] == 4 and result["models"] == ["naive", "naive-all"]
    assert [(s["model"], s["coverage"]) for s in result["summaries"]][:2] == [("naive", 0.01), ("naive", 0.02)]
    assert result["files"]["days.csv"].startswith("model,day,events,coverage")
    assert "| naive-all | 5% |" in result["files"]["report.md"]
    assert base64.b64decode(result["map_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    other = people("otto", "analyst")  # someone else's job does not exist for them
    assert server.get(f"/api/v1/jobs/{r.json()['id']}", headers=other).status_code == 404


def test_audit_and_feedback_jobs(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/forecast/audit", headers=ana, json={
        "start": "2019-09-01", "end": "2019-12-24", "every_days": 14, "top": 2, **SMALL})
    assert r.status_code == 202, r.text
    a = finished(server, ana, r.json())
    assert a["model"] == "naive-all" and 0 <= a["misplaced"] <= 1 and len(a["most_over"]) <= 2
    assert sum(x["incident_share"] for x in a["areas"]) == pytest.approx(1.0)
    r = server.post("/api/v1/forecast/feedback", headers=ana, json={
        "start": "2018-12-01", "rounds": 2, "models": "naive", **SMALL})
    assert r.status_code == 202, r.text
    runs = finished(server, ana, r.json())
    assert [(x["model"], x["corrected"], len(x["drift"])) for x in runs] == [("naive", False, 3), ("naive", True, 3)]
    analyses = [e["details"]["analysis"] for e in log(server, people("dee", "dpo"), "development")]
    assert sorted(analyses) == ["exposure audit", "feedback simulation"]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/forecast/run", {"model": "naive"}),
    ("/api/v1/forecast/backtests", {"models": "naive"}),
])
def test_a_role_without_incidents_read_is_refused_and_the_refusal_is_on_the_trail(loaded, server, people, path,  # noqa: F811
                                                                                   body):
    dpo = people("dee", "dpo")
    r = server.post(path, json={**body, **SMALL}, headers=dpo)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "incidents.read" in r.json()["detail"]
    [denial] = log(server, dpo, "access.deny")
    assert denial["actor"] == "dee" and denial["details"]["action"] == "incidents.read"
    assert log(server, dpo, "development") == []


def test_clearance_below_the_incidents_gets_nothing(loaded, server, people):  # noqa: F811
    pia = people("pia", "analyst", clearance="public")
    r = server.post("/api/v1/forecast/backtests", json={"models": "naive", **SMALL}, headers=pia)
    assert r.status_code == 403, r.text
    assert "internal, above pia's clearance (public)" in r.json()["detail"]


@pytest.mark.parametrize("body, message", [
    ({"top": 0}, "top"),
    ({"cell": 5}, "--cell 5 m is too small"),
    ({"model": "oracle"}, "unknown model 'oracle'"),
    ({"model": "naive,kde"}, "names 2 models"),
    ({"category": "Arson"}, "no incidents of category 'Arson'"),
    ({"purpose": "x" * 201}, "purpose"),
    ({"day": "2019-13-01"}, "day"),
])
def test_bad_input_is_422_and_writes_nothing(loaded, server, people, body, message):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/forecast/run", json={"model": "naive", **SMALL, **body}, headers=ana)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert message in r.json()["detail"]
    assert log(server, people("dee", "dpo"), "development") == []


def test_a_backtest_may_use_only_the_servers_own_dask_scheduler(loaded, server, people, monkeypatch):  # noqa: F811
    ana = people("ana", "analyst")
    body = {"models": "naive", "scheduler": "tcp://203.0.113.9:8786", **SMALL}
    r = server.post("/api/v1/forecast/backtests", json=body, headers=ana)
    assert r.status_code == 422 and "it offers none" in r.json()["detail"]
    monkeypatch.setenv("LAWFUL_DASK_SCHEDULER", "tcp://10.0.0.5:8786")
    r = server.post("/api/v1/forecast/backtests", json=body, headers=ana)
    assert r.status_code == 422 and "it offers only tcp://10.0.0.5:8786" in r.json()["detail"]


def test_an_operational_forecast_leaves_only_through_the_gate(loaded, server):  # noqa: F811
    from tests.governance.conftest import Gov

    gov = Gov(loaded)
    try:
        ref = gov.active(tier="medium")
    finally:
        gov.engine.dispose()
    analyst = {"Authorization": f"Bearer {_token_of(loaded, 'analyst')}"}
    dpo = {"Authorization": f"Bearer {_token_of(loaded, 'dpo')}"}
    r = server.post("/api/v1/forecast/issue", headers=analyst,
                    json={"ref": ref, "purpose": "patrol planning", "day": "2019-12-10"})
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["model"], o["sandbox"], o["status"], o["day"]) == (ref, False, "open", "2019-12-10")
    assert o["places"] == len(o["explanation"]) > 0 and o["explanation"][0]["sentence"]
    [issued] = log(server, dpo, "output.issue")
    assert issued["actor"] == "analyst" and issued["object"] == f"output:{o['id']}"
    r = server.post("/api/v1/forecast/issue", headers=analyst,
                    json={"ref": ref, "purpose": "investigation 2019-1", "day": "2019-12-10"})
    assert r.status_code == 403
    assert r.json()["detail"].startswith("the gate refused:") and "'investigation 2019-1'" in r.json()["detail"]
    [refusal] = log(server, dpo, "gate.refuse")
    assert refusal["actor"] == "analyst" and refusal["purpose"] == "investigation 2019-1"
    assert len(log(server, dpo, "output.issue")) == 1


def test_a_days_surface_exports_as_geojson_and_csv_inside_the_jurisdiction(loaded, server, people):  # noqa: F811
    from lawful.settings import TORONTO_BOUNDS

    ana = people("ana", "analyst")
    q = {"day": "2019-12-24", "model": "naive-all", "top": 5, **SMALL}
    r = server.post("/api/v1/forecast/map", json=q, headers=ana)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["surface"]) == body["cells_valid"] and [p["rank"] for p in body["places"]] == [1, 2, 3, 4, 5]
    assert body["recent"] and all(e["at"] < "2019-12-24" and e["at"] >= "2019-12-17" for e in body["recent"])
    r = server.get("/api/v1/forecast/export/surface.geojson", params=q, headers=ana)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = json.loads(r.text)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == body["cells_valid"]
    lo_lon, lo_lat, hi_lon, hi_lat = TORONTO_BOUNDS
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
        assert all(lo_lon <= lon <= hi_lon and lo_lat <= lat <= hi_lat for lon, lat in ring)
    first = min(fc["features"], key=lambda f: f["properties"]["rank"])["properties"]
    assert first["score"] == body["places"][0]["score"] and first["sentence"] == body["places"][0]["sentence"]
    r = server.get("/api/v1/forecast/export/places.csv", params=q, headers=ana)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "rank,cell_id,neighbourhood,lon,lat,score,sentence,cell,wkt" and len(lines) == 6
    assert "POLYGON((" in lines[1] and body["places"][0]["cell_id"] in lines[1]
    assert {"cell_id", "lon", "lat", "neighbourhood"} <= set(first) and first["cell_id"] == body["places"][0]["cell_id"]
    analyses = [e["details"]["analysis"] for e in log(server, people("dee", "dpo"), "development")]
    assert analyses.count("forecast map") == 3
    # a role the policy refuses incidents.read, and bad input
    dpo = people("dee2", "dpo")
    r = server.get("/api/v1/forecast/export/places.geojson", params=q, headers=dpo)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert any(e["actor"] == "dee2" for e in log(server, dpo, "access.deny"))
    assert server.get("/api/v1/forecast/export/places.kml", params=q, headers=ana).status_code == 422
    assert server.get("/api/v1/forecast/export/places.csv", params={**q, "top": 0}, headers=ana).status_code == 422


# ---- outputs an analyst can trust ------------------------------------------------------------------------------------
def test_an_operational_forecast_needs_its_day_and_fresh_data_and_a_stale_one_is_the_gates_refusal(
        loaded, server):  # noqa: F811
    from tests.conftest import store_fingerprint
    from tests.governance.conftest import Gov

    gov = Gov(loaded)
    try:
        ref = gov.active(tier="medium")
    finally:
        gov.engine.dispose()
    analyst = {"Authorization": f"Bearer {_token_of(loaded, 'analyst')}"}
    dpo = {"Authorization": f"Bearer {_token_of(loaded, 'dpo')}"}
    before = store_fingerprint(loaded)
    r = server.post("/api/v1/forecast/issue", headers=analyst, json={"ref": ref, "purpose": "patrol planning"})
    assert r.status_code == 422 and r.json()["detail"] == "body.day: Field required"
    assert log(server, dpo, "gate.refuse") == []
    r = server.post("/api/v1/forecast/issue", headers=analyst,
                    json={"ref": ref, "purpose": "patrol planning", "day": "2030-06-01"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json", r.text
    problem = r.json()
    assert problem["kind"] == "conflict" and problem["detail"].startswith("the gate refused: the last stored Break "
                                                                          "and Enter incident before 2030-06-01 is "
                                                                          "from 2019-12-31")
    assert "load the incidents up to 2030-05-31" in problem["fix"]
    [refusal] = log(server, dpo, "gate.refuse")
    assert refusal["actor"] == "analyst" and refusal["object"] == f"model:{ref}"
    assert "3805 days earlier" in refusal["details"]["reason"]
    assert store_fingerprint(loaded) == before  # no output, no review: only the trail moved
    r = server.post("/api/v1/forecast/issue", headers=analyst,
                    json={"ref": ref, "purpose": "patrol planning", "day": "2020-01-10"})
    assert r.status_code == 201, r.text  # 10 days after the last incident: within the server's 14
    cells = r.json()["cells"]
    assert cells and all({"cell_id", "lon", "lat", "neighbourhood", "ring", "sentence"} <= set(c) for c in cells)


@pytest.mark.parametrize("path", ["/api/v1/forecast/run", "/api/v1/forecast/map"])
def test_a_one_day_forecast_far_in_the_future_is_a_409_with_the_fix(loaded, server, people, path):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post(path, json={"model": "naive", "day": "2999-01-01", **SMALL}, headers=ana)
    assert r.status_code == 409 and r.json()["kind"] == "conflict", r.text
    assert "is from 2019-12-31" in r.json()["detail"] and "forecast a day up to 2020-01-14" in r.json()["fix"]
    assert log(server, people("dee", "dpo"), "development") == []
    r = server.get("/api/v1/forecast/export/places.geojson", params={"day": "2999-01-01", **SMALL}, headers=ana)
    assert r.status_code == 409


def test_a_backtest_with_no_data_on_its_days_is_refused_before_it_becomes_a_job(loaded, server, people):  # noqa: F811
    ana = people("ana", "analyst")
    r = server.post("/api/v1/forecast/backtests", headers=ana,
                    json={"start": "2024-01-01", "end": "2024-02-01", "models": "naive", **SMALL})
    assert r.status_code == 409 and "every day would be scored on nothing" in r.json()["detail"], r.text
    assert log(server, people("dee", "dpo"), "development") == []
