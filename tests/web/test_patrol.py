"""The patrol API: a plan over an accepted forecast, decided through review, exported, measured; refusals on the
trail; bad input a 422. And the CLI over the same server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import _token_of, run_cli
from tests.patrol.conftest import UNITS, Patrol

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "patrol" / "visits.csv"


@pytest.fixture
def patrol(store):
    p = Patrol(store)
    yield p
    p.engine.dispose()


def who(store, name: str) -> dict:
    return {"Authorization": f"Bearer {_token_of(store, name)}"}


def log(server, dpo: dict, action: str) -> list[dict]:
    r = server.get("/api/v1/audit/log", params={"action": action, "limit": 100}, headers=dpo)
    assert r.status_code == 200, r.text
    return [{**e, "details": json.loads(e["details"]) if isinstance(e["details"], str) else e["details"]}
            for e in r.json()]


def test_plan_decide_export_and_dosage_through_the_api(store, patrol, server):
    analyst, supervisor = who(store, "analyst"), who(store, "supervisor")
    r = server.post("/api/v1/patrol/plans", headers=analyst,
                    json={"forecast": patrol.forecast, "planner": patrol.planner, "units": UNITS})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "open" and plan["payload"]["comparison"]["optimiser"]["visits"] > 0
    assert server.get(f"/api/v1/patrol/plans/{plan['id']}/export", headers=analyst).status_code == 409
    r = server.post(f"/api/v1/review/outputs/{plan['id']}/decision", headers=supervisor,
                    json={"decision": "accepted", "reason": "fits tonight's briefing"})
    assert r.status_code == 200, r.text
    r = server.get(f"/api/v1/patrol/plans/{plan['id']}/export", params={"format": "geojson"}, headers=analyst)
    assert r.status_code == 200, r.text
    feats = r.json()["geojson"]["features"]
    assert feats and feats[0]["properties"]["reason"].startswith(f"cell {feats[0]['properties']['cell']}: ")
    r = server.post(f"/api/v1/patrol/plans/{plan['id']}/visits", headers=supervisor,
                    files={"file": ("visits.csv", LOG.read_bytes(), "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["visits"] == 8 and r.json()["outside_plan"]
    d = server.get(f"/api/v1/patrol/plans/{plan['id']}/dosage", headers=analyst).json()
    assert d["delivered_min"] == r.json()["delivered_min"] and "111,52" in d["never_visited"]
    dpo = who(store, "dpo")
    [decided] = [e for e in log(server, dpo, "review.decide") if e["object"] == f"output:{plan['id']}"]
    assert decided["actor"] == "supervisor" and decided["details"]["decision"] == "accepted"


def test_a_role_the_policy_refuses_gets_403_and_the_denial_is_on_the_trail(store, patrol, server):
    officer, dpo = who(store, "officer"), who(store, "dpo")
    r = server.post("/api/v1/patrol/plans", headers=officer,
                    json={"forecast": patrol.forecast, "planner": patrol.planner, "units": UNITS})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "patrol.plan" in r.json()["detail"]
    denials = [e for e in log(server, dpo, "access.deny") if e["actor"] == "officer"]
    assert denials and denials[0]["details"]["action"] == "patrol.plan"
    assert [e for e in log(server, dpo, "output.issue") if e["details"]["kind"] == "plan"] == []


@pytest.mark.parametrize("change, message", [
    ({"units": []}, "units"),
    ({"shift": "22h-6h"}, "shift"),
    ({"units": [{"name": "u", "lon": float("nan"), "lat": 43.6}]}, "lon"),
    ({"units": [{"name": "u", "lon": 43.65, "lat": -79.38}]}, "outside the jurisdiction"),
    ({"max_area_share": 0}, "max_area_share"),
])
def test_bad_input_is_422(store, patrol, server, change, message):
    body = {"forecast": patrol.forecast, "planner": patrol.planner, "units": UNITS, **change}
    r = server.post("/api/v1/patrol/plans", headers={**who(store, "analyst"), "content-type": "application/json"},
                    content=json.dumps(body, allow_nan=True))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert message in r.text


def test_the_cli_plans_and_writes_the_exports(store, patrol, capsys, tmp_path):
    code, out, err = run_cli(["patrol", "plan", str(patrol.forecast), "--planner", patrol.planner, "--units", "2",
                              "--base", "-79.38,43.655", "--base", "-79.40,43.65", "--as", "analyst"], capsys)
    assert code == 0, err
    assert out.startswith("Plan ") and "of the forecast risk" in out and "(limit 30%)" in out
    plan_id = int(out.split()[1])
    code, _, err = run_cli(["patrol", "export", str(plan_id), "--out", str(tmp_path / "p.csv"), "--as", "analyst"],
                           capsys)
    assert code == 2 and "dispatch receives only a plan a supervisor accepted" in err
    code, _, err = run_cli(["review", "decide", str(plan_id), "--accept", "--reason", "ok", "--as", "supervisor"],
                           capsys)
    assert code == 0, err
    for fmt in ("csv", "geojson"):
        code, _, err = run_cli(["patrol", "export", str(plan_id), "--format", fmt, "--out",
                                str(tmp_path / f"p.{fmt}"), "--as", "analyst"], capsys)
        assert code == 0, err
    assert (tmp_path / "p.csv").read_text().startswith("plan,unit,order,cell,lon,lat")
    assert json.loads((tmp_path / "p.geojson").read_text())["type"] == "FeatureCollection"
    code, out, err = run_cli(["patrol", "visits", str(plan_id), str(LOG), "--as", "supervisor"], capsys)
    assert code == 0, err
    assert "planned minutes delivered" in out and "cell not in the plan" in out


def test_the_briefing_is_one_printable_page_per_unit_without_script_or_outside_assets(store, patrol, server, capsys,
                                                                                      tmp_path):
    import base64
    import hashlib
    import re

    analyst = who(store, "analyst")
    plan = server.post("/api/v1/patrol/plans", headers=analyst,
                       json={"forecast": patrol.forecast, "planner": patrol.planner, "units": UNITS}).json()
    url = f"/api/v1/patrol/plans/{plan['id']}/briefing"
    r = server.get(url, headers=analyst)
    assert r.status_code == 409 and "a shift is briefed on only a plan a supervisor accepted" in r.json()["detail"]
    server.post(f"/api/v1/review/outputs/{plan['id']}/decision", headers=who(store, "supervisor"),
                json={"decision": "accepted", "reason": "ok"})
    r = server.get(url, headers=analyst)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    pages = re.findall(r'<section class="page">(.*?)</section>', html, re.S)
    assert len(pages) == len(plan["payload"]["units"]) == 2
    for unit, page in zip(plan["payload"]["units"], pages):
        assert f"Unit {unit['name']}: {len(unit['stops'])} stop(s)" in page and page.count("<svg") == 1
        rows = re.findall(r"<tr><td class=\"n\">(\d+)</td>", page)
        assert [int(n) for n in rows] == [s["order"] for s in unit["stops"]]
        first = unit["stops"][0]
        assert f"<td class=\"n\">{first['arrive'][11:16]}</td>" in page and "of tonight&#x27;s forecast risk" in page
    # strict: no script, no style attribute, nothing fetched; the one <style> is allowed by its hash alone
    assert "<script" not in html and " style=" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html and "url(" not in html
    csp = r.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "unsafe" not in csp
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'" in csp
    assert "@page" in css and "break-after: page" in css
    code, out, err = run_cli(["patrol", "briefing", str(plan["id"]), "-o", str(tmp_path / "b.html"), "--as",
                              "analyst"], capsys)
    assert code == 0, err
    assert (tmp_path / "b.html").read_text().count('<section class="page">') == 2
    briefed = [e for e in log(server, who(store, "dpo"), "disclosure") if e["details"].get("format") == "briefing"]
    assert len(briefed) == 2 and briefed[0]["object"] == f"output:{plan['id']}"


def test_the_cli_imports_gps_pings(store, patrol, capsys):
    code, out, err = run_cli(["patrol", "plan", str(patrol.forecast), "--planner", patrol.planner, "--units", "2",
                              "--base", "-79.38,43.655", "--base", "-79.40,43.65", "--as", "analyst"], capsys)
    plan_id = int(out.split()[1])
    run_cli(["review", "decide", str(plan_id), "--accept", "--reason", "ok", "--as", "supervisor"], capsys)
    code, out, err = run_cli(["patrol", "visits", str(plan_id), str(ROOT / "examples" / "patrol" / "pings.csv"),
                              "--as", "supervisor"], capsys)
    assert code == 0, err
    assert "4 visits" in out and "crime recorded in the 4 patrolled place(s)" in out
