"""Shared set-up for the privacy tests: a source whose victim names and plates are pseudonymised, the people who
work on it, and one transaction at a time on the test's store. The services are driven directly, as the server
and the CLI drive them."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import func, select

from lawful import db
from lawful.access.service import Actor
from lawful.incidents.mapping import load_mapping
from lawful.incidents.models import Incident
from lawful.incidents.service import ingest_file
from tests.conftest import TEST_MAPPING, write_csv

MAPPING = TEST_MAPPING.replace('keep = ["weapon"]', 'keep = ["weapon"]\npseudonymise = ["victim_name", "plate"]')
HEADER = "id,offence,when,lat,lon,hood,premises,weapon,victim_name,plate"
ROWS = [
    "A1,Break and Enter,2024-03-01 22:15,43.6532,-79.3832,Downtown,House,none,Jane Roe,XYZ 999",
    "A2,Robbery,2024-03-02 01:05,43.7001,-79.4163,Forest Hill,Outside,knife,John Doe,ABC 123",
    "A3,Assault,2024-04-11 23:30,43.6400,-79.5000,Etobicoke,Apartment,none,jane  roe,",
]

DORA = Actor("dora", frozenset({"dpo"}), "internal")
SUE = Actor("sue", frozenset({"supervisor"}), "internal")
AUD = Actor("aud", frozenset({"auditor"}), "internal")


@contextmanager
def tx(store, readonly: bool = False):
    """One transaction on the test's store, committed at the end of the block."""
    engine = db.open_store(store)
    try:
        with db.transaction(engine, readonly=readonly, settings=store) as session:
            yield session
    finally:
        engine.dispose()


def ingest(store, tmp_path, rows=ROWS, name="a.csv"):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    with tx(store) as s:
        return ingest_file(s, path=write_csv(tmp_path / name, rows, HEADER), mapping=load_mapping(mapping),
                           settings=store, actor="os:loader")


def total(store) -> int:
    """How many incidents the store holds."""
    with tx(store, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(Incident))
