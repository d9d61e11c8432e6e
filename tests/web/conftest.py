"""The server in-process (Starlette's TestClient speaks real HTTP semantics to the ASGI app), with people who
hold real tokens: there is no asserted identity anywhere."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_private, mint_token


@pytest.fixture
def server(store):
    """A started server over the test store (its private files made private first, as `lawful admin` does)."""
    from lawful.web.app import create_app

    make_private(store)
    with TestClient(create_app(store)) as client:
        yield client


@pytest.fixture
def people(store):
    """name -> bearer headers, for users created on demand with the given roles and clearance."""
    made: dict[str, dict] = {}

    def person(name: str, *roles: str, clearance: str = "internal") -> dict:
        if name not in made:
            made[name] = {"Authorization": f"Bearer {mint_token(store, name, roles or ('analyst',), clearance)}"}
        return made[name]

    return person
