"""`lawful rules check|run` as an analyst uses them, on the shipped examples and on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import mint_token, run_cli, store_fingerprint
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


def _trail(settings, action: str) -> list[tuple]:
    from sqlalchemy import text

    from lawful import db

    engine = db.open_store(settings)
    try:
        with engine.connect() as conn:
            return [(r[0], r[1], r[2], json.loads(r[3])) for r in conn.execute(text(
                "SELECT actor, object, purpose, details FROM audit_entries WHERE action = :a ORDER BY seq"),
                {"a": action})]
    finally:
        engine.dispose()


def test_near_repeat_rules_run_on_stored_incidents_and_leave_a_development_entry(loaded, capsys):  # noqa: F811
    mint_token(loaded, "ana", ("analyst",), "internal")
    rules = str(EXAMPLES / "near-repeat.toml")
    code, out, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01",
                              "--end", "2019-07-01", "--json", "--as", "ana"], capsys)
    assert code == 0, err
    alerts = json.loads(out)
    assert any(a["rule"] == "near-repeat-burglary" for a in alerts)  # the synthetic hotspots repeat
    assert all(a["time"] >= "2019-06-01" for a in alerts)
    [(actor, obj, purpose, details)] = _trail(loaded, "development")  # in the signed-in person's name
    assert (actor, obj, purpose) == ("ana", "incidents", "crime analysis")
    assert details["analysis"] == "rules run toronto-near-repeat" and details["issue"] is None
    code, out, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01", "--end",
                              "2019-06-08", "--as", "ana"], capsys)
    assert code == 0, err
    assert "events read from stored incidents 2019-06-01 to 2019-06-08 (with 91 days of history" in out
    assert "near-repeat-burglary v1:" in out and "(batch engine)" in out
    before = store_fingerprint(loaded)
    code, _, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01", "--as", "ana"],
                           capsys)
    assert code == 2 and "needs --start and --end" in err and store_fingerprint(loaded) == before


def test_stored_incidents_need_incidents_read_and_the_refusal_is_on_the_trail(loaded, capsys):  # noqa: F811
    mint_token(loaded, "otto", ("officer",), "internal")  # officers decide on alerts; they do not read incidents
    mint_token(loaded, "pia", ("analyst",), "public")  # below the incidents' classification
    rules = str(EXAMPLES / "near-repeat.toml")
    before = store_fingerprint(loaded)
    for who, says in (("otto", "incidents.read"), ("pia", "above pia's clearance (public)")):
        code, out, err = run_cli(["rules", "run", rules, "--events", "store", "--start", "2019-06-01",
                                  "--end", "2019-06-08", "--as", who], capsys)
        assert code == 2 and "denied" in err and says in err and out == ""
    assert {d[0] for d in _trail(loaded, "access.deny")} == {"otto", "pia"}
    assert _trail(loaded, "development") == [] and store_fingerprint(loaded) == before


def test_the_stream_engine_runs_on_the_server_for_stored_incidents_as_the_batch_engine_does(loaded, capsys):  # noqa: F811
    mint_token(loaded, "ana", ("analyst",), "internal")
    args = ["rules", "run", str(EXAMPLES / "near-repeat.toml"), "--events", "store", "--start", "2019-06-01",
            "--end", "2019-06-15", "--json", "--as", "ana"]
    _, batch, err = run_cli(args, capsys)
    code, stream, err = run_cli([*args, "--stream"], capsys)
    assert code == 0, err
    b, s = json.loads(batch), json.loads(stream)
    assert b and sorted(map(json.dumps, b)) == sorted(map(json.dumps, s))


TYPO_RULES = """
[ruleset]
name = "typos"

[[rule]]
id = "bne-typo"
version = 1
legal_basis = "Community Safety and Policing Act, 2019, s. 11"
purpose = "patrol planning"
threshold = 0.5
action = "warn"
conditions = [
  { when = "category == 'Break and enter'", weight = 0.5 },
  { when = "premises in ['House', 'Apartmnt']", weight = 0.2 },
  { when = "count of 'Robbery' within 200 m in last 72 h >= 2", weight = 0.2 },
  { when = "area != 'Dwntown'", weight = 0.1 },
]
"""


def _load_good_rows(store, tmp_path, mapping_file):
    from lawful import db
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file
    from tests.conftest import GOOD_ROWS, write_csv

    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:  # Break and Enter, Robbery; House, Outside, Apartment
        ingest_file(s, path=write_csv(tmp_path / "a.csv", GOOD_ROWS), mapping=load_mapping(mapping_file),
                    settings=store, actor="os:loader")
    engine.dispose()


def test_check_warns_of_compared_values_the_store_has_never_seen(store, tmp_path, mapping_file, capsys):
    _load_good_rows(store, tmp_path, mapping_file)
    rules = tmp_path / "typos.toml"
    rules.write_text(TYPO_RULES)
    mint_token(store, "ana", ("analyst",), "internal")  # comparing with the store reads it: signed in, cleared
    code, out, err = run_cli(["rules", "check", str(rules), "--as", "ana"], capsys)
    assert code == 0, err  # warnings, not errors
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3
    assert "'Break and enter', which no stored incident has; the closest stored value is 'Break and Enter'" in out
    assert "'Apartmnt'" in out and "closest stored value is 'Apartment'" in out
    assert "'Dwntown'" in out and "closest stored value is 'Downtown'" in out
    assert "'Robbery', which" not in out and "'House', which" not in out


def test_check_values_service_and_no_store_no_warnings(store, tmp_path, monkeypatch, capsys):
    from lawful import db
    from lawful.rules.language import load_ruleset
    from lawful.rules.service import check_values, closest

    rules = tmp_path / "typos.toml"
    rules.write_text(TYPO_RULES)
    engine = db.open_store(store)
    with db.transaction(engine, readonly=True, settings=store) as s:
        assert check_values(s, rs=load_ruleset(rules)) == []  # an empty store judges nothing
    engine.dispose()
    assert closest("break and enter", {"Break and Enter", "Robbery"}) == "Break and Enter"
    assert closest("Homicide", {"Break and Enter", "Robbery"}) is None
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "nowhere"))  # no store at all: the check still passes
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    code, out, err = run_cli(["rules", "check", str(rules)], capsys)
    assert code == 0 and "warning" not in out, err
    assert not (tmp_path / "nowhere").exists()
    assert "not signed in" in err


def test_check_compares_values_only_for_someone_who_may_read_the_incidents(store, tmp_path, mapping_file, capsys):
    _load_good_rows(store, tmp_path, mapping_file)
    rules = tmp_path / "typos.toml"
    rules.write_text(TYPO_RULES)
    mint_token(store, "otto", ("officer",), "internal")
    code, out, err = run_cli(["rules", "check", str(rules), "--as", "otto"], capsys)
    assert code == 0 and "OK" in out and "sha256" in out  # the parse stands on its own
    assert "warning" not in out and "not checked against the stored incidents: denied" in err
    assert [d[0] for d in _trail(store, "access.deny")] == ["otto"]
    mint_token(store, "ana", ("analyst",), "internal")
    code, out, err = run_cli(["rules", "check", str(rules), "--json", "--as", "ana"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert got["name"] == "typos" and len(got["sha256"]) == 64 and len(got["warnings"]) == 3
    assert {w["closest"] for w in got["warnings"]} == {"Break and Enter", "Apartment", "Downtown"}
    [(actor, obj, purpose, details)] = [e for e in _trail(store, "consultation") if e[1] == "incidents:values"][-1:]
    assert (actor, purpose, details["warnings"]) == ("ana", "crime analysis", 3)
