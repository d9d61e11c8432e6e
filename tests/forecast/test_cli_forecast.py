"""`lawful forecast ...` on a real store (SQLite and PostgreSQL): what an analyst types and sees."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sqlalchemy import text

from lawful import db
from tests.conftest import HEADER, mint_token, run_cli, write_csv


@pytest.fixture
def loaded(store, tmp_path, mapping_file, capsys):
    """Two years of synthetic Break and Enter and Robbery around three hotspots in Toronto."""
    rng = np.random.default_rng(7)
    rows = []
    hot = [(43.6532, -79.3832), (43.7001, -79.4163), (43.6400, -79.5000)]
    start = np.datetime64("2018-01-01T00:00")
    for i in range(2400):
        if i % 3 == 0:
            lat, lon = rng.uniform(43.60, 43.78), rng.uniform(-79.55, -79.25)
        else:
            lat, lon = hot[i % 3]
            lat, lon = lat + rng.normal(0, 0.002), lon + rng.normal(0, 0.002)
        when = start + np.timedelta64(int(rng.uniform(0, 730 * 24 * 60)), "m")
        offence = "Break and Enter" if i % 5 else "Robbery"
        when_text = str(when).replace("T", " ")[:16]
        rows.append(f"S{i},{offence},{when_text},{lat:.5f},{lon:.5f},Hood{i % 4},House,none,")
    path = write_csv(tmp_path / "synthetic.csv", rows, HEADER)
    # Loaded through the incidents service directly: no one is signed in yet (the fixture is shared with tests that
    # create their own first admin), and ingest through the API has its own tests.
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file

    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as session:
            summary = ingest_file(session, path=path, mapping=load_mapping(mapping_file), settings=store,
                                  actor="test-setup")
    finally:
        engine.dispose()
    assert summary.inserted == 2400
    return store


@pytest.fixture
def analyst(loaded):
    """An analyst cleared for the (internal) incidents, signed in by `--as ana`."""
    mint_token(loaded, "ana", ("analyst",), "internal")
    return "ana"


def what_is_stored(settings) -> tuple:
    """The incidents, loads and the whole decision trail (sign-ins touch only their token's last use)."""
    engine = db.open_store(settings)
    try:
        with engine.connect() as conn:
            return tuple(tuple(conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all())
                         for table in ("loads", "incidents", "quarantine", "audit_entries", "audit_checkpoints"))
    finally:
        engine.dispose()


def trail(settings, action: str) -> list[tuple]:
    engine = db.open_store(settings)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT actor, object, purpose, details FROM audit_entries WHERE action = :a ORDER BY seq"),
                {"a": action})]
    finally:
        engine.dispose()


BACKTEST = ["forecast", "backtest", "--as", "ana", "--start", "2019-10-01", "--end", "2019-12-25", "--every", "14d",
            "--since", "2018-01-01", "--window", "180d"]


def test_backtest_json_gives_one_record_per_model_and_coverage(loaded, analyst, capsys):
    code, out, err = run_cli([*BACKTEST, "--models", "naive,kde,sepp", "--json"], capsys)
    assert code == 0, err
    records = json.loads(out)
    assert [(r["model"], r["coverage"]) for r in records][:6] == [
        ("naive", 0.01), ("naive", 0.02), ("naive", 0.05), ("naive", 0.1), ("naive", 0.2), ("kde", 0.01)]
    assert len(records) == 15
    for r in records:
        assert r["days"] == 7 and 0 <= r["hit_rate"] <= 1 and r["fit_seconds"] >= 0
    naive5 = next(r for r in records if r["model"] == "naive" and r["coverage"] == 0.05)
    assert naive5["pai"] > 3  # two thirds of the incidents sit in three hotspots: far better than random


