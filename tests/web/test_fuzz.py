"""Property-based fuzzing of every endpoint from the OpenAPI description (schemathesis): whatever a client sends,
the server never answers with a server error, and its answers conform to what it declares."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from lawful import db  # noqa: E402
from lawful.settings import Settings  # noqa: E402
from tests.conftest import make_private, mint_token  # noqa: E402

ALL_ROLES = ("admin", "analyst", "supervisor", "officer", "model-owner", "approver", "dpo", "auditor")
TOKEN: dict[str, str] = {}


@pytest.fixture
def api(tmp_path, monkeypatch):
    """The API over a fresh SQLite store, with a token for someone holding every role (so requests reach the
    services instead of stopping at the door)."""
    from lawful.web.app import create_app, open_door

    monkeypatch.setenv("LAWFUL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    db.upgrade(settings)
    TOKEN["everyone"] = mint_token(settings, "fuzzer", ALL_ROLES, "secret")
    make_private(settings)
    door = open_door(settings)
    app = create_app(settings, door=door)
    app.state.door = door  # schemathesis calls the app without running its lifespan
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    door.jobs.shutdown()
    door.store.dispose()
    from lawful.access.decide import pin_policy

    pin_policy(None)


def test_no_input_makes_a_server_error(api):
    """Every operation, eight generated requests each (derandomised: the same cases every run)."""
    from hypothesis import given

    failures, operations = [], 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        if (operation.method.upper(), operation.path) in (("DELETE", "/api/v1/session"),
                                                          ("DELETE", "/api/v1/tokens/{token_id}")):
            continue  # signing out (or revoking token 1) would end the fuzzer's own token; tested in test_door/users

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call(headers={"Authorization": f"Bearer {TOKEN['everyone']}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]}: "
                                f"{response.status_code} {response.text[:300]}")

        fuzz()
    assert operations >= 20  # the description covers the API, not a corner of it
    assert not failures, "\n".join(failures[:20])
