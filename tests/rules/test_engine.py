"""The engines: conditions mean what they say, batch and stream agree on any events, state stays bounded."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.rules.engine import Context, Events, Stream, count_near, run_batch
from lawful.rules.language import CountNear, parse_ruleset

TZ = ZoneInfo("America/Toronto")
CTX = Context(TZ, "EPSG:32617")

RULES = """
[ruleset]
fields = { items = "set", speed = "number" }
night_ends = "06:00"

[[rule]]
id = "night-net"
legal_basis = "test act s.1"
purpose = "testing"
threshold = 0.7
action = "warn"
conditions = [
  { when = "local time after 21:00", weight = 0.4 },
  { when = "items contains 'net'", weight = 0.4 },
  { when = "speed > 10", weight = 0.2 },
]

[[rule]]
id = "near-repeat"
legal_basis = "test act s.2"
purpose = "testing"
threshold = 1
action = "notify"
conditions = [
  { when = "count of 'Break and Enter' within 200 m in last 72 h >= 3", weight = 1 },
]

[[rule]]
id = "spike"
legal_basis = "test act s.3"
purpose = "testing"
threshold = 1
action = "open-case"
conditions = [
  { when = "count in area in last 24 h above p90 of last 5 d", weight = 1 },
]
"""
RS = parse_ruleset(RULES)


def frame(rows) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["id", "t", "x", "y", "category", "area", "items", "speed"])
    f["t"] = pd.to_datetime(f["t"], utc=True).dt.tz_localize(None).astype("datetime64[us]")
    return f


def as_dicts(f: pd.DataFrame) -> list[dict]:
    return [dict(r, t=np.datetime64(r["t"], "us")) for r in f.to_dict("records")]


def stream_alerts(f: pd.DataFrame, order, lateness_s: float) -> tuple[list, Stream]:
    s = Stream(RS, CTX, lateness_s)
    rows = as_dicts(f)
    out = []
    for i in order:
        out += s.push(rows[i])
    return out + s.flush(), s


def test_after_21_crosses_midnight_in_local_time():
    f = frame([("a", "2026-06-02T01:30:00Z", 0, 0, "X", "A", frozenset({"net"}), 0.0),   # 21:30 local
               ("b", "2026-06-02T05:30:00Z", 0, 0, "X", "A", frozenset({"net"}), 0.0),   # 01:30 local
               ("c", "2026-06-02T11:00:00Z", 0, 0, "X", "A", frozenset({"net"}), 0.0),   # 07:00 local
               ("d", "2026-06-02T00:30:00Z", 0, 0, "X", "A", frozenset({"net"}), 0.0)])  # 20:30 local
    fired = {a.event_id for a in run_batch(RS, Events.from_frame(f), CTX) if a.rule == "night-net"}
    assert fired == {"a", "b"}


def test_alert_explains_every_condition_with_its_value_weight_and_the_threshold():
    f = frame([("a", "2026-06-02T03:00:00Z", 0, 0, "X", "A", frozenset({"net", "cage"}), 4.0)])
    [alert] = [a for a in run_batch(RS, Events.from_frame(f), CTX) if a.rule == "night-net"]
    assert [(c.held, c.value) for c in alert.clauses] == [(True, "23:00"), (True, "cage, net"), (False, "4.0")]
    text = alert.sentence(TZ)
    assert "night-net v1 -> warn on event a at 2026-06-01 23:00: score 0.8 >= threshold 0.7" in text
    assert "speed > 10 (4.0) no" in text


def brute_force(f: pd.DataFrame, cond: CountNear) -> np.ndarray:
    t = f["t"].to_numpy().astype(np.int64)
    x, y = f["x"].to_numpy(), f["y"].to_numpy()
    ok = (f["category"] == cond.category).to_numpy() if cond.category else np.ones(len(f), bool)
    h = int(cond.hours * 3.6e9)
    return np.array([int(np.sum(ok & (t > t[i] - h) & (t <= t[i]) & (np.hypot(x[i] - x, y[i] - y) <= cond.metres)))
                     for i in range(len(f))])


events_strategy = st.lists(st.tuples(
    st.integers(0, 20 * 24 * 60),  # minutes over 20 days
    st.floats(0, 1000), st.floats(0, 1000),
    st.sampled_from(["Break and Enter", "Robbery"]),
    st.sampled_from(["A", "B"]),
    st.frozensets(st.sampled_from(["net", "cage", "rod"]), max_size=2),
    st.one_of(st.floats(0, 20), st.just(float("nan"))),
), min_size=1, max_size=60)


def build(raw) -> pd.DataFrame:
    start = pd.Timestamp("2026-03-01T00:00Z")  # spans the DST change of 2026-03-08
    return frame([(f"e{i}", start + pd.Timedelta(minutes=m), 630000 + x, 4830000 + y, c, a, items, sp)
                  for i, (m, x, y, c, a, items, sp) in enumerate(raw)])


@settings(max_examples=80, deadline=None)
@given(events_strategy)
def test_windowed_count_equals_brute_force(raw):
    f = build(raw)
    cond = CountNear("Break and Enter", 200.0, 72.0, 3)
    assert np.array_equal(count_near(Events.from_frame(f), cond), brute_force(f, cond))


@settings(max_examples=80, deadline=None)
@given(events_strategy, st.randoms(use_true_random=False), st.integers(0, 6))
def test_batch_and_stream_give_the_same_alerts_even_out_of_order(raw, rnd, lateness_hours):
    f = build(raw).sort_values("t", kind="stable").reset_index(drop=True)
    batch = run_batch(RS, Events.from_frame(f), CTX)
    # arrival order: each event may come up to `lateness` after its time, never later
    arrival = f["t"].to_numpy().astype(np.int64) + np.array([rnd.randint(0, lateness_hours * 3600) for _ in range(len(f))]) * 1_000_000
    order = np.argsort(arrival, kind="stable")
    stream, s = stream_alerts(f, order, lateness_hours * 3600)
    assert s.too_late == 0
    assert sorted(stream, key=lambda a: (a.key(), a.clauses)) == sorted(batch, key=lambda a: (a.key(), a.clauses))


def test_events_later_than_the_lateness_are_refused_and_counted():
    f = build([(0, 0, 0, "Robbery", "A", frozenset(), 1.0), (5, 0, 0, "Robbery", "A", frozenset(), 1.0),
               (600, 0, 0, "Robbery", "A", frozenset(), 1.0), (2, 0, 0, "Robbery", "A", frozenset(), 1.0)])
    _, s = stream_alerts(f, [0, 1, 2, 3], lateness_s=60)  # minute 2 arrives after minute 5 was evaluated
    assert s.too_late == 1


def test_stream_state_stays_bounded_by_the_window():
    rng = np.random.default_rng(0)
    n = 3000
    f = frame([(f"e{i}", pd.Timestamp("2026-01-01T00:00Z") + pd.Timedelta(hours=i), rng.uniform(0, 500),
                rng.uniform(0, 500), "Break and Enter", "A", frozenset(), 1.0) for i in range(n)])
    s = Stream(RS, CTX, 0)
    sizes = []
    for ev in as_dicts(f):
        s.push(ev)
        sizes.append(s.state_size)
    assert max(sizes) <= 2 * 73 + 5  # about two windows' worth (near-repeat + area times), not 3,000
    assert max(sizes[-500:]) == max(sizes[500:1000])


@pytest.mark.parametrize("text", ["count of 'Robbery' within 150 m in last 2 d >= 2"])
def test_windowed_rule_on_days_parses_to_hours(text):
    rs = parse_ruleset(RULES.replace("count of 'Break and Enter' within 200 m in last 72 h >= 3", text))
    cond = rs.rules[1].clauses[0].condition
    assert (cond.metres, cond.hours, cond.at_least, cond.category) == (150, 48, 2, "Robbery")


def test_the_rules_core_never_imports_the_database_or_the_web():
    from tests.conftest import imports_of_the_store

    assert imports_of_the_store("lawful.rules.language", "lawful.rules.engine", "lawful.rules.zones",
                                "lawful.rules.sources", "lawful.rules.learning") == []
