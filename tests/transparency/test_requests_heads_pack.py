"""Subject requests from the public form (identity checked by the agency, through the hook), the published trail
heads (a later export verifies against them, and a cut one does not), and the signed annual audit pack, checked
offline with its own check_pack.py."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from datetime import datetime, timezone

from lawful.governance import registry
from lawful.privacy.requests import get_all
from tests.transparency.conftest import filed, submit
from tests.transparency.test_pack_tampering import _check, _pack

P, API = "/public", "/api/v1"


def test_a_public_subject_request_is_an_ordinary_request_tracked_with_a_reference(public, gov, people, store):
    r = submit(public, f"{P}/requests", {"kind": "access", "field": "victim_name", "value": "Jane Roe",
                                         "evidence": "I can show my passport at the front desk"})
    ref, code = filed(r)
    assert ref.startswith("LR-") and "Identity check: pending" in r.text
    with gov.tx() as s:
        [req] = get_all(s)
        assert req.opened_by == "public" and req.pseudonym.startswith("psn:") and ref in req.note
        assert "Jane" not in req.pseudonym and "passport" not in req.note  # evidence goes to the hook, not the store
    page = submit(public, f"{P}/track", {"reference": ref, "code": code}, form=f"{P}/track")
    assert page.status_code == 200 and "Status: <strong id=\"status\">open" in page.text
    dpo = people("dora", "dpo")
    [listed] = public.get(f"{API}/public-requests", headers=dpo).json()
    assert listed["reference"] == ref and listed["identity"] == "pending"
    # not answered while nobody has checked who asked: whoever typed a name must not receive that person's records
    early = public.post(f"{API}/privacy/requests/{req.id}/export", headers=dpo)
    assert early.status_code == 409 and "not verified" in early.json()["detail"] and ref in early.json()["detail"]
    r = public.post(f"{API}/public-requests/{ref}/identity", headers=dpo,
                    json={"state": "verified", "note": "passport seen at the front desk on 1 December"})
    assert r.status_code == 200 and r.json()["identity"] == "verified"
    assert public.post(f"{API}/privacy/requests/{req.id}/export", headers=dpo).status_code == 200
    page = submit(public, f"{P}/track", {"reference": ref, "code": code}, form=f"{P}/track")
    assert "answered" in page.text and "no records about you were found" in page.text
    assert submit(public, f"{P}/track", {"reference": ref, "code": "WRONG-CODE"},
                  form=f"{P}/track").status_code == 404


def test_the_identity_hook_is_the_agencys(public, monkeypatch):
    monkeypatch.setenv("LAWFUL_IDENTITY_HOOK", "tests.transparency.test_requests_heads_pack:desk_check")
    r = submit(public, f"{P}/requests", {"kind": "deletion", "field": "victim_name", "value": "Jane Roe",
                                         "evidence": "eID of Jane Roe"})
    filed(r)
    assert "Identity check: verified. checked by the eID service" in r.text


def desk_check(kind: str, evidence: str, *, field: str, value: str) -> tuple[str, str]:
    """An eID service that answers whether the evidence names this very person (value)."""
    return ("verified", "checked by the eID service") if evidence == f"eID of {value}" else ("pending", "")


def old_style_check(kind: str, evidence: str) -> tuple[str, str]:
    return ("verified", "checked by the eID service") if evidence.startswith("eID") else ("pending", "")


def test_a_hook_not_told_whose_records_never_verifies_alone(public, monkeypatch):
    """Someone shows their own eID and types another person's name: a hook that cannot see the name is not trusted
    with 'verified'."""
    monkeypatch.setenv("LAWFUL_IDENTITY_HOOK", "tests.transparency.test_requests_heads_pack:old_style_check")
    r = submit(public, f"{P}/requests", {"kind": "deletion", "field": "victim_name", "value": "Jane Roe",
                                         "evidence": "eID 1234 (Mallory's own)"})
    filed(r)
    assert "Identity check: pending" in r.text
    monkeypatch.setenv("LAWFUL_IDENTITY_HOOK", "tests.transparency.test_requests_heads_pack:desk_check")
    r = submit(public, f"{P}/requests", {"kind": "deletion", "field": "victim_name", "value": "Jane Roe",
                                         "evidence": "eID of Mallory"})
    filed(r)
    assert "Identity check: pending" in r.text  # the eID does not name Jane Roe


def test_a_later_export_extends_the_published_heads_and_a_cut_trail_does_not(public, gov, people, tmp_path):
    ref = gov.active()
    heads = public.get(f"{P}/trail/heads.jsonl").text
    key = public.get(f"{P}/trail/public-key.pem").content
    page = public.get(f"{P}/trail").text
    latest = json.loads(heads.splitlines()[-1])
    assert f'id="head-seq">{latest["seq"]}<' in page and latest["hash"] in page
    (tmp_path / "heads.jsonl").write_text(heads)
    (tmp_path / "key.pem").write_bytes(key)
    gov.step(registry.suspend, ref, "dpo", reason="more history after the heads were published")
    export = tmp_path / "export"
    data = public.post(f"{API}/audit/export", headers=people("aud", "auditor")).content
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(export, filter="data")
    ok = subprocess.run([sys.executable, "verify.py", "--public-key", str(tmp_path / "key.pem"), "--witness",
                         str(tmp_path / "heads.jsonl")], cwd=export, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1].startswith("OK"), ok.stdout
    lines = (export / "entries.jsonl").read_text().splitlines()
    cut = [json.loads(x) for x in lines if json.loads(x)["seq"] < latest["seq"]]
    (export / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in cut))
    (export / "checkpoints.jsonl").write_text("".join(
        x + "\n" for x in (export / "checkpoints.jsonl").read_text().splitlines()
        if json.loads(x)["seq"] < latest["seq"]))
    bad = subprocess.run([sys.executable, "verify.py", "--public-key", str(tmp_path / "key.pem"), "--witness",
                          str(tmp_path / "heads.jsonl")], cwd=export, capture_output=True, text=True)
    assert bad.returncode == 1 and "OK" not in bad.stdout, bad.stdout


def test_the_audit_pack_is_signed_and_checks_offline(public, gov, people, tmp_path):
    ref = gov.active()
    submit(public, f"{P}/complaints", {"kind": "complaint", "system": "toronto-bne-forecaster",
                                       "what": "Patrols in my street every night since October."})
    root, key = _pack(public, people, tmp_path)
    names = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert {"register/register-at-year-end.json", "models/approvals.json", "monitoring/figures-now.json",
            "serious-incidents.json", "complaints.json", "subject-requests.json", "breaches.json",
            "trail/entries.jsonl", "trail/verify.py", "trail/verification.json", "trail/heads.jsonl",
            "MANIFEST.json", "MANIFEST.sig.json", "check_pack.py", f"models/{ref.replace(':1', '-v1')}.md"} <= names
    assert json.loads((root / "trail/verification.json").read_text())["ok"] is True
    assert len(json.loads((root / "complaints.json").read_text())) == 1
    ok = _check(root, key)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "signature: OK" in ok.stdout and ok.stdout.strip().splitlines()[-1].startswith("OK")
    (root / "complaints.json").write_text("[]\n")  # a complaint removed after the pack was signed
    bad = _check(root, key)
    assert bad.returncode == 1 and "complaints.json: changed since the pack was signed" in bad.stdout
    unwitnessed = subprocess.run([sys.executable, "check_pack.py", "--public-key", str(key)], cwd=root,
                                 capture_output=True, text=True)
    assert unwitnessed.returncode == 2 and "--witness" in unwitnessed.stderr  # the register's heads are required
    assert public.post(f"{API}/audit-pack", params={"year": datetime.now(timezone.utc).year},
                       headers=people("ana", "analyst")).status_code == 403
