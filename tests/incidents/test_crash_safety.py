"""A load killed half-way (kill -9, no chance to clean up) leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lawful.incidents.datasets import toronto_paths
from tests.conftest import GOOD_ROWS, run_cli, store_fingerprint, write_csv

ROOT = Path(__file__).resolve().parents[2]
TORONTO_MAPPING = ROOT / "examples" / "mappings" / "toronto-mci.toml"


def test_kill_9_during_write_leaves_previous_state(store, tmp_path, mapping_file, capsys):
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    before = store_fingerprint(store)
    from contextlib import ExitStack

    with ExitStack() as stack:
        train = toronto_paths(stack)[0]  # 210,992 rows: the write stage lasts long enough to be cut
        proc = subprocess.Popen([sys.executable, "-m", "lawful.cli", "ingest", str(train), "--mapping", str(TORONTO_MAPPING)],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=os.environ.copy(), text=True)
        line = proc.stderr.readline()
        assert line.startswith("writing 210,992 rows"), line
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert store_fingerprint(store) == before
    # and the store still works: the same load, run to the end, adds every row once
    code, out, _ = run_cli(["ingest", str(train), "--mapping", str(TORONTO_MAPPING)], capsys)
    assert code == 0 and "210,992 new" in out
