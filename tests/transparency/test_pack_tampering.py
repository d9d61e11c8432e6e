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
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(tmp_path)
    key = tmp_path / "key.pem"
    key.write_bytes(public.get(f"{P}/trail/public-key.pem").content)
    (tmp_path / "heads.jsonl").write_bytes(public.get(f"{P}/trail/heads.jsonl").content)
    return tmp_path / f"lawful-audit-pack-{year}", key


def _check(root, key, heads=None):
    heads = heads or key.parent / "heads.jsonl"  # the register's, fetched with the key
    return subprocess.run([sys.executable, "check_pack.py", "--public-key", str(key), "--witness", str(heads)],
                          cwd=root, capture_output=True, text=True)


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


def test_a_pack_made_after_a_key_change_checks_with_the_published_key(public, gov, people, tmp_path, capsys, store):
    """The register publishes the key the trail was started with; after `lawful admin rotate-key` the pack is signed
    by the new key, which check_pack.py reaches from the published one through the trail's own hand-over (the
    trail.key entry, vouched for by a checkpoint of the key it replaces). A pack signed by a key the trail was
    never handed to still fails."""
    from lawful.trail import keys
    from tests.conftest import run_cli

    gov.active()
    code, out, err = run_cli(["admin", "rotate-key"], capsys)
    assert code == 0, err
    new_kid = out.split("is now ")[1].split()[0]
    root, key = _pack(public, people, tmp_path)
    assert new_kid not in key.read_text() and keys.public_pem(keys.trust_anchor(store)) == key.read_bytes()
    done = _check(root, key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"key {new_kid}, handed over from the key given" in done.stdout and "OK:" in done.stdout
    # the rotation entry doctored to hand over to another key: the chain check names it, and the pack fails
    import json

    entries = (root / "trail" / "entries.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(entries) if json.loads(line)["action"] == "trail.key")
    forged = json.loads(entries[i])
    forged["details"] = forged["details"].replace(new_kid, "0" * 16)
    entries[i] = json.dumps(forged)
    (root / "trail" / "entries.jsonl").write_text("\n".join(entries) + "\n")
    done = _check(root, key)
    assert done.returncode == 1 and "OK:" not in done.stdout


def test_a_key_the_trail_was_handed_away_from_signs_no_pack(public, gov, people, tmp_path, capsys, store):
    """Someone holding the first key after a rotation (why one rotates) cuts the trail before the hand-over, signs a
    new end and the pack with that key, and doctors complaints.json: the register's heads, fetched apart from the
    pack and required by check_pack.py, name it. A genuine pack still passes after the trail has grown."""
    import hashlib
    import json

    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from lawful.trail import chain
    from tests.conftest import run_cli

    gov.active()
    old = load_pem_private_key(store.audit_key_path.read_bytes(), None)
    assert run_cli(["admin", "rotate-key"], capsys)[0] == 0
    root, key = _pack(public, people, tmp_path)
    for _ in range(3):  # the trail goes on after the pack was made
        assert public.get(f"{API}/complaints", headers=people("dora", "dpo")).status_code == 200
    (tmp_path / "heads.jsonl").write_bytes(public.get(f"{P}/trail/heads.jsonl").content)
    assert _check(root, key).returncode == 0
    trail = root / "trail"
    entries = [json.loads(x) for x in (trail / "entries.jsonl").read_text().splitlines()]
    r = next(e["seq"] for e in entries if e["action"] == "trail.key")
    kept = [e for e in entries if e["seq"] < r]
    (trail / "entries.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept))
    last = kept[-1]
    cps = [c for c in map(json.loads, (trail / "checkpoints.jsonl").read_text().splitlines()) if c["seq"] < r]
    cps.append({"seq": last["seq"], "hash": last["hash"], "at_us": last["at_us"],
                "key_id": chain.key_id(old.public_key()),
                "signature": chain.sign_checkpoint(old, last["seq"], last["hash"], last["at_us"])})
    (trail / "checkpoints.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cps))
    (trail / "heads.jsonl").write_text("")
    (root / "complaints.json").write_text('[{"reference": "LC-2026-FORGED", "outcome": "upheld"}]\n')
    manifest = json.loads((root / "MANIFEST.json").read_text())
    for name in manifest["files"]:
        data = (root / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    body = (json.dumps(manifest, indent=2) + "\n").encode()
    (root / "MANIFEST.json").write_bytes(body)
    sig = json.loads((root / "MANIFEST.sig.json").read_text())
    sig["signature"] = old.sign(f"lawful-document-v1\n{sig['label']}\n{hashlib.sha256(body).hexdigest()}"
                                .encode()).hex()
    (root / "MANIFEST.sig.json").write_text(json.dumps(sig))
    done = _check(root, key)
    assert done.returncode == 1 and "OK:" not in done.stdout
    assert "the register's newest head" in done.stdout and "is not signed by the key that signed this pack" in done.stdout


def test_an_empty_or_unreadable_witness_is_no_witness(public, gov, people, tmp_path):
    """The register's heads are what names a pack signed with a retired key: a file holding none, or not heads at
    all, fails the check instead of skipping it."""
    gov.active()
    root, key = _pack(public, people, tmp_path)
    empty, junk = tmp_path / "empty.jsonl", tmp_path / "junk.jsonl"
    empty.write_text("\n")
    junk.write_text('{"seq": "x"}\n')
    done = _check(root, key, empty)
    assert done.returncode == 1 and "holds no published head" in done.stdout
    done = _check(root, key, junk)
    assert done.returncode == 1 and "cannot be read" in done.stdout and "line 1" in done.stdout
