"""A disk that fills during a load: one line saying so and that nothing was committed, and the store as it was."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from lawful import db
from lawful.errors import StoreError
from lawful.incidents import service
from lawful.incidents.mapping import load_mapping
from tests.conftest import GOOD_ROWS, store_fingerprint, write_csv


@pytest.mark.parametrize("failure", [
    OperationalError("INSERT INTO incidents ...", {}, sqlite3.OperationalError("database or disk is full")),
    OSError(errno.ENOSPC, "No space left on device"),
])
def test_a_full_disk_during_a_load_says_so_and_commits_nothing(store, tmp_path, mapping_file, monkeypatch, failure):
    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)
    before = store_fingerprint(store)

    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(service, "insert_incidents", full)
    engine = db.open_store(store)
    try:
        with pytest.raises(StoreError) as info:
            with db.transaction(engine, settings=store) as s:
                service.ingest_file(s, path=csv, mapping=load_mapping(mapping_file), settings=store)
    finally:
        engine.dispose()
    text = str(info.value)
    assert "disk" in text and "export.csv" in text and "nothing was committed" in text and "\n" not in text
    assert info.value.fix and "free space" in info.value.fix
    assert store_fingerprint(store) == before


def test_other_store_errors_are_not_called_a_full_disk(store, tmp_path, mapping_file, monkeypatch):
    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(service, "insert_incidents", broken)
    engine = db.open_store(store)
    try:
        with pytest.raises(OSError, match="Input/output"):
            with db.transaction(engine, settings=store) as s:
                service.ingest_file(s, path=csv, mapping=load_mapping(mapping_file), settings=store)
    finally:
        engine.dispose()


@pytest.mark.parametrize("failure", [
    OperationalError("INSERT INTO incidents_stream ...", {}, sqlite3.OperationalError("database or disk is full")),
    OSError(errno.ENOSPC, "No space left on device"),
])
def test_a_full_disk_during_a_streamed_load_says_so_and_commits_nothing(store, tmp_path, mapping_file, monkeypatch,
                                                                        failure):
    from lawful.incidents.store import Stage
    from lawful.incidents.stream import ingest_path

    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS)
    before = store_fingerprint(store)

    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(Stage, "add", full)
    engine = db.open_store(store)
    try:
        with pytest.raises(StoreError) as info:
            with db.transaction(engine, settings=store) as s:
                ingest_path(s, path=csv, mapping=load_mapping(mapping_file), settings=store)
    finally:
        engine.dispose()
    assert "disk" in str(info.value) and "nothing was committed" in str(info.value)
    assert store_fingerprint(store) == before
