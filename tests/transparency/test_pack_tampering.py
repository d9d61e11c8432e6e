"""The annual audit pack's offline checker names every file added to the pack, whatever its name or folder, and a
module planted next to it (hashlib.py) cannot run before the checks: it leaves the import path first."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import datetime, timezone

from tests.governance.conftest import Gov, gov  # noqa: F401
from tests.transparency.conftest import public  # noqa: F401
from tests.web.conftest import people, server  # noqa: F401

P, API = "/public", "/api/v1"


def _pack(public, people, tmp_path):
    year = datetime.now(timezone.utc).year
    r = public.post(f"{API}/audit-pack", params={"year": year}, headers=people("aud", "auditor"))
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
    key = tmp_path / "key.pem"
    key.write_bytes(public.get(f"{P}/trail/public-key.pem").content)
    return tmp_path / f"lawful-audit-pack-{year}", key


def _check(root, key):
    return subprocess.run([sys.executable, "check_pack.py", "--public-key", str(key)], cwd=root, capture_output=True,
                          text=True)


def test_files_added_anywhere_are_named(public, gov, people, tmp_path):
    gov.active()
    root, key = _pack(public, people, tmp_path)
    assert _check(root, key).returncode == 0  # as received
    (root / "models" / "MANIFEST.json").write_text('{"note": "an approval that never happened"}')
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "complaints-extra.json").write_text("[]")
    done = _check(root, key)
    assert done.returncode == 1
    assert "models/MANIFEST.json: not listed" in done.stdout and "__pycache__/complaints-extra.json" in done.stdout


def test_a_module_planted_beside_the_checker_does_not_run(public, gov, people, tmp_path):
    gov.active()
    root, key = _pack(public, people, tmp_path)
    (root / "complaints.json").write_text('[{"reference": "LC-FORGED"}]\n')  # doctored
    (root / "hashlib.py").write_text("print('OK: all good')\nraise SystemExit(0)\n")
    done = _check(root, key)
    assert done.returncode == 1 and "complaints.json: changed since the pack was signed" in done.stdout
    assert "hashlib.py: not listed" in done.stdout and "OK: all good" not in done.stdout
