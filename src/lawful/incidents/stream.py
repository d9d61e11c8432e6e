"""A load of one file in bounded memory: read, check and write a chunk at a time, in one transaction.

    ingest_path(session, path=..., mapping=..., settings=...) -> LoadSummary   (same result as service.ingest_file)

The file is read once (readers.TableReader: CSV blocks, Parquet record batches, GeoJSON features), each chunk is
checked (validate.prepare with one FileState for the whole file, so a key repeated in a later chunk is still a
duplicate, and rows are never read again to compute keys) and converted to what the database takes, on a thread of
its own one chunk ahead (`_ahead`); this thread writes its good records (store.Stage: on SQLite straight into
`incidents`; on PostgreSQL COPied into a staging table, or straight into an empty `incidents`) and its problems
to the quarantine. At the end the Stage completes the records (PostgreSQL: one INSERT ... SELECT in time order;
a load large for the table rebuilds the indexes it dropped), the load's record is completed and its `collection`
entry written: all in the caller's one transaction, so a failure, or kill -9 at any point, leaves the store as
it was. Peak memory is two chunks' worth at most, plus the keys seen (32 bytes each, in files beyond half a million:
validate.SeenKeys), whatever the size of the file.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lawful.errors import LawfulError, RowError, StoreError
from lawful.incidents.mapping import Mapping
from lawful.incidents.models import Load, QuarantinedRow
from lawful.incidents.readers import CHUNK_ROWS, TableReader, _BLOCK
from lawful.incidents.store import Progress, Stage, per_load_values
from lawful.incidents.validate import FileState, prepare
from lawful.limits import is_disk_full
from lawful.settings import Settings

log = logging.getLogger(__name__)


def ingest_path(session: Session, *, path: Path, mapping: Mapping, settings: Settings, strict: bool = False,
                actor: str | None = None, progress: Progress | None = None, label: str | None = None,
                chunk_rows: int = CHUNK_ROWS, block_bytes: int = _BLOCK):
    """Load one file through a mapping, streamed: check every row, keep the good ones, quarantine the rest."""
    from lawful.incidents import service

    path = Path(path)
    label = label or path.name
    started = datetime.now(timezone.utc)
    reader = TableReader(path, mapping, label, chunk_rows=chunk_rows, block_bytes=block_bytes)
    key = None
    if mapping.extra_pseudonymise:  # the checked key: a lost or swapped one is refused, never silently replaced
        from lawful.privacy.service import pseudonym_key

        key = pseudonym_key(session, actor=actor or service.current_actor(), settings=settings)
    try:
        return _load(session, reader=reader, mapping=mapping, settings=settings, strict=strict,
                     actor=actor or service.current_actor(), progress=progress, label=label, started=started, key=key)
    except Exception as exc:  # noqa: BLE001 - the driver's own errors too (chunks are written on its raw connection)
        if _sqlstate(exc) == "40P01":  # two large PostgreSQL loads each waited for the other's lock on incidents
            raise StoreError(f"Another load took the incidents table while {label} was loading; this load was "
                             "rolled back (nothing was committed).", "run it again.") from None
        if isinstance(exc, LawfulError) or not is_disk_full(exc):  # ours say which disk already
            raise
        raise StoreError(f"The disk holding the store filled up while loading {label}; nothing was committed "
                         "(a load is one transaction, rolled back as a whole).",
                         "free space on the store's disk (or give it more), then run the load again.") from None


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)


def _unique_violation(exc: BaseException) -> bool:
    """The unique key's error, from SQLAlchemy or from either driver (chunks are written on its raw connection)."""
    import sqlite3

    if isinstance(exc, IntegrityError) or _sqlstate(exc) == "23505":
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _ahead(reader: TableReader, prep, convert):
    """(prepared chunk, converted records) in file order, read, checked and converted on a thread of their own one
    chunk ahead of the caller, who writes them: the database's work on one chunk overlaps the reading and checking
    of the next (PostgreSQL's COPY lets go of the GIL for a whole chunk; SQLite's driver for each row, which makes
    the two threads contend, but the overlap still won at 10x: docs/design-notes.md). At most two chunks exist at
    once (one being written, the next being made or waiting): the thread starts a chunk only when the caller has written the
    one before the last it handed over. An error on the thread is raised here, in order; closing the generator
    stops the thread."""
    ready: queue.Queue = queue.Queue()
    room = threading.Semaphore(2)
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            chunks = iter(reader)
            while True:
                room.acquire()
                if stop.is_set():
                    return
                chunk = next(chunks, end)
                if chunk is end:
                    break
                prepared = prep(chunk)
                del chunk
                ready.put((prepared, convert(prepared.records)))
            ready.put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            ready.put(_Failed(exc))

    thread = threading.Thread(target=work, name="lawful-load-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is end:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
            del item
            room.release()  # the caller has written this chunk: the thread may start another
    finally:
        stop.set()
        room.release()  # a thread waiting for room sees stop
        thread.join()


def _malloc_trim():
    """glibc's malloc_trim, or None elsewhere."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to give back this way
        return None


_TRIM = _malloc_trim()


def _give_back_freed_memory() -> None:
    """Hand the memory freed with a written chunk back to the OS. Two threads free and allocate chunks in their
    own glibc arenas, which keep freed pages mapped, so without this a load's peak grows by what the arenas hold
    on to (3x the Toronto data: a 484-500 MB peak became 434-437 MB; docs/benchmarks.md, "Peak memory of a load")."""
    if _TRIM is not None:
        _TRIM(0)


def _concurrent(mapping: Mapping) -> StoreError:
    return StoreError(f"Another load of source {mapping.source!r} wrote the same records while this one ran; "
                      "this load was rolled back.", "run it again: it will add only what is still missing.")


def _load(session: Session, *, reader: TableReader, mapping: Mapping, settings: Settings, strict: bool, actor: str,
          progress: Progress | None, label: str, started: datetime, key: bytes | None):
    from lawful.incidents import service
    from lawful.trail import audit  # the trail records every collection of data (LED Art. 25)

    load = Load(source=mapping.source, file_name=label, file_sha256="", mapping_name=mapping.path, actor=actor,
                started_at=started, finished_at=started, rows_read=0, inserted=0, already_present=0, quarantined=0,
                dropped_columns=[])
    session.add(load)
    session.flush()
    state = FileState()
    counts: Counter = Counter()
    first: dict[tuple[str, str], int] = {}
    rows_read = bad_rows = good = 0
    dialect = session.get_bind().dialect.name
    stage = Stage(session, load.id, per_load_values(mapping.source, mapping.classification, started, dialect))
    chunks = _ahead(reader, lambda chunk: prepare(chunk, mapping, settings, label, now=started, pseudonym_key=key,
                                                  state=state), stage.convert)
    waited = writing = 0.0
    prepared = converted = None
    try:
        clock = time.perf_counter()
        for prepared, converted in chunks:
            waited += time.perf_counter() - clock
            if strict and prepared.problems:  # chunks come in file order: this is the file's first problem
                p = prepared.problems[0]
                raise RowError(label, p.row, p.field, p.value, p.reason)
            started_writing = time.perf_counter()
            try:
                stage.add(prepared.records, expected_rows=reader.estimated_rows, converted=converted)
            except Exception as exc:  # noqa: BLE001 - re-raised unless it is the unique key's
                if _unique_violation(exc):
                    raise _concurrent(mapping) from None
                raise
            if prepared.problems:
                session.execute(insert(QuarantinedRow), [
                    {"load_id": load.id, "file_name": label, "row_number": p.row, "field": p.field,
                     "value": p.value[:1000], "reason": p.reason} for p in prepared.problems])
                for p in prepared.problems:
                    counts[(p.field, p.reason)] += 1
                    first.setdefault((p.field, p.reason), p.row)
            rows_read += prepared.rows_read
            bad_rows += prepared.bad_rows
            good += len(prepared.records)
            if progress:
                progress("reading and checking", rows_read, 0)
            _give_back_freed_memory()
            clock = time.perf_counter()
            writing += clock - started_writing
        notes = state.notes()
        state.keys = None  # the keys seen are not needed to finish: their memory (and files) go back now
        if mapping.key_hash:
            service._refuse_renamed_copy(session, raw=SimpleNamespace(sha256=reader.sha256), mapping=mapping,
                                         file_label=label)
        if progress:
            progress("writing", 0, good)
        del prepared, converted  # the last chunk: gone before the indexes are built, with the arenas trimmed
        _give_back_freed_memory()
        clock = time.perf_counter()
        try:
            inserted = stage.finish()
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is the unique key's
            if _unique_violation(exc):
                raise _concurrent(mapping) from None
            raise
        log.debug("%s: waited %.2f s for checked chunks, %.2f s writing them, %.2f s finishing", label, waited, writing,
                  time.perf_counter() - clock)
        if progress:
            progress("writing", good, good)
    finally:
        chunks.close()
        try:
            stage.close()
        except Exception:  # noqa: BLE001 - the transaction is rolled back anyway; the first error is the one to see
            pass
    required = set(mapping.required_columns())
    load.file_sha256 = reader.sha256
    load.rows_read, load.quarantined = rows_read, bad_rows
    load.dropped_columns = [c for c in reader.columns if c not in required]
    load.inserted, load.already_present = inserted, good - inserted
    load.finished_at = datetime.now(timezone.utc)
    session.flush()
    audit.append(session, actor=load.actor, action="collection", obj=f"load:{load.id}", purpose="incident data hub",
                 details={"file": label, "sha256": reader.sha256, "source": mapping.source, "inserted": inserted,
                          "quarantined_rows": bad_rows, "classification": mapping.classification})
    return service.LoadSummary(
        load_id=load.id, file=label, source=mapping.source, rows_read=rows_read, inserted=inserted,
        already_present=load.already_present, quarantined_rows=bad_rows,
        problem_counts=[(f, r, n, first[(f, r)]) for (f, r), n in counts.most_common()],
        dropped_columns=load.dropped_columns, kept_extras=list(mapping.extra_keep), notes=notes,
    )
