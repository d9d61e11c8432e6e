"""The public rate limit counts the real client address: a client that sends X-Forwarded-For (itself, or through a
proxy that passes the header on) does not get a fresh address per request. Runs the real server as `lawful serve`
and the demo run it."""

from __future__ import annotations

import re

import httpx

from lawful import db
from lawful.demo import serving
from lawful.server_files import make_private
from lawful.settings import Settings

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def test_a_forged_forwarded_for_header_does_not_reset_the_public_rate_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAWFUL_PUBLIC_POSTS", "3/3600")
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    make_private(settings)
    db.upgrade(settings)
    with serving(settings) as base, httpx.Client(base_url=base) as c:
        def post(forwarded: str) -> int:
            token = TOKEN.search(c.get("/public/complaints").text).group(1)
            return c.post("/public/complaints", headers={"X-Forwarded-For": forwarded},
                          data={"form_token": token, "kind": "complaint", "system": "", "decision": "",
                                "what": "spam spam spam spam", "occurred_on": "", "contact": ""}).status_code
        assert [post(f"203.0.113.{i}") for i in range(5)] == [201, 201, 201, 429, 429]


def test_serve_believes_the_header_only_from_a_named_proxy(monkeypatch):
    from typer.testing import CliRunner

    from lawful import cli_admin

    seen = {}
    monkeypatch.setattr(cli_admin, "operator_settings", lambda: Settings.from_env())
    monkeypatch.setattr("lawful.web.app.open_door", lambda *a, **k: type("Door", (), {"policy_sha256": "0" * 64})())
    monkeypatch.setattr("lawful.web.app.create_app", lambda *a, **k: None)
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.update(kw))
    app = __import__("typer").Typer()
    app.command()(cli_admin.serve)
    assert CliRunner().invoke(app, []).exit_code == 0
    assert seen["proxy_headers"] is False
    assert CliRunner().invoke(app, ["--trusted-proxy", "10.0.0.5"]).exit_code == 0
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.5"
