"""Long work (backtests, loads of large files) runs as a job in the server, not as a request held open for
minutes: the request that starts it returns a job id at once; `GET /api/v1/jobs/ID` gives its stage, progress and,
when done, its result or its error. Jobs run one or two at a time (the machine has few cores) and live in the
server's memory: what they produce is stored by the services they call, so a restart loses only the job's status."""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from lawful.errors import LawfulError, NotFound


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    created: float
    state: str = "queued"  # queued | running | done | failed
    stage: str = ""
    done: int = 0
    total: int = 0
    result: Any = None
    error: dict | None = None
    finished: float | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def view(self) -> dict:
        return {"id": self.id, "kind": self.kind, "owner": self.owner, "state": self.state, "stage": self.stage,
                "done": self.done, "total": self.total, "result": self.result, "error": self.error,
                "created": self.created, "finished": self.finished}


@dataclass
class Jobs:
    workers: int = 1
    keep: int = 200
    _jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def submit(self, *, kind: str, owner: str, work: Callable[[Job], Any]) -> Job:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="lawful-job")
        job = Job(id=secrets.token_hex(8), kind=kind, owner=owner, created=time.time())
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > self.keep:  # forget the oldest finished ones
                for old in sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.created)[
                        : len(self._jobs) - self.keep]:
                    del self._jobs[old.id]
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        job.state = "running"
        try:
            job.result = work(job)
            job.state = "done"
        except LawfulError as exc:
            job.state, job.error = "failed", {"detail": exc.message, "fix": exc.fix, "kind": exc.kind}
        except Exception as exc:  # a job must never take the server down; the operator's log gets the trace
            traceback.print_exc()
            job.state, job.error = "failed", {"detail": f"internal error: {type(exc).__name__}", "kind": "unavailable"}
        except BaseException:  # interrupted (the server stopping): its transaction rolled back as it unwound
            job.state, job.error = "failed", {"detail": "the job was interrupted; its transaction was rolled back and "
                                                        "nothing of it was committed", "kind": "unavailable",
                                              "fix": "run it again"}
        finally:
            job.finished = time.time()

    def get(self, job_id: str, *, owner: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:  # someone else's job does not exist for you
            raise NotFound(f"no job {job_id!r} of yours", "use the id the request that started it returned")
        return job

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
