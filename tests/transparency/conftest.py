"""The transparency tests: a store with people and a registered forecaster (tests/governance/conftest.py's Gov),
the server in-process with people who hold real tokens (tests/web/conftest.py), and a browser helper for public
forms (a GET for the form's token, then the POST)."""

from __future__ import annotations

import re

import pytest

from tests.governance.conftest import Gov, gov  # noqa: F401  (fixtures)
from tests.web.conftest import people, server  # noqa: F401  (fixtures)

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def form_token(client, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text[:300]
    return TOKEN.search(r.text).group(1)


def submit(client, path: str, fields: dict, *, form: str | None = None):
    """Fill in the form at `form` (default `path`) and send it, as a browser without JavaScript would."""
    token = form_token(client, form or path)
    return client.post(path, data={"form_token": token, **fields})


def filed(r) -> tuple[str, str]:
    """(reference, code) from the page shown after filing."""
    assert r.status_code == 201, r.text[:500]
    ref = re.search(r'id="reference">([^<]+)<', r.text).group(1)
    code = re.search(r'id="code">([^<]+)<', r.text).group(1)
    return ref, code


@pytest.fixture
def public(server, gov):  # noqa: F811
    """The server, with an active high-tier forecaster in the register (made by `gov`)."""
    return server


@pytest.fixture(autouse=True)
def _evaluation_of_the_cards_model(monkeypatch):
    """The evaluation Gov attaches names the estimator the demo card runs (whatever the card's estimator is now)."""
    import tests.governance.conftest as g

    estimator = g.CARD["model"]["estimator"]
    monkeypatch.setattr(g, "EVALUATION", {**g.EVALUATION, "records": [{**r, "model": estimator}
                                                                      for r in g.EVALUATION["records"]]})
