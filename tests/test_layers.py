"""Which way things lean: the front ends (the CLI's modules and the web layer) are thin adapters. They import no
table models, never write the trail and never open the store; only the operator's commands (`lawful admin`, the
demo's setup) may open it, because they run as the server's own account."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lawful"
FRONT_ENDS = sorted([*SRC.glob("cli*.py"), *(SRC / "web").rglob("*.py")])
OPERATOR = {"cli_admin.py"}  # the only front-end module that may open the store (as the server's account)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def called(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value,
                                                                                              ast.Name):
            out.add(f"{node.func.value.id}.{node.func.attr}")
    return out


def test_front_ends_import_no_table_models_and_never_write_the_trail():
    offenders = {}
    for path in FRONT_ENDS:
        # the operator's commands may use the trail's own verifier and key rotation, never append to it
        trail = () if path.name in OPERATOR else ("lawful.trail.audit",)
        bad = sorted(n for n in imported(path) if n == "lawful.models" or n.endswith(".models")
                     and n.startswith("lawful.") or n.startswith(trail or ("\0",)))
        bad += sorted(c for c in called(path) if c == "audit.append")
        if bad:
            offenders[path.name] = bad
    assert not offenders, offenders


def test_only_operator_commands_open_the_store():
    offenders = {}
    for path in FRONT_ENDS:
        if path.name in OPERATOR or path.parent.name in ("web", "routers"):
            continue
        opens = sorted(c for c in called(path) if c in ("db.open_store", "db.transaction", "db.upgrade"))
        opens += sorted(n for n in imported(path) if n in ("lawful.cli_common._session", "lawful.db.open_store"))
        if opens:
            offenders[path.name] = opens
    assert not offenders, offenders


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "cli_bad.py"
    bad.write_text("from lawful.trail import audit\nfrom lawful.access.models import User\naudit.append(None)\n")
    assert "lawful.access.models" in imported(bad) and "audit.append" in called(bad)
