"""The server's private files (the SQLite store, the trail's signing key and head, the pseudonym key, other keys):
readable by the server's own account only. The server refuses to start when any is readable by others, and
everything it creates is 0600 in a 0700 directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lawful.db import sqlite_path
from lawful.errors import ConfigError
from lawful.settings import Settings


def private_paths(settings: Settings) -> list[Path]:
    """Every secret file the server holds that exists now, and the directories that hold them."""
    keys = [settings.audit_key_path, settings.pseudonym_key_path]
    found: list[Path] = []
    for key in keys:
        if key is None:
            continue
        if key.parent.exists():
            found.append(key.parent)
            found.extend(p for p in key.parent.iterdir() if p.is_file() and not p.name.endswith(".pub"))
    db = sqlite_path(settings.database_url)
    if db is not None:
        found.extend(p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists())
        if db.parent.exists():
            found.append(db.parent)
    return sorted(set(found))


def refuse_shared(settings: Settings) -> None:
    """Refuse when another account could read (or write) a secret file or the directory holding it."""
    loose = []
    for p in private_paths(settings):
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            loose.append(f"{p} (mode {mode:04o})")
    if loose:
        raise ConfigError("the server's private files are open to other accounts: " + ", ".join(loose),
                          "run `chmod 700` on the directories and `chmod 600` on the files, as the server's account")


def tighten(settings: Settings) -> None:
    """Make every private file and directory readable by this account only (`lawful demo`, on its own store)."""
    for p in private_paths(settings):
        if stat.S_IMODE(p.stat().st_mode) & 0o077:
            p.chmod(0o700 if p.is_dir() else 0o600)


def make_private(settings: Settings) -> None:
    """Create the data and key directories 0700 and have everything this process creates from now on be 0600."""
    os.umask(0o077)
    dirs = {settings.data_dir, settings.audit_key_path.parent}
    if settings.pseudonym_key_path is not None:
        dirs.add(settings.pseudonym_key_path.parent)
    db = sqlite_path(settings.database_url)
    if db is not None:
        dirs.add(db.parent)
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)


def can_read_keys(settings: Settings) -> bool:
    """Whether this process is the server's account: it can open the key directory."""
    d = settings.audit_key_path.parent
    return d.exists() and os.access(d, os.R_OK | os.X_OK) and os.stat(d).st_uid == os.geteuid()