def test_backtest_table_and_files(loaded, analyst, capsys, tmp_path):
    out_dir = tmp_path / "bt"
    code, out, err = run_cli([*BACKTEST, "--models", "naive-all,prospective", "--out", str(out_dir)], capsys)
    assert code == 0, err
    assert "naive-all" in out and "prospective" in out and "PAI 95%" in out
    assert {p.name for p in out_dir.iterdir()} == {"days.csv", "summary.csv", "report.md", "map.png"}
    assert (out_dir / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    days = (out_dir / "days.csv").read_text().splitlines()
    assert days[0].startswith("model,day,events,coverage") and len(days) == 1 + 2 * 7 * 5
    assert "| naive-all | 5% |" in (out_dir / "report.md").read_text()


def test_run_prints_top_places_with_explanations(loaded, analyst, capsys):
    code, out, err = run_cli(["forecast", "run", "--as", "ana", "--date", "2019-12-01", "--model", "kde", "--top", "3",
                              "--since", "2018-01-01"], capsys)
    assert code == 0, err
    assert out.count("score") == 3 and "incidents within 200 m" in out and "%" in out
    code, out, _ = run_cli(["forecast", "run", "--as", "ana", "--date", "2019-12-01", "--model", "naive", "--top", "2",
                            "--since", "2018-01-01", "--json"], capsys)
    places = json.loads(out)
    assert [p["rank"] for p in places] == [1, 2]
    assert sum(t["value"] for t in places[0]["terms"]) == pytest.approx(places[0]["score"])


def test_audit_and_feedback_report_areas_and_drift(loaded, analyst, capsys):
    code, out, err = run_cli(["forecast", "audit", "--as", "ana", "--start", "2019-09-01", "--end", "2019-12-24", "--every", "14d",
                              "--since", "2018-01-01", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == "naive-all" and 0 <= result["misplaced"] <= 1
    table = result["areas"]
    assert {r["area"] for r in table} <= {"Hood0", "Hood1", "Hood2", "Hood3", "unknown"}
    assert sum(r["incident_share"] for r in table) == pytest.approx(1.0)
    code, out, err = run_cli(["forecast", "feedback", "--as", "ana", "--start", "2018-12-01", "--rounds", "3", "--models", "naive",
                              "--since", "2018-01-01", "--json"], capsys)
    assert code == 0, err
    runs = json.loads(out)
    assert [(r["model"], r["corrected"]) for r in runs] == [("naive", False), ("naive", True)]
    assert all(len(r["drift"]) == 4 for r in runs)


@pytest.mark.parametrize("args, message", [
    (["--category", "Arson"], "no incidents of category 'Arson'"),
    (["--every", "weekly"], "--every 'weekly' is not a duration"),
    (["--models", "naive,oracle"], "unknown model 'oracle'"),
    (["--start", "2019-13-01"], "--start '2019-13-01' is not a date"),
    (["--end", "2019-10-01"], "is not after --start"),
    (["--scheduler", "tcp://10.9.9.9:8786"], "does not run backtests on the Dask scheduler 'tcp://10.9.9.9:8786'"),
])
def test_bad_options_get_one_line_with_the_fix_and_change_nothing(loaded, analyst, capsys, monkeypatch, args,
                                                                     message):
    monkeypatch.setenv("LAWFUL_DASK_SCHEDULER", "tcp://10.0.0.5:8786")  # the operator's; never contacted here
    run_cli(["whoami", "--as", "ana"], capsys)  # the server is up and ana signed in before we look
    before = what_is_stored(loaded)
    code, out, err = run_cli([*BACKTEST, *args], capsys)
    assert code == 2
    assert message in err and "error:" in err
    assert what_is_stored(loaded) == before


def test_every_analysis_is_on_the_trail_as_development_by_the_signed_in_person(loaded, analyst, capsys):
    code, _, err = run_cli(["forecast", "run", "--as", "ana", "--date", "2019-12-01", "--model", "naive",
                            "--top", "1", "--since", "2018-01-01", "--purpose", "investigation 2019-77"], capsys)
    assert code == 0, err
    [(actor, obj, purpose, details)] = trail(loaded, "development")
    assert (actor, obj, purpose) == ("ana", "incidents:Break and Enter", "investigation 2019-77")
    assert json.loads(details)["analysis"] == "forecast run" and json.loads(details)["model"] == "naive"


def test_a_person_below_the_incidents_classification_reads_nothing(loaded, capsys):
    """Forecasting reads stored incidents: the clearance must reach their classification (internal here)."""
    mint_token(loaded, "pia", ("analyst",), "public")
    for args in (["run", "--date", "2019-12-01", "--model", "naive"], ["backtest", *BACKTEST[4:], "--models", "naive"],
                 ["audit"], ["feedback", "--models", "naive"]):
        code, out, err = run_cli(["forecast", *args, "--as", "pia", "--since", "2018-01-01"], capsys)
        assert code == 2 and "incidents Break and Enter is internal, above pia's clearance (public)" in err, args
        assert out == ""
    assert trail(loaded, "development") == []
    denials = trail(loaded, "access.deny")
    assert len(denials) == 4 and {d[0] for d in denials} == {"pia"}


def test_no_sign_in_no_forecast(loaded, capsys):
    code, out, err = run_cli(["forecast", "run", "--date", "2019-12-01", "--model", "naive"], capsys)
    assert code == 2 and "sign in" in err and out == ""


# ---- outputs an analyst can trust: stale or missing data, a forecast's day -------------------------------------------
@pytest.mark.parametrize("day, message", [
    ("2030-06-01", "the last stored Break and Enter incident before 2030-06-01 is from 2019-12-31, 3805 days earlier"),
    ("2020-01-20", "is from 2019-12-31, 20 days earlier"),
    ("2017-06-01", "no Break and Enter incidents are stored before 2017-06-01"),
])
def test_a_forecast_long_after_its_data_ends_is_refused_with_the_reason(loaded, analyst, capsys, day, message):
    """(Issued through the gate, the same refusal is the gate's: tests/web/test_forecast.py.)"""
    run_cli(["whoami", "--as", "ana"], capsys)
    before = what_is_stored(loaded)
    code, out, err = run_cli(["forecast", "run", "--model", "naive", "--since", "2018-01-01", "--date", day,
                              "--as", "ana"], capsys)
    assert code == 2 and out == "", err
    assert message in err and "Fix:" in err, err
    if day != "2017-06-01":
        assert "LAWFUL_FORECAST_MAX_STALE_DAYS=14" in err and "or forecast a day up to 2020-01-14" in err
    assert what_is_stored(loaded) == before  # no development entry, nothing else


def test_the_staleness_allowed_is_the_servers_setting(loaded, analyst, capsys, monkeypatch):
    monkeypatch.setenv("LAWFUL_FORECAST_MAX_STALE_DAYS", "30")  # read when the server starts
    code, out, err = run_cli(["forecast", "run", "--model", "naive", "--since", "2018-01-01", "--date", "2020-01-20",
                              "--as", "ana"], capsys)
    assert code == 0, err
    [start] = trail(loaded, "config.change")
    assert json.loads(start[3])["settings"]["forecast_max_stale_days"] == "30"


@pytest.mark.parametrize("value", ["nan", "0", "-3", "14.5", "1e9", "fourteen", "3651"])
def test_a_bad_staleness_setting_stops_the_server_at_start(store, monkeypatch, value):
    from lawful.errors import ConfigError
    from lawful.settings import Settings

    monkeypatch.setenv("LAWFUL_FORECAST_MAX_STALE_DAYS", value)
    with pytest.raises(ConfigError, match="LAWFUL_FORECAST_MAX_STALE_DAYS"):
        Settings.from_env()


def test_an_operational_forecast_needs_its_date(loaded, analyst, capsys):
    run_cli(["whoami", "--as", "ana"], capsys)
    before = what_is_stored(loaded)
    code, out, err = run_cli(["forecast", "issue", "toronto-bne-forecaster", "--purpose", "patrol planning",
                              "--as", "ana"], capsys)
    assert code == 2 and out == ""
    assert "needs --date" in err and "e.g. --date 2019-12-24" in err
    assert what_is_stored(loaded) == before


@pytest.mark.parametrize("args, message", [
    (["--start", "2023-01-01", "--end", "2023-03-01"], "no Break and Enter incidents are stored on or between the "
                                                       "backtest's days 2023-01-01 to 2023-02-26"),
    (["--start", "2019-12-01", "--end", "2020-03-01"], "last day, 2020-02-23, is 54 days after the stored Break and Enter incidents end "
                                                       "(2019-12-31)"),
])
def test_a_backtest_over_days_without_data_is_refused_not_a_table_of_nothing(loaded, analyst, capsys, args,
                                                                             message):
    run_cli(["whoami", "--as", "ana"], capsys)
    before = what_is_stored(loaded)
    code, out, err = run_cli([*BACKTEST[:4], "--every", "7d", "--since", "2018-01-01", "--window", "180d", *args,
                              "--models", "naive"], capsys)
    assert code == 2 and out == "" and "nan" not in err
    assert message in err and "Fix:" in err, err
    assert what_is_stored(loaded) == before
    code, out, err = run_cli(["forecast", "audit", "--as", "ana", "--since", "2018-01-01", *args], capsys)
    assert code == 2 and "exposure audit" in err


def test_an_empty_store_gives_a_clear_error_everywhere(store, capsys):
    from tests.governance.conftest import Gov

    gov = Gov(store)
    try:
        ref = gov.active(tier="medium")
    finally:
        gov.engine.dispose()
    for args in (["run", "--date", "2019-12-01"], ["backtest", "--models", "naive"], ["audit"],
                 ["issue", ref, "--purpose", "patrol planning", "--date", "2019-12-01"]):
        code, out, err = run_cli(["forecast", *args, "--as", "analyst"], capsys)
        assert code == 2 and out == "", (args, err)
        assert "no incidents of category 'Break and Enter' are stored" in err or \
            "no Break and Enter incidents are stored before 2019-12-01" in err, (args, err)
    refusals = trail(store, "gate.refuse")
    assert len(refusals) == 1 and "no Break and Enter incidents are stored" in json.loads(refusals[0][3])["reason"]
