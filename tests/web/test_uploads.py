"""Uploads: whatever the client calls its file, it cannot take the mapping's place or leave the staging folder;
the upload limit is a setting the server checks when it starts."""

from __future__ import annotations

import time

import pytest

from tests.conftest import GOOD_ROWS, HEADER, TEST_MAPPING

CSV = ("\n".join([HEADER, *GOOD_ROWS]) + "\n").encode()
MAPPING = TEST_MAPPING.replace('crs = "EPSG:4326"', 'crs = "EPSG:4326"\nformat = "csv"')  # any name is read as CSV


def load(server, headers, name: str) -> dict:
    r = server.post("/api/v1/incidents/loads", headers=headers,
                    files={"file": (name, CSV), "mapping": ("m.toml", MAPPING.encode())})
    assert r.status_code == 202, r.text
    for _ in range(400):
        job = server.get(f"/api/v1/jobs/{r.json()['id']}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.02)
    raise AssertionError(job)


@pytest.mark.parametrize("name", ["mapping.toml", "../../keys/trail-ed25519.pem", ".hidden.csv", "data"])
def test_a_files_name_never_replaces_the_mapping_or_escapes(server, people, store, name):
    job = load(server, people("ana", "analyst"), name)
    assert job["state"] == "done", job["error"]
    assert job["result"]["inserted"] == 3 and "/" not in job["result"]["file"]
    assert not any((store.data_dir / "uploads").iterdir())  # the staging folder is gone
    assert store.audit_key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY")


@pytest.mark.parametrize("value", ["nan", "-1", "0", "1e9", "two gigs", "99999999"])
def test_a_bad_upload_limit_stops_the_server_at_start(store, monkeypatch, value):
    from fastapi.testclient import TestClient

    from lawful.errors import ConfigError
    from lawful.web.app import create_app
    from tests.conftest import make_private

    make_private(store)
    monkeypatch.setenv("LAWFUL_MAX_UPLOAD_MB", value)
    with pytest.raises(ConfigError, match="LAWFUL_MAX_UPLOAD_MB"):
        with TestClient(create_app(store)):
            pass


def test_an_uploads_errors_and_load_record_never_show_the_servers_staging_path(server, people, store):
    ana = people("ana", "analyst")
    wrong = MAPPING.replace('offence', 'crime_type')  # names a column the file lacks
    r = server.post("/api/v1/incidents/loads", headers=ana,
                    files={"file": ("x.csv", CSV), "mapping": ("m.toml", wrong.encode())})
    assert r.status_code == 202, r.text
    for _ in range(400):
        job = server.get(f"/api/v1/jobs/{r.json()['id']}", headers=ana).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.02)
    assert job["state"] == "failed" and "the uploaded mapping" in job["error"]["detail"], job
    assert str(store.data_dir) not in job["error"]["detail"] and "uploads" not in job["error"]["detail"]
    bad_toml = server.post("/api/v1/incidents/loads", headers=ana,
                           files={"file": ("x.csv", CSV), "mapping": ("m.toml", b"[source\n")})
    for _ in range(400):
        job = server.get(f"/api/v1/jobs/{bad_toml.json()['id']}", headers=ana).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.02)
    assert job["state"] == "failed" and str(store.data_dir) not in str(job["error"]), job
