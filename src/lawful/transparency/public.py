"""What the public pages reach, as flows over the store (no sign-in, so no actor): reads in read-only
transactions, each step of a complaint or request in one writing transaction with its trail entry, and a refused
reference-and-code pair written to the trail in a transaction of its own (the refused one rolls back)."""

from __future__ import annotations

from lawful.db import Store
from lawful.trail import audit
from lawful.transparency import complaints, heads, register, subject
from lawful.transparency.complaints import PUBLIC, TrackingRefused


def _write(store: Store, fn, **kw):
    try:
        with store.transaction() as session:
            return fn(session, **kw)
    except TrackingRefused as exc:
        with store.transaction() as session:
            audit.append(session, actor=PUBLIC, action="access.deny", obj=exc.obj[:300], purpose="complaints",
                         details={"step": "tracking refused", "reason": "reference and code do not match"})
        raise


def the_register(store: Store) -> dict:
    return register.public_register(store)


def one_record(store: Store, name: str) -> list[dict]:
    """Every version of one system in the register, newest first (empty: not in the register)."""
    return sorted((r for r in the_register(store)["records"] if r["name"] == name), key=lambda r: -r["version"])


def changes(store: Store) -> list[dict]:
    return register.public_changes(store)


def systems(store: Store) -> list[str]:
    return complaints.public_systems(store)


def file_complaint(store: Store, **kw) -> dict:
    return _write(store, complaints.file, settings=store.settings, **kw)


def track_complaint(store: Store, *, reference: str, code: str) -> dict:
    return _write(store, complaints.track, reference=reference, code=code)


def add_information(store: Store, *, reference: str, code: str, text: str) -> dict:
    return _write(store, complaints.add_information, reference=reference, code=code, text=text)


def appeal_outcome(store: Store, *, reference: str, code: str, text: str) -> dict:
    return _write(store, complaints.appeal_outcome, reference=reference, code=code, text=text)


def file_request(store: Store, **kw) -> dict:
    return _write(store, subject.file, settings=store.settings, **kw)


def track_request(store: Store, *, reference: str, code: str) -> dict:
    return _write(store, subject.track, reference=reference, code=code)


def request_fields() -> dict[str, str]:
    return subject.fields()


def published_heads(store: Store) -> dict:
    return heads.published(store)


def public_key(store: Store) -> bytes:
    return heads.public_key_pem(store.settings)
