"""Group commit for trail entries that are a transaction of their own (Tessera's integrator does the same).

    committer = GroupCommitter(store)
    seq = committer.append(actor=..., action=..., obj=..., purpose=..., details=...)

Many threads call `append` at once; whoever finds no batch being written becomes its leader, takes every entry
waiting (its own and those queued behind it, up to `max_batch`), and writes them in ONE transaction through the
ordinary writer (`audit.append`): each chained to the one before, the head signed once, the transaction
committed. Only then does each caller get its sequence number. If anything fails (the trail refuses to sign, the
disk is full, the commit fails), the batch rolls back whole and every caller in it gets the error: nobody is told
an entry is written that is not chained, signed and committed, and an entry is acknowledged exactly once. Then the
leader hands the lead to the next waiting caller, so no thread writes other people's batches for ever.

What this is for, and what it is not: a request's own entry is written in the same transaction as the request's
work (docs/server.md, "Every request"), so it cannot join another request's transaction without tying the two
requests' fates together (one's failure would roll back the other's work, or acknowledge an entry whose work was
never committed). Group commit is sound only for entries whose transaction holds nothing else: refusals
(`access.deny`, written after the refused request rolled back), sign-in failures, server starts, the consultation a
verification writes before it reads. Those are what a flood of requests produces, and what this batches.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from lawful.trail import audit

MAX_BATCH = 1000


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Ticket:
    entry: dict
    # Held from the start and released once for each time the caller is to wake (its entry written, or the lead
    # handed to it): a bare lock, because an Event's condition costs more than the rest of a caller's turn.
    done: threading.Lock = field(default_factory=_held_lock)
    seq: int | None = None
    error: BaseException | None = None
    lead: bool = False  # set when the lead is handed to this caller


class GroupCommitter:
    """Batches stand-alone trail entries from many threads into few transactions (see the module's text)."""

    def __init__(self, store, max_batch: int = MAX_BATCH):
        self.store = store
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Ticket] = deque()
        self._leading = False
        self.batches = 0  # transactions written (for benchmarks and tests)

    def append(self, *, actor: str, action: str, obj: str, purpose: str = "", details: dict | None = None) -> int:
        """Write one entry in a transaction of its own (shared with whoever appends at the same moment); returns
        its sequence number once the entry is chained, signed and committed. Raises what the batch raised."""
        _check(actor=actor, action=action, obj=obj, purpose=purpose)  # a bad entry fails its caller, not a batch
        ticket = _Ticket({"actor": actor, "action": action, "obj": obj, "purpose": purpose, "details": details})
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            if lead:
                self._leading = True
        if not lead:
            ticket.done.acquire()
            if ticket.lead:  # our entry is not written yet: the previous leader handed us the lead
                self._lead(ticket)
        else:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error
        return ticket.seq  # type: ignore[return-value]

    def _lead(self, own: _Ticket) -> None:
        """Write batches until our own entry is in one, then hand the lead on (or give it up if nobody waits)."""
        try:
            while own.seq is None and own.error is None:
                with self._lock:
                    batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                self._write(batch)
        finally:
            time.sleep(0)  # let the callers just told re-queue first, so the next batch takes them too
            with self._lock:
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.done.release()
                else:
                    self._leading = False

    def _write(self, batch: list[_Ticket]) -> None:
        seqs = []
        try:
            with self.store.transaction() as session:
                seqs = audit.append_many(session, [t.entry for t in batch])  # chained in order, one INSERT
            self.batches += 1
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets it, whatever it is
            if getattr(exc, "committed", False):  # signed and committed; only the head file lags: say so to each
                for t, s in zip(batch, seqs):
                    t.seq = s
            for t in batch:
                t.error = exc
                t.lead = False
                t.done.release()
            return
        for t, s in zip(batch, seqs):
            t.seq = s
            t.lead = False
            t.done.release()


def _check(*, actor: str, action: str, obj: str, purpose: str) -> None:
    if action not in audit.ACTIONS:
        raise ValueError(f"unknown trail action {action!r}")
    audit._refuse_controls(actor=actor, object=obj, purpose=purpose)
