"""The rule language: what parses, and errors that point at the place with a hint, running nothing."""

from __future__ import annotations

import pytest

from lawful.rules.language import AreaSpike, Compare, CountNear, InZone, Near, RuleError, TimeOfDay, Weekday, parse_ruleset

HEAD = """[ruleset]
fields = { items = "set", speed = "number" }
zones = "z.geojson"

[[rule]]
id = "r1"
legal_basis = "act s.1"
purpose = "testing"
threshold = 0.5
action = "warn"
conditions = [
  { when = "WHEN", weight = 1 },
]
"""


def one(when: str):
    return parse_ruleset(HEAD.replace("WHEN", when)).rules[0].clauses[0].condition


@pytest.mark.parametrize("when, expected", [
    ("category == 'Robbery'", Compare("category", "==", "Robbery")),
    ("speed >= 12.5", Compare("speed", ">=", 12.5)),
    ("area in ['A', 'B']", Compare("area", "in", ("A", "B"))),
    ("items contains 'mist net'", Compare("items", "contains", "mist net")),
    ("local time after 21:00", TimeOfDay(21 * 60, 6 * 60)),
    ("local time before 06:30", TimeOfDay(0, 6 * 60 + 30)),
    ("local time between 22:00 and 04:00", TimeOfDay(22 * 60, 4 * 60)),
    ("weekday in [Sat, Sun]", Weekday(frozenset({5, 6}))),
    ("inside zone of type 'mountain-forest'", InZone(None, "mountain-forest")),
    ("inside zone 'Laoshan'", InZone("Laoshan", None)),
    ("within 500 m of (120.61, 36.17)", Near(120.61, 36.17, 500.0)),
    ("count of 'Break and Enter' within 200 m in last 72 h >= 3", CountNear("Break and Enter", 200.0, 72.0, 3)),
    ("count in area in last 24 h above p99 of last 90 d", AreaSpike(None, 24.0, 99.0, 90)),
])
def test_every_condition_form_parses(when, expected):
    assert one(when) == expected


@pytest.mark.parametrize("when, line, col, message", [
    # line 12 holds the condition; its text starts at column 13
    ("itemz contains 'net'", 12, 13, "unknown field 'itemz'"),
    ("category contains 'net'", 12, 22, "category is text, not a set"),
    ("local time after 25:00", 12, 30, "25:00 is not a time of day"),
    ("speed > 'fast'", 12, 21, "expected a number to compare speed with"),
    ("count within 200 m in last 72 h > 3", 12, 45, "windowed counts compare with >="),
    ("weekday in [Sat, Funday]", 12, 30, "'Funday' is not a weekday"),
    ("category == 'Robbery' extra", 12, 35, "unexpected 'extra'"),
    ("__import__('os')", 12, 13, "unknown field '__import__'"),
])
def test_errors_give_line_column_and_a_hint(when, line, col, message):
    with pytest.raises(RuleError) as info:
        parse_ruleset(HEAD.replace("WHEN", when), "rules.toml")
    e = info.value
    assert (e.line, e.col) == (line, col), str(e)
    assert message in str(e) and "Nothing was run" in str(e) and e.fix


@pytest.mark.parametrize("change, message", [
    (('legal_basis = "act s.1"\n', ""), "rule 1 has no legal_basis"),
    (('purpose = "testing"\n', ""), "rule 1 has no purpose"),
    (('action = "warn"', 'action = "arrest"'), "action 'arrest' is not an action"),
    (("threshold = 0.5", "threshold = 2"), "can never fire"),
    (('zones = "z.geojson"\n', ""), "names no zone file"),
    (("conditions = [", "conditions = [[["), "not valid TOML"),
])
def test_rule_level_mistakes_are_refused(change, message):
    text = HEAD.replace("WHEN", "inside zone 'X'").replace(*change)
    with pytest.raises(RuleError, match=message):
        parse_ruleset(text)
