"""Loads are made by a signed-in analyst: every test that has a store also has a token for `loader`."""

from __future__ import annotations

import pytest

from tests.conftest import mint_token


@pytest.fixture(autouse=True)
def _loader(request, monkeypatch):
    if "store" in request.fixturenames:
        settings = request.getfixturevalue("store")
        monkeypatch.setenv("LAWFUL_TOKEN", mint_token(settings, "loader", ("analyst",), "internal"))
