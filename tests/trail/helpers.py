"""What an attacker with the database owner's rights does, and how a person appends and verifies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from lawful import db
from lawful.trail import audit, chain
from lawful.trail.audit import head_path
from tests.governance.test_trail import append_entries, drop_guards, sql  # noqa: F401 (re-exported)

FIELDS = "seq, at_us, actor, action, object, purpose, details, prev_hash, hash"


def drop_all_guards(settings) -> None:
    drop_guards(settings)
    if db.sqlite_path(settings.database_url):
        sql(settings, "DROP TRIGGER audit_checkpoints_no_update")


def rows(settings) -> list[tuple]:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text(f"SELECT {FIELDS} FROM audit_entries ORDER BY seq"))]
    engine.dispose()
    return out


def counts(settings) -> tuple[int, int]:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
        c = conn.execute(text("SELECT count(*) FROM audit_checkpoints")).scalar_one()
    engine.dispose()
    return n, c


def rewrite(settings, *, drop: int, renumber: bool, drop_checkpoints: bool = True) -> None:
    """Delete entry `drop` and re-hash every later entry consistently (renumbered to close the gap, or not)."""
    drop_all_guards(settings)
    old = rows(settings)
    engine = db.make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq >= :s"), {"s": drop})
        prev = old[drop - 2][8] if drop > 1 else chain.GENESIS
        for seq, at_us, actor, action, obj, purpose, details, _, _ in old[drop:]:
            seq = seq - 1 if renumber else seq
            own = chain.entry_hash(seq, at_us, actor, action, obj, purpose, details, prev)
            conn.execute(text(f"INSERT INTO audit_entries ({FIELDS}) VALUES (:seq, :at_us, :actor, :action, :object, "
                              ":purpose, :details, :prev_hash, :hash)"),
                         {"seq": seq, "at_us": at_us, "actor": actor, "action": action, "object": obj,
                          "purpose": purpose, "details": details, "prev_hash": prev, "hash": own})
            prev = own
        if drop_checkpoints:
            conn.execute(text("DELETE FROM audit_checkpoints"))
    engine.dispose()


def new_process() -> None:
    """Forget what this process remembers of the heads it signed, as a freshly started server would."""
    audit._SIGNED.clear()


def state(settings) -> tuple:
    """Everything a refused append must leave untouched."""
    hp = head_path(settings)
    return counts(settings), rows(settings)[-1], hp.read_bytes() if hp.exists() else None, \
        sorted(p.name for p in settings.audit_key_path.parent.iterdir())


def export_bundle(settings, out: Path) -> Path:
    """The export service on its own (the CLI's export appends first, which a tampered trail refuses)."""
    engine = db.open_store(settings)
    with db.transaction(engine, readonly=True, settings=settings) as s:
        audit.export(s, settings=settings, out_dir=out)
    engine.dispose()
    return out


def run_verify_py(bundle: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """The exported verifier on 'another machine': a copy of the bundle, no Lawful, no store, no private key."""
    elsewhere = tmp / f"auditor-{len(list(tmp.iterdir()))}"
    shutil.copytree(bundle, elsewhere)
    return subprocess.run([sys.executable, "-I", "verify.py", *args], cwd=elsewhere, env={"PATH": os.environ["PATH"]},
                          capture_output=True, text=True)
