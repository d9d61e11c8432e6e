"""In the style of sqlite-utils' tests/test_docs.py: every command teaches (it has help), every command appears in
the documentation, and every hint that names a `lawful ...` command names one that exists."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from lawful.cli import app

ROOT = Path(__file__).resolve().parents[1]
HINT = re.compile(r"`lawful((?: [a-z][a-z-]*)+)")


def is_group(cmd) -> bool:
    return hasattr(cmd, "commands")  # typer ships its own click; a group is what has subcommands


def commands() -> dict:
    root = typer.main.get_command(app)
    found: dict = {}

    def walk(cmd, path: tuple[str, ...]) -> None:
        if getattr(cmd, "hidden", False):
            return
        found[" ".join(path)] = cmd
        if is_group(cmd):
            for name, sub in cmd.commands.items():
                walk(sub, path + (name,))

    walk(root, ())
    return found


def test_every_command_has_help():
    missing = [path for path, cmd in commands().items() if path and not (cmd.help or "").strip()]
    assert not missing, missing


def test_every_command_is_documented():
    text = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    leaves = [p for p, c in commands().items() if p and not is_group(c)]
    missing = [p for p in leaves if f"lawful {p}" not in text]
    assert not missing, missing


def _exists(words: list[str], known: dict) -> bool:
    """The first word must be a command; while the path is a group, the next word must be one of its commands."""
    path = []
    for w in words:
        here = " ".join(path)
        cmd = known.get(here)
        if path and not is_group(cmd):
            return True  # the rest are arguments
        if " ".join([*path, w]) not in known:
            return False
        path.append(w)
    return True


def hints() -> list[tuple[str, str]]:
    found = []
    for path in [*(ROOT / "src" / "lawful").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for m in HINT.finditer(path.read_text()):
            found.append((path.name, m.group(1).split()))
    return found


def test_every_hint_names_a_command_that_exists():
    known = commands()
    wrong = sorted({f"{where}: lawful {' '.join(words)}" for where, words in hints() if not _exists(words, known)})
    assert not wrong, wrong


def test_the_hint_check_can_fail():
    known = commands()
    assert not _exists(["frobnicate"], known) and not _exists(["users", "frobnicate"], known)
    assert _exists(["models", "approve", "NAME"], known)  # words after a command are its arguments
