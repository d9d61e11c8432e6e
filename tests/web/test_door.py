"""The door itself: authentication on every request, problem+json refusals on the trail, security headers."""

from __future__ import annotations

from tests.conftest import mint_token


def test_health_is_open_and_says_nothing_else(server):
    r = server.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_no_token_is_a_problem_and_on_the_trail(server, people):
    r = server.get("/api/v1/incidents/stats")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 401 and "bearer token" in body["detail"] and body["fix"]
    log = server.get("/api/v1/audit/log", params={"action": "access.deny"}, headers=people("dora", "dpo")).json()
    assert any(e["object"] == "api:/api/v1/incidents/stats" and e["actor"] == "anonymous" for e in log)


def test_a_forged_token_is_refused(server):
    r = server.get("/api/v1/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401 and r.json()["kind"] == "unauthenticated"


def test_me_names_the_token_holder(server, people):
    r = server.get("/api/v1/me", headers=people("ana", "analyst"))
    assert r.status_code == 200 and r.json() == {"name": "ana", "roles": ["analyst"], "clearance": "internal"}


def test_an_analyst_cannot_read_or_export_the_trail(server, people):
    h = people("ana", "analyst")
    r = server.get("/api/v1/audit/log", headers=h)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert server.post("/api/v1/audit/export", headers=h).status_code == 403
    log = server.get("/api/v1/audit/log", params={"action": "access.deny", "by": "ana"},
                     headers=people("dora", "dpo")).json()
    assert {e["object"] for e in log} == {"trail:log", "trail:export"}


def test_every_read_is_on_the_trail(server, people):
    h = people("ana", "analyst")
    assert server.get("/api/v1/incidents/stats", headers=h).status_code == 200
    assert server.get("/api/v1/me", headers=h).status_code == 200
    log = server.get("/api/v1/audit/log", params={"by": "ana"}, headers=people("dora", "dpo")).json()
    assert [e["object"] for e in log][:2] == ["api:/api/v1/me", "incidents:stats"]


def test_the_server_start_records_the_policy_fingerprint(server, people):
    import hashlib

    from lawful.access.decide import DEFAULT_POLICY

    log = server.get("/api/v1/audit/log", params={"object": "server:start"}, headers=people("dora", "dpo")).json()
    assert log and hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest() in log[0]["details"]


def test_the_export_is_a_bundle_that_verifies(server, people, tmp_path):
    import io
    import subprocess
    import sys
    import tarfile

    r = server.post("/api/v1/audit/export", headers=people("aud", "auditor"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/gzip"
    tarfile.open(fileobj=io.BytesIO(r.content)).extractall(tmp_path / "b", filter="data")
    done = subprocess.run([sys.executable, str(tmp_path / "b" / "verify.py")], capture_output=True, text=True)
    assert done.returncode == 0 and "\nOK: " in "\n" + done.stdout, done.stdout + done.stderr


def test_the_server_refuses_to_start_with_files_others_can_read(store):
    import pytest
    from fastapi.testclient import TestClient

    from lawful.errors import ConfigError
    from lawful.web.app import create_app

    mint_token(store, "x")  # creates the key files
    store.audit_key_path.chmod(0o644)  # as a careless copy or a default umask would leave it
    with pytest.raises(ConfigError, match="open to other accounts.*trail-ed25519.pem"):
        with TestClient(create_app(store)):
            pass
