"""`lawful rules check|run` as an analyst uses them, on the shipped examples and on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, store_fingerprint
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"
BIRDS = str(EXAMPLES / "bird-catching.toml")
STREAM = str(EXAMPLES / "bird-observations.jsonl")


def test_check_lists_each_rule_with_its_legal_basis(capsys):
    code, out, err = run_cli(["rules", "check", BIRDS], capsys)
    assert code == 0, err
    assert "OK" in out and "3 rule(s), time zone Asia/Shanghai" in out and "3 zone(s)" in out
    assert "bird-catching-night v1 -> warn at score >= 0.7" in out and "Wildlife Protection Law" in out


def test_the_bird_example_prints_explained_alerts_and_batch_equals_stream(capsys):
    code, out, err = run_cli(["rules", "run", BIRDS, "--events", STREAM, "--limit", "50"], capsys)
    assert code == 0, err
    assert "bird-catching-night v1 -> warn on event" in out
    assert "local time after 21:00 (" in out and "inside zone of type 'mountain-forest' (Laoshan core reserve) yes" in out
    _, batch, _ = run_cli(["rules", "run", BIRDS, "--events", STREAM, "--json"], capsys)
    _, stream, _ = run_cli(["rules", "run", BIRDS, "--events", STREAM, "--json", "--stream", "--lateness", "15m"], capsys)
    b, s = json.loads(batch), json.loads(stream)
    assert len(b) > 10 and sorted(map(json.dumps, b)) == sorted(map(json.dumps, s))
    for a in b:
        if a["rule"] == "bird-catching-night":
            assert a["score"] >= 0.7 and sum(c["weight"] for c in a["conditions"] if c["held"]) == a["score"]


def test_a_malformed_rule_file_gives_a_located_error_and_nothing_runs(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(BIRDS).read_text().replace("items contains 'mist net'", "itemz contains 'mist net'"))
    for args in (["rules", "check", str(bad)], ["rules", "run", str(bad), "--events", STREAM]):
        code, out, err = run_cli(args, capsys)
        assert code == 2 and f"{bad}:22:13: unknown field 'itemz'" in err and "Nothing was run" in err
        assert "alert" not in out


def test_a_bad_event_row_is_named_and_nothing_is_evaluated(tmp_path, capsys):
    events = tmp_path / "e.jsonl"
    lines = Path(STREAM).read_text().splitlines()
    lines[4] = lines[4].replace('"lat": ', '"lat": 95.0, "x": ')
    events.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli(["rules", "run", BIRDS, "--events", str(events)], capsys)
    assert code == 2 and "row 5, field lat (95.0)" in err and "Nothing was evaluated" in err and out == ""


def test_near_repeat_rules_run_on_stored_incidents_and_leave_a_development_entry(loaded, capsys):  # noqa: F811
    rules = str(EXAMPLES / "near-repeat.toml")
    code, out, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01",
                              "--end", "2019-07-01", "--json"], capsys)
    assert code == 0, err
    alerts = json.loads(out)
    assert any(a["rule"] == "near-repeat-burglary" for a in alerts)  # the synthetic hotspots repeat
    assert all(a["time"] >= "2019-06-01" for a in alerts)
    code, out, _ = run_cli(["audit", "log", "--action", "development"], capsys)
    assert "rules run toronto-near-repeat" in out
    before = store_fingerprint(loaded)
    code, _, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01"], capsys)
    assert code == 2 and "needs --start and --end" in err and store_fingerprint(loaded) == before
