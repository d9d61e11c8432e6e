"""`lawful forecast ...` on a real store (SQLite and PostgreSQL): what an analyst types and sees."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import HEADER, run_cli, store_fingerprint, write_csv


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
    code, _, err = run_cli(["ingest", str(path), "--mapping", str(mapping_file)], capsys)
    assert code == 0, err
    return store


BACKTEST = ["forecast", "backtest", "--start", "2019-10-01", "--end", "2019-12-25", "--every", "14d",
            "--since", "2018-01-01", "--window", "180d"]


def test_backtest_json_gives_one_record_per_model_and_coverage(loaded, capsys):
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


def test_backtest_table_and_files(loaded, capsys, tmp_path):
    out_dir = tmp_path / "bt"
    code, out, err = run_cli([*BACKTEST, "--models", "naive-all,prospective", "--out", str(out_dir)], capsys)
    assert code == 0, err
    assert "naive-all" in out and "prospective" in out and "PAI 95%" in out
    assert {p.name for p in out_dir.iterdir()} == {"days.csv", "summary.csv", "report.md", "map.png"}
    assert (out_dir / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    days = (out_dir / "days.csv").read_text().splitlines()
    assert days[0].startswith("model,day,events,coverage") and len(days) == 1 + 2 * 7 * 5
    assert "| naive-all | 5% |" in (out_dir / "report.md").read_text()


def test_run_prints_top_places_with_explanations(loaded, capsys):
    code, out, err = run_cli(["forecast", "run", "--date", "2019-12-01", "--model", "kde", "--top", "3",
                              "--since", "2018-01-01"], capsys)
    assert code == 0, err
    assert out.count("score") == 3 and "incidents within 200 m" in out and "%" in out
    code, out, _ = run_cli(["forecast", "run", "--date", "2019-12-01", "--model", "naive", "--top", "2",
                            "--since", "2018-01-01", "--json"], capsys)
    places = json.loads(out)
    assert [p["rank"] for p in places] == [1, 2]
    assert sum(t["value"] for t in places[0]["terms"]) == pytest.approx(places[0]["score"])


def test_audit_and_feedback_report_areas_and_drift(loaded, capsys):
    code, out, err = run_cli(["forecast", "audit", "--start", "2019-09-01", "--end", "2019-12-24", "--every", "14d",
                              "--since", "2018-01-01", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == "naive-all" and 0 <= result["misplaced"] <= 1
    table = result["areas"]
    assert {r["area"] for r in table} <= {"Hood0", "Hood1", "Hood2", "Hood3", "unknown"}
    assert sum(r["incident_share"] for r in table) == pytest.approx(1.0)
    code, out, err = run_cli(["forecast", "feedback", "--start", "2018-12-01", "--rounds", "3", "--models", "naive",
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
    (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
])
def test_bad_options_get_one_line_with_the_fix_and_change_nothing(loaded, capsys, args, message):
    before = store_fingerprint(loaded)
    code, out, err = run_cli([*BACKTEST, *args], capsys)
    assert code == 2
    assert message in err and "error:" in err
    assert store_fingerprint(loaded) == before
