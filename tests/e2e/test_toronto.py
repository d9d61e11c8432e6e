"""The main job on real data: load all of Toronto's Major Crime Indicators, once, and see what is there."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lawful import db
from lawful.incidents.datasets import toronto_paths
from lawful.incidents.service import fetch_events
from tests.conftest import mint_token, run_cli

ROOT = Path(__file__).resolve().parents[2]
TORONTO = ZoneInfo("America/Toronto")


@pytest.mark.slow
def test_bundled_toronto_load_is_complete_idempotent_and_matches_ingest(store, capsys):
    mint_token(store, "ana", ("analyst",))  # and root-admin, the first admin, who loads the bundled data
    code, out, err = run_cli(["datasets", "load", "toronto-mci", "--as", "root-admin"], capsys)
    assert code == 0, err
    assert "train.csv -> source 'toronto-mci' (load 1): 210,992 rows read, 210,992 new" in out
    assert "test.csv -> source 'toronto-mci' (load 2): 30,000 rows read, 30,000 new" in out
    # quirks are counted from the files: 240,992 rows of which 239,935 are dated 2014 or later (docs/BENCHMARKS protocol)
    assert "1,057 incidents occurred before 2014 (earliest 1966-06-09)" in out
    assert "possible duplicates across the two files" in out

    code, out, _ = run_cli(["incidents", "stats", "--json", "--as", "ana"], capsys)
    stats = json.loads(out)
    assert stats["total"] == 240_992
    bne_since_2014 = sum(c.get("Break and Enter", 0) for y, c in stats["by_year_category"].items() if int(y) >= 2014)
    assert bne_since_2014 == 54_562  # the figure the forecasting benchmark protocol gives for the same files

    code, out, _ = run_cli(["datasets", "load", "toronto-mci", "--as", "root-admin"], capsys)
    assert code == 0 and "0 new, 210,992 already stored" in out and "0 new, 30,000 already stored" in out

    # `lawful ingest` of a file in the Toronto layout with the shipped mapping makes the very same records
    from contextlib import ExitStack

    with ExitStack() as stack:
        test_csv = toronto_paths(stack)[1]
        code, out, _ = run_cli(["ingest", str(test_csv), "--mapping", str(ROOT / "examples/mappings/toronto-mci.toml"),
                                "--as", "ana"], capsys)
    assert code == 0 and "30,000 rows read, 0 new, 30,000 already stored, 0 quarantined" in out

    engine = db.open_store(store)
    with db.transaction(engine) as s:
        events = fetch_events(s, category="Break and Enter", start=datetime(2019, 1, 1, tzinfo=TORONTO),
                              end=datetime(2020, 1, 1, tzinfo=TORONTO))
    engine.dispose()
    assert len(events) == 8_282  # matches the 2019 Break and Enter count in the stats table
    assert (events.t[1:] >= events.t[:-1]).all()
    assert 600_000 < events.x.min() and events.x.max() < 660_000  # UTM 17N eastings across Toronto


@pytest.mark.slow
def test_backtest_on_toronto_reproduces_the_published_counts_baseline(store, capsys):
    """The public protocol (../shared/BENCHMARKS.md): every 7th day of 2019, 200 m cells, 9,472 valid cells.
    Counts over all history is the one model whose figures are fully determined by the data, so ours must equal
    open_cp's naive_all row exactly: that checks the grid, the mask, the day boundaries and the tie handling."""
    mint_token(store, "ana", ("analyst",))
    code, _, err = run_cli(["datasets", "load", "toronto-mci", "--as", "root-admin"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["forecast", "backtest", "--models", "naive-all", "--json", "--as", "ana"], capsys)
    assert code == 0, err
    records = json.loads(out)
    assert [r["days"] for r in records] == [52] * 5
    assert [round(r["hit_rate_pooled"], 3) for r in records] == [0.125, 0.196, 0.350, 0.489, 0.640]
    assert [round(r["pai"], 2) for r in records] == [13.17, 10.13, 7.18, 4.95, 3.23]
