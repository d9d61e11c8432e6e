"""Rule alerts through the gate: only the approved rule file, one output per alert, officers' verdicts, and the
rules report reading those verdicts back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lawful.governance import registry
from lawful.governance.models import Output
from tests.conftest import approved_fingerprint, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"
BIRDS = EXAMPLES / "bird-catching.toml"
STREAM = str(EXAMPLES / "bird-observations.jsonl")


def rule_set(gov, path: Path = BIRDS) -> str:
    ref = gov.register(tier="medium", kind="rule-set", name="bird-rules",
                       rules={"sha256": approved_fingerprint(path)})
    gov.step(registry.submit, ref, "owner", thresholds=gov.t)
    gov.approve(ref, "ap1")
    gov.step(registry.activate, ref, "owner")
    return ref


def test_alerts_go_through_the_gate_and_get_verdicts(gov, capsys):
    ref = rule_set(gov)
    _, out, _ = run_cli(["rules", "run", str(BIRDS), "--events", STREAM, "--json"], capsys)
    n = len(json.loads(out))
    code, out, err = run_cli(["rules", "run", str(BIRDS), "--events", STREAM, "--issue", ref,
                              "--purpose", "patrol planning", "--as", "analyst"], capsys)
    assert code == 0, err
    assert f"{n} alert(s) issued through the gate as outputs of {ref}" in err
    with gov.tx() as s:
        outs = s.query(Output).order_by(Output.id).all()
        assert len(outs) == n and all(o.kind == "alert" and o.status == "open" for o in outs)
        first = outs[0]
        assert first.payload["rule"] and len(first.payload["held"]) == len(first.explanation) - 1
    code, out, err = run_cli(["review", "decide", "1", "--accept", "--reason", "x", "--as", "officer"], capsys)
    assert code == 2 and "not a decision on alert output 1" in err
    for i, flag in ((1, "--confirm"), (2, "--false-alarm"), (3, "--unclear")):
        code, out, err = run_cli(["review", "decide", str(i), flag, "--reason", "checked on patrol", "--as", "officer"],
                                 capsys)
        assert code == 0, err
    rule = first.payload["rule"]
    code, out, err = run_cli(["rules", "report", str(BIRDS), "--rule", rule, "--verdicts", "store", "--weeks", "9",
                              "--as", "analyst"], capsys)
    assert code == 0, err
    assert f"Rule {rule}" in out and "alerts judged" in out


def test_a_rule_file_other_than_the_approved_one_is_refused_and_nothing_is_issued(gov, tmp_path, capsys):
    ref = rule_set(gov)
    changed = tmp_path / "bird-catching.toml"
    changed.write_text(BIRDS.read_text().replace("threshold = 0.7", "threshold = 0.6"))
    (tmp_path / "zones").symlink_to(EXAMPLES / "zones")
    code, out, err = run_cli(["rules", "run", str(changed), "--events", STREAM, "--issue", ref,
                              "--purpose", "patrol planning", "--as", "analyst"], capsys)
    assert code == 2 and "is not what" in err and "was approved with" in err
    with gov.tx() as s:
        assert s.query(Output).count() == 0


def test_a_suspended_rule_set_issues_nothing(gov, capsys):
    ref = rule_set(gov)
    gov.step(registry.suspend, ref, "dpo", reason="complaint")
    code, out, err = run_cli(["rules", "run", str(BIRDS), "--events", STREAM, "--issue", ref,
                              "--purpose", "patrol planning", "--as", "analyst"], capsys)
    assert code == 2 and "suspended: complaint" in err and out == ""


def test_the_approval_covers_the_zones_the_rules_run_with(gov):
    """The card pinned the rule file alone: the approved rules with a forged zone file (every zone the whole region)
    issued 46 alerts instead of 35. Now the fingerprint covers the zone file the rules name."""
    import json

    from lawful.db import Store
    from lawful.errors import LawfulError
    from lawful.rules import flows

    ref = rule_set(gov)
    real = (EXAMPLES / "zones" / "mountain-forest.geojson").read_text()
    forged = json.loads(real)
    for f in forged["features"]:
        f["geometry"] = {"type": "Polygon", "coordinates": [[[100.0, 20.0], [140.0, 20.0], [140.0, 50.0],
                                                             [100.0, 50.0], [100.0, 20.0]]]}
    events = (EXAMPLES / "bird-observations.jsonl").read_text()
    store = Store(gov.settings)
    try:
        with store.transaction() as s:
            analyst = gov.actor(s, "analyst")

        def run(zones: str):
            return flows.run_once(store, actor=analyst, events=("obs.jsonl", events), start=None, end=None, issue=ref,
                                  purpose="patrol planning",
                                  bundle=flows.Bundle("bird-catching.toml", BIRDS.read_text(),
                                                      {"zones/mountain-forest.geojson": zones}))

        with pytest.raises(LawfulError, match="not what .* was approved with"):
            run(json.dumps(forged))
        assert run(real)["issued"]["ids"]  # the approved zones: alerts as before
    finally:
        store.dispose()
