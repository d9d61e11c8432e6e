"""Secrets the server must read back (one-time-code seeds) are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under
a key kept in a file apart from the database, like the trail's signing key and the pseudonym key: a dump of the
database alone yields no usable secret. The key file is created once, readable by its owner only."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from lawful.errors import ConfigError, StoreError
from lawful.keyfile import create_once
from lawful.settings import Settings

SEALED_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80 + a 64-bit timestamp's high zero bytes)


def key_path(settings: Settings) -> Path:
    return settings.secrets_key_path or settings.data_dir / "keys" / "secrets.key"


def load_key(settings: Settings) -> Fernet:
    """The sealing key, created (a fresh Fernet key, owner-only) on first use."""
    path = key_path(settings)
    create_once(path, Fernet.generate_key())  # another process may have made it first: theirs is the key
    try:
        return Fernet(path.read_bytes().strip())
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read the secrets key {path}: {exc}",
                          "restore it from backup; without it nobody with one-time codes can sign in") from None


def seal(settings: Settings, secret: str) -> str:
    return load_key(settings).encrypt(secret.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    try:
        return load_key(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise StoreError(f"a stored secret does not open with the key {key_path(settings)}",
                         "the key file is not the one the secrets were sealed with; restore it from backup") from None
