"""Keyed pseudonyms for personal identifiers (names, ID numbers, phone numbers, licence plates): HMAC-SHA256 with a
key kept in a file apart from the database. The same identifier always gives the same pseudonym, so records about
one person stay linkable for analysis, but nobody can go back from a pseudonym to the person without the key, and
with the key only by trying a known identity (`lawful privacy reidentify`, its own permission, on the trail).

This module stays pure (no database): ingestion's validation uses it. The check that the key is still the one the
store's pseudonyms were made with needs the store, and lives in `lawful.privacy.service.pseudonym_key`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from pathlib import Path

from lawful.errors import ConfigError
from lawful.keyfile import create_once

PREFIX = "psn:"
_FINGERPRINT_LABEL = b"lawful pseudonym key fingerprint v1"


def normalise(value: str) -> str:
    """Only letters and digits make an identifier: case, width, spacing and punctuation do not make another person
    or another plate. 'Jane  ROE' and 'jane roe' are one identifier, and so are 'XYZ 999', 'xyz-999' and 'xyz999'.
    The same function runs at ingest and on every query (requests, re-identification), so they always agree."""
    return "".join(c for c in unicodedata.normalize("NFKC", value).casefold() if c.isalnum())


def pseudonym(key: bytes, value: str) -> str:
    return PREFIX + hmac.new(key, normalise(value).encode(), hashlib.sha256).hexdigest()[:32]  # 128 bits


def fingerprint(key: bytes) -> str:
    """Names the key without revealing it: an HMAC of a fixed label under the key (nothing to try identities with)."""
    return "hmac-sha256:" + hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def read_key(path: Path) -> bytes | None:
    """The key in the file, or None if there is no file. Never creates one."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the pseudonymisation key {path}: {exc}",
                          "restore it from backup; without it new records will not link to old ones",
                          kind="unavailable") from None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ConfigError(f"the pseudonymisation key {path} is not hex-encoded",
                          "restore it from backup; without it new records will not link to old ones",
                          kind="unavailable") from None
    if len(key) < 32:
        raise ConfigError(f"the pseudonymisation key {path} is too short", "use 32 random bytes, hex-encoded")
    return key


def new_key(path: Path) -> bytes:
    """Create the key file (32 random bytes, owner-only) unless it exists, and return the key it holds: another
    process may have made it first, and then theirs is the key."""
    create_once(path, secrets.token_hex(32).encode())
    key = read_key(path)
    if key is None:  # removed between the two steps
        raise ConfigError(f"the pseudonymisation key {path} vanished as it was created", "run the command again",
                          kind="unavailable")
    return key


def load_key(path: Path) -> bytes:
    """The key, created on first use. Does not check the key against the store: use
    `lawful.privacy.service.pseudonym_key(session, ...)` wherever a session is at hand."""
    return read_key(path) or new_key(path)
