"""Incident operations as the server runs them for a person: loads of an uploaded file or a bundled dataset (long:
they run as jobs) and reading the quarantine. Every one is decided by the policy and done as the authenticated
actor, whose name the load record and the trail's `collection` entry carry."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from lawful.access.decide import Resource, require
from lawful.db import Store
from lawful.errors import ConfigError, InputError
from lawful.incidents import service
from lawful.incidents.mapping import load_mapping
from lawful.incidents.store import Progress
from lawful.incidents.stream import ingest_path
from lawful.trail import audit

def check_load(store: Store, *, actor, source: str, purpose: str):
    """Refuse before any upload is stored: loading needs `incidents.load` for this purpose. Returns the actor."""
    require(actor, "incidents.load", Resource("incidents", source), purpose)
    return actor


def upload_limit() -> int:
    """The largest file a load may upload, in bytes (LAWFUL_MAX_UPLOAD_MB, default 2048), read by the server."""
    text = os.environ.get("LAWFUL_MAX_UPLOAD_MB", "2048")
    if not text.strip().isdigit() or not 1 <= int(text) <= 1_048_576:
        raise ConfigError(f"LAWFUL_MAX_UPLOAD_MB={text!r} is not a size in MB",
                          "give a whole number of megabytes from 1 to 1048576, e.g. 2048")
    return int(text) * 2**20


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:120].lstrip(".") or "upload"


def stage_upload(store: Store, *, data: BinaryIO, file_name: str, mapping: BinaryIO) -> Path:
    """Copy an upload (the file and its mapping) into a private directory under the data directory, each part at
    most upload_limit() bytes and not empty; returns the directory, which `load_staged` removes. The file keeps the
    client's name (made safe) in a folder of its own, so the load record and quarantine name the file the person
    knows and no name can take the mapping's place."""
    root = store.settings.data_dir / "uploads"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = Path(tempfile.mkdtemp(dir=root))
    try:
        (staged / "data").mkdir()
        limit = upload_limit()
        _copy(data, staged / "data" / _safe_name(file_name), "file", limit)
        _copy(mapping, staged / "mapping.toml", "mapping", limit)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _copy(source: BinaryIO, to: Path, what: str, limit: int) -> None:
    written = 0
    with open(to, "wb") as f:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise InputError(f"the uploaded {what} is larger than {limit >> 20} MB",
                                 "split it, or ask the operator to raise LAWFUL_MAX_UPLOAD_MB")
            f.write(chunk)
    if written == 0:
        raise InputError(f"the uploaded {what} is empty", f"send the {what} itself")


def load_staged(store: Store, *, actor, staged: Path, strict: bool = False, purpose: str = "crime analysis",
                progress: Progress | None = None) -> dict:
    """Load a staged upload through its mapping: one transaction, all or nothing; bad rows quarantined (or,
    strict, the whole load refused). The staged directory is removed whatever happens."""
    try:
        m = load_mapping(staged / "mapping.toml", label="the uploaded mapping")
        (data,) = (staged / "data").iterdir()
        with store.transaction() as session:
            require(actor, "incidents.load", Resource("incidents", m.source, m.classification), purpose)
            summary = ingest_path(session, path=data, mapping=m, settings=store.settings, strict=strict,
                                  actor=actor.name, progress=progress)  # streamed: memory bounded by a chunk
        return asdict(summary)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


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
