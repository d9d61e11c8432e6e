"""One interface for running independent jobs: in-process, or on a Dask distributed cluster.

    executor.run(fn, jobs, shared, progress) -> results in the order of `jobs`

`shared` is sent once (to each worker, on Dask) rather than with every job; `progress(done, total)` is called
as jobs finish.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence


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


class DaskExecutor:
    """Runs jobs on a Dask distributed cluster at `address` (e.g. tcp://10.0.0.5:8786), or on a given client."""

    def __init__(self, address: str | None = None, client=None):
        from distributed import Client

        self.address = address
        self._own = client is None
        self.client = client if client is not None else Client(address, set_as_default=False)
        self.name = f"dask {address or self.client.scheduler.address}"

    def run(self, fn, jobs, shared, progress=None):
        from distributed import as_completed

        shared_future = self.client.scatter(shared, broadcast=True)
        futures = [self.client.submit(fn, job, shared_future, pure=False) for job in jobs]
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(jobs)
        for done, future in enumerate(as_completed(futures), 1):
            results[index[future.key]] = future.result()  # re-raises a job's error here, with its traceback
            if progress:
                progress(done, len(jobs))
        return results

    def close(self) -> None:
        if self._own:
            self.client.close()
