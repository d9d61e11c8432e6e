"""The public register under anonymous readers: how long GET /public/register.json takes when the register must be
generated (cold: after a registry change) and when it is served from the cache keyed by what changes it, for a
registry of N active high-tier forecasters each with M issued and decided outputs (no incidents are loaded, so the
realised-accuracy figures read empty windows: this measures the register itself, not the monitor's event reads).

    .venv/bin/python benchmarks/bench_transparency.py [--entries 20] [--outputs 50] [--reads 200]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=20)
    ap.add_argument("--outputs", type=int, default=50)
    ap.add_argument("--reads", type=int, default=200)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lawful-bench-transparency-", dir=os.environ.get("TMPDIR"))
    os.environ["LAWFUL_DATA_DIR"] = tmp
    os.environ.pop("LAWFUL_DATABASE_URL", None)
    from fastapi.testclient import TestClient

    from lawful import db
    from lawful.governance import gate, registry
    from lawful.settings import Settings
    from lawful.web.app import create_app
    from tests.conftest import make_private
    from tests.governance.conftest import CARD, EVALUATION, Gov

    settings = Settings.from_env()
    db.upgrade(settings)
    gov = Gov(settings)
    est = CARD["model"]["estimator"]
    import tests.governance.conftest as g
    g.EVALUATION = {**EVALUATION, "records": [{**r, "model": est} for r in EVALUATION["records"]]}
    refs = []
    for i in range(args.entries):
        card = copy.deepcopy(CARD)
        card["name"] = f"forecaster-{i:03d}"
        with gov.tx() as s:
            e = registry.register(s, actor=gov.actor(s, "owner"), card={**card, "owner": "owner"})
            registry.attach(s, actor=gov.actor(s, "owner"), entry=e, evaluation=g.EVALUATION, exposure=g.EXPOSURE,
                            fria=g.FRIA)
            refs.append(e.ref)
        gov.step(registry.submit, refs[-1], "owner", thresholds=gov.t)
        gov.approve(refs[-1], "ap1")
        gov.approve(refs[-1], "ap2")
        gov.step(registry.activate, refs[-1], "owner")
        with gov.tx() as s:
            for _ in range(args.outputs):
                gate.issue(s, actor=gov.actor(s, "analyst"), entry=registry.get(s, ref=refs[-1]),
                           purpose="patrol planning", kind="forecast", subject="bench", payload={"cells": []},
                           explanation=[])
    make_private(settings)
    with TestClient(create_app(settings)) as client:
        cold, warm = [], []
        from lawful.transparency import register

        for _ in range(5):  # as after a registry change: the cache has nothing for the current state
            register._cache.clear()
            t = time.perf_counter()
            assert client.get("/public/register.json").status_code == 200
            cold.append(time.perf_counter() - t)
        client.get("/public/register.json")
        for _ in range(args.reads):
            t = time.perf_counter()
            client.get("/public/register.json")
            warm.append(time.perf_counter() - t)
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    q = lambda xs, p: sorted(xs)[int(p * (len(xs) - 1))] * 1000  # noqa: E731
    print(f"register of {args.entries} systems x {args.outputs} outputs each")
    print(f"  generated (cold): median {ms(cold):.0f} ms over {len(cold)} requests")
    print(f"  cached:           median {ms(warm):.1f} ms, p95 {q(warm, 0.95):.1f} ms over {len(warm)} requests")
    gov.engine.dispose()


if __name__ == "__main__":
    main()
