"""Secret files kept apart from the database (the trail's signing key, the pseudonymisation key)."""

from __future__ import annotations

import os
from pathlib import Path


def create_once(path: Path, content: bytes) -> bool:
    """Write content to path, readable by its owner only, unless the file exists. Two processes racing end with
    one file, the first one's (the write goes to a private temporary file, then a hard link that fails if the
    name is taken). Returns whether this call created it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
