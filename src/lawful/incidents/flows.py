"""Incident operations as the server runs them for a person: loads of an uploaded file or a bundled dataset (long:
they run as jobs) and reading the quarantine. Every one is decided by the policy and done as the authenticated
actor, whose name the load record and the trail's `collection` entry carry."""

from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.db import Store
from lawful.incidents import service
from lawful.incidents.mapping import load_mapping
from lawful.incidents.store import Progress
from lawful.trail import audit

LOAD_PURPOSES = ("crime analysis", "administration")


def check_load(store: Store, *, actor, source: str, purpose: str):
    """Refuse before any upload is stored: loading needs `incidents.load` for this purpose. Returns the actor."""
    require(actor, "incidents.load", Resource("incidents", source), purpose)
    return actor


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:120] or "upload"


@contextmanager
def staging(store: Store):
    """A private directory for one upload, under the data directory, removed afterwards whatever happens."""
    root = store.settings.data_dir / "uploads"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def load_upload(store: Store, *, actor, data: Path, file_name: str, mapping: Path, strict: bool = False,
                purpose: str = "crime analysis", progress: Progress | None = None) -> dict:
    """Load an uploaded file through an uploaded mapping: one transaction, all or nothing; bad rows quarantined
    (or, strict, the whole load refused). `data` is renamed to the client's file name (made safe) so the load
    record and quarantine name the file the person knows."""
    m = load_mapping(mapping)
    named = data.with_name(_safe_name(file_name))
    if named != data:
        data.rename(named)
    with store.transaction() as session:
        require(actor, "incidents.load", Resource("incidents", m.source, m.classification), purpose)
        summary = service.ingest_file(session, path=named, mapping=m, settings=store.settings, strict=strict,
                                      actor=actor.name, progress=progress)
    return asdict(summary)


def load_bundled(store: Store, *, actor, name: str, purpose: str = "administration",
                 progress: Progress | None = None) -> dict:
    """Load a bundled dataset (idempotent)."""
    from lawful.incidents.datasets import load_dataset

    with store.transaction() as session:
        require(actor, "incidents.load", Resource("incidents", name), purpose)
        summary = load_dataset(session, name=name, settings=store.settings, actor=actor.name, progress=progress)
    return {"name": summary.name, "loads": [asdict(s) for s in summary.loads], "quirks": summary.quirks}


def quarantined(session: Session, *, actor, load_id: int | None = None, limit: int = 50,
                purpose: str = "crime analysis") -> list[dict]:
    """Rows loads refused, with file, row, field, offending value and reason: reading them is reading incident data
    (at the clearance of the most classified stored incidents), and is a consultation on the trail."""
    service.require_read(session, actor=actor, purpose=purpose)
    rows = service.get_all_quarantined(session, load_id=load_id, limit=max(1, min(limit, 10_000)))
    audit.append(session, actor=actor.name, action="consultation", obj=f"quarantine:{load_id or 'all'}",
                 purpose=purpose, details={"rows": len(rows)})
    return [{"load_id": r.load_id, "file_name": r.file_name, "row_number": r.row_number, "field": r.field,
             "value": r.value, "reason": r.reason} for r in rows]
