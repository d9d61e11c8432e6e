"""`lawful forecast backtest --scheduler tcp://127.0.0.1:PORT` against a real Dask cluster reached by address: a
`dask scheduler` and two `dask worker` processes, started here on loopback and always stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.forecast.test_cli_forecast import BACKTEST, analyst, loaded  # noqa: F401  (fixtures)

distributed = pytest.importorskip("distributed")

DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):  # workers (and their nannies' children) first, then the scheduler
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """tcp://127.0.0.1:PORT of a scheduler with two single-threaded workers, each a process of its own."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dask")
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(log / f"{name}.log", "wb") as out:
            procs.append(subprocess.Popen([DASK, *args], stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        for i in range(2):
            start(f"worker{i}", "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                  "--name", f"w{i}")
        deadline = time.monotonic() + 60
        while True:
            try:
                with distributed.Client(address, set_as_default=False, timeout=2) as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("the Dask processes did not come up: "
                                       + " | ".join((log / f).read_text()[-500:] for f in os.listdir(log)))
                time.sleep(0.3)
        yield address
    finally:
        _stop(procs)


def _without_timings(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in records]


def test_backtest_on_a_scheduler_reached_by_address_gives_the_in_process_numbers(loaded, analyst, capsys,  # noqa: F811
                                                                                monkeypatch, scheduler):
    monkeypatch.setenv("LAWFUL_DASK_SCHEDULER", scheduler)  # the operator's setting, as README says
    args = [*BACKTEST, "--models", "naive,kde,sepp", "--json"]
    code, out, err = run_cli([*args, "--scheduler", scheduler], capsys)
    assert code == 0, err
    remote = json.loads(out)
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert _without_timings(remote) == _without_timings(json.loads(out))
    assert len(remote) == 15 and all(r["days"] == 7 for r in remote)
    with distributed.Client(scheduler, set_as_default=False, timeout=5) as client:
        ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
        workers = client.run(lambda: 1)
    assert "run_batch" in ran  # the jobs ran on the cluster's workers, not in the server
    assert len(workers) == 2
