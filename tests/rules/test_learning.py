"""Verdicts -> weekly figures, change detection, suggested weights, and the report an analyst reads."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lawful.rules.language import load_ruleset, parse_ruleset
from lawful.rules.learning import Verdict, detect_change, suggest_weights, weekly, wilson
from tests.conftest import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"
UTC = timezone.utc


def test_wilson_interval_matches_the_textbook_value():
    lo, hi = wilson(8, 40)  # p = 0.2
    assert lo == pytest.approx(0.105, abs=0.001) and hi == pytest.approx(0.348, abs=0.001)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 0) == (0.0, 1.0)


def history(rates: list[float], n: int = 60, seed: int = 1) -> list[Verdict]:
    rng = random.Random(seed)
    out = []
    start = datetime(2026, 5, 4, 12, tzinfo=UTC)  # a Monday
    for week, rate in enumerate(rates):
        for i in range(n):
            out.append(Verdict("R", 1, start + timedelta(days=7 * week, hours=i), "false-alarm"
                               if i < round(rate * n) else "confirmed", (True, True)))
    rng.shuffle(out)
    return out


def test_a_planted_rise_is_named_with_its_size():
    vs = history([0.2, 0.2, 0.2, 0.2, 0.35])
    ws = weekly(vs, rule="R", weeks=5, until=date(2026, 6, 7), tz=ZoneInfo("UTC"))
    assert [round(w.misjudgment, 2) for w in ws] == [0.2, 0.2, 0.2, 0.2, 0.35]
    c = detect_change(ws)
    assert c.significant and c.points == pytest.approx(15.0)


def test_noise_is_not_called_a_change():
    ws = weekly(history([0.2, 0.22, 0.18, 0.2, 0.23]), rule="R", weeks=5, until=date(2026, 6, 7), tz=ZoneInfo("UTC"))
    assert not detect_change(ws).significant


def test_weights_move_away_from_the_condition_that_holds_on_false_alarms():
    rs = parse_ruleset('''[ruleset]
fields = { items = "set" }
[[rule]]
id = "R"
legal_basis = "x"
purpose = "y"
threshold = 0.5
action = "warn"
conditions = [{ when = "items contains 'a'", weight = 0.5 }, { when = "items contains 'b'", weight = 0.5 }]
''')
    rule = rs.rules[0]
    at = datetime(2026, 5, 4, tzinfo=UTC)
    vs = [Verdict("R", 1, at, "confirmed", (True, False))] * 40 + [Verdict("R", 1, at, "false-alarm", (False, True))] * 40
    a, b = suggest_weights(vs, rule)
    assert a > 0.5 > b and a + b == pytest.approx(1.0, abs=0.02)
    assert suggest_weights(vs[:5], rule) is None  # too few to learn from


def test_report_cli_names_the_rule_that_moved_and_proposes_a_new_version(tmp_path, capsys):
    out_file = tmp_path / "proposal.toml"
    code, out, err = run_cli(["rules", "report", str(EXAMPLES / "bird-catching.toml"), "--rule", "bird-catching-night",
                              "--verdicts", str(EXAMPLES / "bird-verdicts.csv"), "--weeks", "8",
                              "--propose", str(out_file)], capsys)
    assert code == 0, err
    assert "The misjudgment rate of rule bird-catching-night rose from 30% to 48% (+18 points) in the week to 2026-06-28" in out
    assert "Suggested weights" in out and "takes effect only once approved" in out
    proposed = load_ruleset(out_file).rules[0]
    assert proposed.version == 2 and [c.text for c in proposed.clauses] == [
        "local time after 21:00", "items contains 'mist net'", "inside zone of type 'mountain-forest'"]
    assert proposed.clauses[2].weight > 0.3  # the forest condition separates true alarms from the night market


def test_a_bad_verdict_row_is_named(tmp_path, capsys):
    bad = tmp_path / "v.csv"
    rows = (EXAMPLES / "bird-verdicts.csv").read_text().splitlines()
    rows[3] = rows[3].replace("confirmed", "maybe").replace("false-alarm", "maybe")
    bad.write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(["rules", "report", str(EXAMPLES / "bird-catching.toml"), "--rule", "bird-catching-night",
                              "--verdicts", str(bad)], capsys)
    assert code == 2 and "row 4, field verdict ('maybe')" in err and out == ""
