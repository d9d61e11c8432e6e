"""One interface for running independent jobs: in-process, or on a Dask distributed cluster.

    executor.run(fn, jobs, shared, progress) -> results in the order of `jobs`

`shared` is sent once (scattered to every worker, on Dask) rather than with every job; `progress(done, total)` is
called as jobs finish.

On a cluster the jobs are evened out before they are sent: a job may say what it costs (`job.cost`, relative: a
gradient-boosted fit is worth many count models), the heaviest go first (longest-processing-time-first, so no
worker is left with a big job at the end), and cheap jobs travel together in batches of about the same cost, so
the per-task overhead of the scheduler (a few milliseconds a task) does not swamp a job that takes one.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol, Sequence

CONNECT_TIMEOUT_S = 5  # an unreachable scheduler is reported after this long (distributed's default is 30 s)
ROUNDS = 4  # batches per worker thread: enough to even out the tail, few enough to keep the overhead down


class Executor(Protocol):
    def run(self, fn: Callable, jobs: Sequence, shared, progress: Callable[[int, int], None] | None = None) -> list:
        ...


class LocalExecutor:
    """Runs jobs one after another in this process."""

    name = "in-process"

    def run(self, fn, jobs, shared, progress=None):
        results = []
        for i, job in enumerate(jobs, 1):
            results.append(fn(job, shared))
            if progress:
                progress(i, len(jobs))
        return results

    def close(self) -> None:
        pass


def cost(job) -> float:
    """A job's relative cost (its `cost` attribute, 1 if it has none)."""
    c = getattr(job, "cost", 1.0)
    return float(c) if c and c > 0 else 1.0


def batches(jobs: Sequence, slots: int, rounds: int = ROUNDS) -> list[list[int]]:
    """The indices of `jobs` in batches, heaviest batch first. Jobs with the same `group` (not None) travel
    together, in their given order: they share work when they run one after another in one process (the feature
    model trains once per refit instant), which is lost if a cluster spreads them over workers. A unit (a group,
    or a job without one) that costs at least the target (the total over slots x rounds) is a batch of its own;
    cheaper units are packed, in their given order, until a batch reaches the target."""
    if not jobs:
        return []
    costs = [cost(j) for j in jobs]
    units: list[list[int]] = []
    by_group: dict = {}
    for i, job in enumerate(jobs):
        g = getattr(job, "group", None)
        if g is None:
            units.append([i])
        elif g in by_group:
            by_group[g].append(i)
        else:
            by_group[g] = [i]
            units.append(by_group[g])
    weight_of = [sum(costs[i] for i in u) for u in units]
    target = sum(costs) / max(1, slots * rounds)
    by_cost = sorted(range(len(units)), key=lambda u: -weight_of[u])  # stable: equal costs keep their order
    out, current, weight = [], [], 0.0
    for u in by_cost:
        if weight_of[u] >= target:
            out.append(list(units[u]))
            continue
        current.extend(units[u])
        weight += weight_of[u]
        if weight >= target:
            out.append(current)
            current, weight = [], 0.0
    if current:
        out.append(current)
    return sorted(out, key=lambda b: -sum(costs[i] for i in b))


def run_batch(fn: Callable, batch: list, shared) -> list:
    """On a worker: the batch's jobs one after another, each with the seconds it took there."""
    out = []
    for job in batch:
        t0 = time.perf_counter()
        result = fn(job, shared)
        out.append((result, time.perf_counter() - t0))
    return out


class DaskExecutor:
    """Runs jobs on a Dask distributed cluster at `address` (e.g. tcp://10.0.0.5:8786), or on a given client.

    Connecting fails with an OSError (TimeoutError) after `timeout` seconds when nothing answers at the address.
    After `run`, `job_seconds` holds each job's time on its worker (in the order of `jobs`) and `serial_seconds`
    the time spent outside the jobs: shipping the shared data, scheduling, collecting."""

    def __init__(self, address: str | None = None, client=None, timeout: float = CONNECT_TIMEOUT_S):
        from distributed import Client

        self.address = address
        self._own = client is None
        if client is None:
            try:
                client = Client(address, set_as_default=False, timeout=timeout)
            except OSError:
                raise
            except Exception as exc:  # something answered, but not a scheduler (it sent garbage, say)
                raise ConnectionError(f"{address} did not answer as a Dask scheduler ({type(exc).__name__})") from None
        self.client = client
        self.name = f"dask {address or self.client.scheduler.address}"
        self.job_seconds: list[float] = []
        self.scatter_seconds = 0.0

    def slots(self) -> int:
        """The worker threads the cluster has now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def run(self, fn, jobs, shared, progress=None):
        from distributed import as_completed

        t0 = time.perf_counter()
        # once per worker, not once per job; hash=False: two runs never share (or free) each other's copy
        shared_future = self.client.scatter(shared, broadcast=True, hash=False)
        self.scatter_seconds = time.perf_counter() - t0
        plan = batches(jobs, self.slots())
        futures = [self.client.submit(run_batch, fn, [jobs[i] for i in batch], shared_future, pure=False)
                   for batch in plan]
        which = {f.key: batch for f, batch in zip(futures, plan)}
        results, seconds, done = [None] * len(jobs), [0.0] * len(jobs), 0
        # the client's own loop: this client is not the process's default one (set_as_default=False)
        for future in as_completed(futures, loop=self.client.loop):
            for i, (result, s) in zip(which[future.key], future.result()):  # re-raises a job's error, traceback too
                results[i], seconds[i] = result, s
            done += len(which[future.key])
            if progress:
                progress(done, len(jobs))
        self.job_seconds = seconds
        return results

    def close(self) -> None:
        if self._own:
            self.client.close()
