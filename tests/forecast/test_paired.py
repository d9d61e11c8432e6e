"""Telling models apart: each model's daily PAI compared with a named baseline's on the same days."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from lawful.forecast.backtest import DayResult, paired, summarise
from tests.conftest import run_cli
from tests.forecast.test_cli_forecast import BACKTEST, analyst, loaded  # noqa: F401 (fixtures)


def _day(model, day, pai, events=10):
    return DayResult(model, day, events, (1.0,), (0.1,), (pai,), (0.5,), 0.0, 0.0)


def test_paired_difference_is_the_mean_of_daily_differences_with_a_t_interval():
    base = [5.0, 9.0, 2.0, 7.0, 4.0]
    better = [b + d for b, d in zip(base, [0.5, 0.7, 0.3, 0.6, 0.4])]
    results = [_day("b", f"d{i}", p) for i, p in enumerate(base)] + [_day("m", f"d{i}", p) for i, p in enumerate(better)]
    [sb, sm] = summarise(results, coverages=(0.05,), baseline="b")
    assert sb.pai_diff == 0 and sb.baseline == "b"
    d = np.array([0.5, 0.7, 0.3, 0.6, 0.4])
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert sm.pai_diff == pytest.approx(0.5)
    assert (sm.pai_diff_low, sm.pai_diff_high) == pytest.approx((0.5 - half, 0.5 + half))
    # pairing matters: the models' own intervals overlap widely, the difference's lies above zero
    assert sm.pai_low < sb.pai_high and sm.pai_diff_low > 0
    rec = sm.record()
    assert rec["baseline"] == "b" and rec["pai_diff"] == pytest.approx(0.5)
    assert "baseline" not in summarise(results, coverages=(0.05,))[0].record()


def test_days_without_incidents_are_left_out_of_the_pairs_and_an_unknown_baseline_is_refused():
    results = [_day("b", "d0", 2.0), _day("b", "d1", math.nan, events=0), _day("m", "d0", 3.0),
               _day("m", "d1", math.nan, events=0)]
    [_, sm] = summarise(results, coverages=(0.05,), baseline="b")
    assert sm.pai_diff == 1.0 and math.isnan(sm.pai_diff_low)  # one day: a mean, no interval
    assert paired(np.array([])) == pytest.approx((math.nan,) * 3, nan_ok=True)
    with pytest.raises(ValueError, match="baseline 'x' is not among"):
        summarise(results, baseline="x")


def test_cli_baseline_runs_the_baseline_and_prints_the_difference(loaded, analyst, capsys):  # noqa: F811
    code, out, err = run_cli([*BACKTEST, "--models", "kde", "--baseline", "naive-all", "--json"], capsys)
    assert code == 0, err
    records = json.loads(out)
    assert {r["model"] for r in records} == {"kde", "naive-all"}  # the baseline is run although not listed
    kde5 = next(r for r in records if r["model"] == "kde" and r["coverage"] == 0.05)
    assert kde5["baseline"] == "naive-all" and kde5["pai_diff_low"] <= kde5["pai_diff"] <= kde5["pai_diff_high"]
    code, out, err = run_cli([*BACKTEST, "--models", "kde,naive-all", "--baseline", "naive-all"], capsys)
    assert code == 0, err
    assert "PAI - naive-all" in out and "diff 95%" in out and "an interval wholly above 0" in out


def test_cli_unknown_baseline_is_refused_with_the_choices(loaded, analyst, capsys):  # noqa: F811
    code, out, err = run_cli([*BACKTEST, "--models", "kde", "--baseline", "oracle"], capsys)
    assert code == 2 and "unknown model 'oracle'" in err


def test_report_md_has_the_paired_columns(loaded, analyst, capsys, tmp_path):  # noqa: F811
    out_dir = tmp_path / "bt"
    code, out, err = run_cli([*BACKTEST, "--models", "kde", "--baseline", "naive-all", "--out", str(out_dir)], capsys)
    assert code == 0, err
    md = (out_dir / "report.md").read_text()
    assert "| PAI - naive-all | diff 95% |" in md and "an interval wholly above 0" in md
