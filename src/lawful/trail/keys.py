"""The trail's Ed25519 signing key: a file apart from the database, readable by its owner only.

Someone who can write the database but not read this file cannot forge a checkpoint. The key is created only for a
trail that has not begun: once checkpoints exist, a missing key is an error to fix from backup, never a reason to
start a new key (that would let anyone who deletes the key file re-sign history). Back the file up.

Files beside the key (default `$LAWFUL_DATA_DIR/keys/`):
  trail-ed25519.pem                the private key (0600);  trail-ed25519.pub  its public key
  trail-ed25519-origin.pub         the key the trail was started with: the default trust anchor of `audit verify`
  trail-ed25519.retired-KEYID.pub  keys replaced by `lawful admin rotate-key` (their private halves are deleted)
  trail-ed25519-head.json          the newest signed head (lawful.trail.audit)
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption, PrivateFormat, PublicFormat,
                                                          load_pem_private_key, load_pem_public_key)

from lawful.errors import ConfigError, LawfulError
from lawful.keyfile import create_once
from lawful.settings import Settings

_LOADED: dict[Path, Ed25519PrivateKey] = {}  # read once per process (the file may be moved away; the key stays)


def signing_key(settings: Settings, *, create: bool = False) -> Ed25519PrivateKey:
    """The private key. Created (atomically: two processes starting at once get one key) only with create=True,
    which the writer passes for a trail that has no entry and no signed head yet."""
    path = settings.audit_key_path
    key = _LOADED.get(path)
    if key is not None:
        return key
    if not path.exists():
        if not create:
            raise LawfulError(f"the trail signing key {path} is missing",
                              "restore it (and the .pub beside it) from backup, or point LAWFUL_AUDIT_KEY at it",
                              kind="unavailable")
        new = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        try:
            if create_once(path, new):
                pub = public_pem(_read(path).public_key())
                path.with_suffix(".pub").write_bytes(pub)
                create_once(origin_path(settings), pub)
        except OSError as exc:
            raise LawfulError(f"cannot create the trail signing key {path}: {exc.strerror or exc}; nothing was written",
                              f"make {path.parent} writable by Lawful's account (mode 0700) and give it free space",
                              kind="unavailable") from None
    key = _LOADED[path] = _read(path)
    return key


def forget(settings: Settings) -> None:
    _LOADED.pop(settings.audit_key_path, None)


def origin_path(settings: Settings) -> Path:
    p = settings.audit_key_path
    return p.with_name(p.stem + "-origin.pub")


def retired_path(settings: Settings, kid: str) -> Path:
    p = settings.audit_key_path
    return p.with_name(f"{p.stem}.retired-{kid}.pub")


def next_path(settings: Settings) -> Path:
    p = settings.audit_key_path
    return p.with_name(p.name + ".next")


def trust_anchor(settings: Settings) -> Ed25519PublicKey:
    """The public key local verification starts from: the key the trail was started with, if recorded, else the
    current key's .pub, else the signing key's own public half."""
    for p in (origin_path(settings), settings.audit_key_path.with_suffix(".pub")):
        if p.exists():
            return read_public_key(p)
    return signing_key(settings).public_key()


def retired_public_key(settings: Settings, kid: str) -> Ed25519PublicKey | None:
    p = retired_path(settings, kid)
    return read_public_key(p) if p.exists() else None


def stage_next(settings: Settings) -> Ed25519PrivateKey:
    """A new key written beside the current one as `.next` (0600, synced), installed by install_next."""
    new = Ed25519PrivateKey.generate()
    path = next_path(settings)
    if path.exists():  # an earlier key change was interrupted: this file may be the key the trail was handed to
        raise LawfulError(f"{path} exists: an earlier key change did not finish, and the trail may already have been "
                          "handed to that key; a new change would overwrite the only copy of it",
                          f"if the trail's newest entry is a trail.key naming it (`lawful admin verify`), move {path} "
                          f"to {settings.audit_key_path}; otherwise keep it aside as evidence and run the change again "
                          "(docs/governance.md, 'Changing the key')", kind="conflict")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, new.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LawfulError(f"cannot write the new trail key {path}: {exc.strerror or exc}; nothing was changed",
                          f"make {path.parent} writable by Lawful's account and give it free space",
                          kind="unavailable") from None
    return new


def install_next(settings: Settings, old: Ed25519PrivateKey, old_kid: str) -> None:
    """Keep the old public key as retired (and as the origin if none is recorded), then move `.next` into place."""
    path = settings.audit_key_path
    old_pub = public_pem(old.public_key())
    create_once(origin_path(settings), old_pub)
    retired_path(settings, old_kid).write_bytes(old_pub)
    os.replace(next_path(settings), path)
    path.with_suffix(".pub").write_bytes(public_pem(_read(path).public_key()))
    forget(settings)


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
