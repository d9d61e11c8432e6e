"""Keyed pseudonyms for personal identifiers (names, ID numbers, phone numbers, licence plates): HMAC-SHA256 with a
key kept in a file apart from the database. The same identifier always gives the same pseudonym, so records about
one person stay linkable for analysis, but nobody can go back from a pseudonym to the person without the key, and
with the key only by trying a known identity (`lawful privacy reidentify`, its own permission, on the trail)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from pathlib import Path

from lawful.errors import ConfigError
from lawful.keyfile import create_once

PREFIX = "psn:"


def normalise(value: str) -> str:
    """Case, width and spacing do not make another person: 'Jane  ROE' and 'jane roe' are one identifier."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def pseudonym(key: bytes, value: str) -> str:
    return PREFIX + hmac.new(key, normalise(value).encode(), hashlib.sha256).hexdigest()[:32]  # 128 bits


def load_key(path: Path) -> bytes:
    """The pseudonymisation key, created (32 random bytes, owner-only) on first use."""
    create_once(path, secrets.token_hex(32).encode())  # another process may have made it first: theirs is the key
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read the pseudonymisation key {path}: {exc}",
                          "restore it from backup; without it new records will not link to old ones") from None
    if len(key) < 32:
        raise ConfigError(f"the pseudonymisation key {path} is too short", "use 32 random bytes, hex-encoded")
    return key
