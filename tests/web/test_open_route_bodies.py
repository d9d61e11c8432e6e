"""The routes anyone may call before signing in read at most 16 KB: an unauthenticated client cannot make the
server read and parse a 64 MB JSON body (the general limit) just to be told 401."""

from __future__ import annotations

import pytest

from tests.web.conftest import server  # noqa: F401


@pytest.mark.parametrize("path", ["/api/v1/session", "/api/v1/enrolment", "/console/sign-in"])
def test_open_routes_refuse_a_large_body_before_reading_it(server, path):
    body = b'{"name":"x","password":"y","pad":"' + b"a" * (64 * 2**10) + b'"}'
    r = server.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "16 KB" in r.text, r.text


def test_sign_in_refuses_unknown_fields(server):
    r = server.post("/api/v1/session", json={"name": "x", "password": "y", "pad": [0] * 10})
    assert r.status_code == 422 and "pad" in r.text, r.text
