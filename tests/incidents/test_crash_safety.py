"""A load killed half-way (kill -9 of the server, no chance to clean up) leaves the store exactly as it was.

This test runs the real thing: `lawful serve` in its own process on a free loopback port, a client uploading over
real HTTP, and SIGKILL to the server while its job is writing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from lawful.incidents.datasets import toronto_paths
from tests.conftest import GOOD_ROWS, make_private, mint_token, run_cli, store_fingerprint, write_csv

ROOT = Path(__file__).resolve().parents[2]
TORONTO_MAPPING = ROOT / "examples" / "mappings" / "toronto-mci.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "lawful.cli", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(), text=True)
    for _ in range(300):  # up to 30 s on a loaded machine; returns as soon as it answers
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server did not start: {proc.stderr.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not answer /health")


def test_kill_9_of_the_server_during_a_write_leaves_previous_state(store, tmp_path, mapping_file, capsys):
    write_csv(tmp_path / "export.csv", GOOD_ROWS)
    code, _, err = run_cli(["ingest", str(tmp_path / "export.csv"), "--mapping", str(mapping_file)], capsys)
    assert code == 0, err
    token = mint_token(store, "loader", ("analyst",), "internal")
    make_private(store)
    before = store_fingerprint(store)
    port = free_port()
    server = start_server(port)
    try:
        with ExitStack() as stack:
            train = toronto_paths(stack)[0]  # 210,992 rows: the write stage lasts long enough to be cut
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1",
                                headers={"Authorization": f"Bearer {token}"}, timeout=60)
            with open(train, "rb") as data, open(TORONTO_MAPPING, "rb") as m:
                r = http.post("/incidents/loads", files={"file": (train.name, data), "mapping": ("toronto.toml", m)})
            assert r.status_code == 202, r.text
            job = r.json()["id"]
            for _ in range(600):
                state = http.get(f"/jobs/{job}").json()
                assert state["state"] in ("queued", "running"), state
                # a streamed load writes (stages) each chunk as it reads it, then copies them all in one statement
                if state["stage"] in ("reading and checking", "writing") and state["done"] > 0:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"the load never reached its write stage: {state}")
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
            assert server.returncode == -signal.SIGKILL
            after = store_fingerprint(store)
            assert after == before, {t: (before.tables[t], after.tables.get(t)) for t in before.tables if before.tables[t] != after.tables.get(t)}
            # and the store still works: the same load, run to the end, adds every row once
            code, out, err = run_cli(["ingest", str(train), "--mapping", str(TORONTO_MAPPING)], capsys)
            assert code == 0 and "210,992 new" in out, err
    finally:
        if server.poll() is None:
            server.kill()
