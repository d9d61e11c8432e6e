"""`lawful audit verify --public-key` checks an export with the code installed on the auditor's machine: a server (or
anyone between) that sends a doctored verify.py neither decides the answer nor runs code there."""

from __future__ import annotations

import io
import shutil
import tarfile

import pytest
import typer

from lawful import cli_governance
from tests.governance.test_trail import append_entries
from tests.trail.helpers import export_bundle


def _tar(directory) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(directory.iterdir()):
            tar.add(p, arcname=p.name)
    return buf.getvalue()


class _Server:
    def __init__(self, bundle: bytes):
        self.bundle = bundle

    def request(self, method, path):
        assert (method, path) == ("POST", "/audit/export")
        return type("Answer", (), {"content": self.bundle})()


def test_a_doctored_verifier_from_the_server_is_not_run(store, tmp_path, monkeypatch, capsys):
    append_entries(store, 3)
    bundle = export_bundle(store, tmp_path / "bundle")
    marker = tmp_path / "ran"
    evil = f"open({str(marker)!r}, 'w').write('x')\nprint('OK: 999 entries')\n"
    (bundle / "verify.py").write_text(evil)
    (bundle / "lawful_chain.py").write_text(evil)
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    monkeypatch.setattr(cli_governance, "_api", lambda: _Server(_tar(bundle)))

    cli_governance._verify_here(original, None)  # the real check, with the code installed here: the trail is sound
    out = capsys.readouterr().out
    assert out.startswith("key: ") and "OK: 3 entries" in out and "OK: 999" not in out  # (a random key can hold the digits 999)
    assert not marker.exists()


def test_a_doctored_export_is_named_even_when_its_verifier_says_ok(store, tmp_path, monkeypatch, capsys):
    append_entries(store, 3)
    bundle = export_bundle(store, tmp_path / "bundle")
    entries = (bundle / "entries.jsonl").read_text().splitlines()
    (bundle / "entries.jsonl").write_text("\n".join(entries[:-1]).replace("incident:1", "incident:9") + "\n")
    (bundle / "verify.py").write_text("print('OK: 3 entries')\n")
    original = tmp_path / "ORIGINAL.pub"
    shutil.copy(store.audit_key_path.with_suffix(".pub"), original)
    monkeypatch.setattr(cli_governance, "_api", lambda: _Server(_tar(bundle)))
    with pytest.raises(typer.Exit):
        cli_governance._verify_here(original, None)
    assert "OK" not in capsys.readouterr().out.splitlines()[-1]
