"""Rule-engine speed: 50 stateless rules over 1,000,000 events (batch), the windowed near-repeat rules over every
Toronto incident (batch), and stream latency per event (p50, p99).

    .venv/bin/python benchmarks/bench_rules.py [--events 1000000] [--stream-events 50000]

Targets (issue 3): >= 2,000,000 events/s for the 50 stateless rules; >= 200,000 events/s for the windowed rule over
Toronto; stream p99 < 1 ms. Anchors measured elsewhere on one core: rule-engine ~250,000 events/s for one
stateless rule; durable_rules ~45,000 events/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_sqlite_env, machine  # noqa: E402

from lawful.rules.engine import Context, Events, Stream, match_batch, run_batch  # noqa: E402
from lawful.rules.language import load_ruleset, parse_ruleset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ["Assault", "Break and Enter", "Robbery", "Auto Theft", "Theft Over", "Fraud", "Mischief", "Arson",
              "Weapons", "Drugs"]
PREMISES = ["House", "Apartment", "Commercial", "Outside", "Transit", "Educational", "Other"]


def fifty_rules() -> str:
    parts = ['[ruleset]\nfields = { speed = "number", group_size = "number" }\n']
    for k in range(50):
        conds = [f"category == '{CATEGORIES[k % 10]}'",
                 f"speed > {50 + k}",
                 f"local time between {k % 24:02d}:00 and {(k + 5) % 24:02d}:00",
                 f"premises in ['{PREMISES[k % 7]}', '{PREMISES[(k + 3) % 7]}']"]
        if k % 5 == 0:
            conds.append("weekday in [Sat, Sun]")
        if k % 7 == 0:
            conds.append(f"within {500 + 10 * k} m of (-79.38, 43.65)")
        body = ",\n".join(f'  {{ when = "{c}", weight = 1 }}' for c in conds)
        parts.append(f'[[rule]]\nid = "r{k}"\nlegal_basis = "bench"\npurpose = "bench"\nthreshold = {len(conds)}\n'
                     f'action = "warn"\nconditions = [\n{body}\n]\n')
    return "\n".join(parts)


def synthetic(n: int) -> Events:
    rng = np.random.default_rng(1)
    t0 = np.datetime64("2026-01-01T00:00", "us")
    frame = pd.DataFrame({
        "id": np.arange(n).astype(str),
        "t": t0 + rng.integers(0, 365 * 86_400_000_000, n).astype("timedelta64[us]"),
        "x": rng.uniform(620_000, 650_000, n), "y": rng.uniform(4_830_000, 4_855_000, n),
        "category": np.array(CATEGORIES, dtype=object)[rng.integers(0, 10, n)],
        "area": np.array([f"A{i}" for i in range(140)], dtype=object)[rng.integers(0, 140, n)],
        "premises": np.array(PREMISES, dtype=object)[rng.integers(0, 7, n)],
        "speed": rng.uniform(0, 100, n), "group_size": rng.integers(1, 6, n).astype(float),
    })
    return Events.from_frame(frame)


def toronto() -> pd.DataFrame:
    from lawful import db
    from lawful.incidents.datasets import load_toronto
    from lawful.incidents.service import fetch_incident_frame
    from lawful.settings import Settings

    fresh_sqlite_env()
    settings = Settings.from_env()
    db.upgrade(settings)
    engine = db.open_store(settings)
    with db.transaction(engine, settings=settings) as session:
        load_toronto(session, settings=settings)
    with db.transaction(engine, readonly=True) as session:
        frame = fetch_incident_frame(session, start=datetime(1990, 1, 1, tzinfo=timezone.utc),
                                     end=datetime(2030, 1, 1, tzinfo=timezone.utc))
    engine.dispose()
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--stream-events", type=int, default=50_000)
    args = ap.parse_args()
    ctx = Context(ZoneInfo("America/Toronto"), "EPSG:32617")
    print(f"machine: {machine()}")

    rs = parse_ruleset(fifty_rules(), "fifty.toml")
    ev = synthetic(args.events)
    t0 = time.perf_counter()
    fired = match_batch(rs, ev, ctx)
    dt_match = time.perf_counter() - t0
    ev = synthetic(args.events)  # fresh: no cached columns from the first pass
    t0 = time.perf_counter()
    alerts = run_batch(rs, ev, ctx)
    dt = time.perf_counter() - t0
    n_fired = sum(len(f.index) for f in fired)
    print(f"batch, 50 stateless rules (4-6 conditions each) over {len(ev):,} events: matching {dt_match:.2f} s = "
          f"{len(ev) / dt_match:,.0f} events/s ({n_fired / (len(ev) * 50):.3%} of event-rule pairs fire); with every "
          f"alert explained ({len(alerts):,} alerts) {dt:.2f} s = "
          f"{len(ev) / dt:,.0f} events/s, i.e. {(dt - dt_match) / max(len(alerts), 1) * 1e6:.0f} us per explanation")

    frame = toronto()
    near = load_ruleset(ROOT / "examples" / "rules" / "near-repeat.toml")
    just_near = parse_ruleset((ROOT / "examples" / "rules" / "near-repeat.toml").read_text().split("[[rule]]\nid = \"night")[0])
    from lawful.rules.sources import from_incidents

    for label, rules in (("the near-repeat rule (200 m, 72 h)", just_near), ("all three Toronto example rules", near)):
        ev = from_incidents(frame)
        t0 = time.perf_counter()
        alerts = run_batch(rules, ev, ctx)
        dt = time.perf_counter() - t0
        print(f"batch, {label} over all {len(ev):,} Toronto incidents: {dt:.2f} s, {len(ev) / dt:,.0f} events/s "
              f"({len(alerts):,} alerts)")

    recent = frame.sort_values("t").tail(args.stream_events)
    ev = from_incidents(recent)
    s = Stream(near, ctx, lateness_seconds=0)
    per_event = []  # time to evaluate one released event against every rule
    evaluate = s._evaluate

    def timed(t, row):
        t0 = time.perf_counter()
        out = evaluate(t, row)
        per_event.append(time.perf_counter() - t0)
        return out

    s._evaluate = timed
    pushes = np.empty(len(ev))
    rows = [ev.row(i) for i in range(len(ev))]
    for i, row in enumerate(rows):
        t0 = time.perf_counter()
        s.push(row)
        pushes[i] = time.perf_counter() - t0
    s.flush()
    lat = np.array(per_event)
    print(f"stream, all three Toronto example rules, {len(ev):,} newest incidents one at a time: per event "
          f"p50 {np.percentile(lat, 50) * 1e3:.3f} ms, p99 {np.percentile(lat, 99) * 1e3:.3f} ms; per push "
          f"(which releases every event of an instant once the next instant arrives) p99 "
          f"{np.percentile(pushes, 99) * 1e3:.3f} ms; state {s.state_size:,} items at the end")


if __name__ == "__main__":
    main()
