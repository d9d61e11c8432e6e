"""The trail's Ed25519 signing key: a file apart from the database, created on first use, readable by its owner only.

Someone who can write the database but not read this file cannot forge a checkpoint. Back the file up; losing it
means new checkpoints are signed by a new key, which `lawful audit verify` reports.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption, PrivateFormat, PublicFormat,
                                                          load_pem_private_key, load_pem_public_key)

from lawful.errors import ConfigError
from lawful.keyfile import create_once
from lawful.settings import Settings


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The private key, created atomically if it does not exist yet (two processes starting at once get one key)."""
    return _load_or_create(settings.audit_key_path)


@lru_cache(maxsize=8)
def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        new = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        if create_once(path, new):
            path.with_suffix(".pub").write_bytes(public_pem(_read(path).public_key()))
    return _read(path)


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigError(f"cannot read the trail signing key {path}: {exc}",
                          "restore it from backup, or point LAWFUL_AUDIT_KEY at the right file") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key", "point LAWFUL_AUDIT_KEY at the trail's Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def read_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read the public key {path}: {exc}",
                          "give the .pub file written next to the signing key, or the one in an export bundle") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key", "give the trail's Ed25519 public key (PEM)")
    return key
