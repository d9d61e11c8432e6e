"""A case-file amendment is JSON that is finite, shallow and small: NaN/Infinity (which Python's JSON parser takes)
and a 400-deep object are refused with 422 and change nothing; the case stays readable and the suggestion open."""

from __future__ import annotations

import pytest

from tests.casefiles.conftest import cases  # noqa: F401
from tests.casefiles.test_api import API, analysed, server, who  # noqa: F401


def _refused_and_nothing_changed(server, store, r, suggestion):
    assert r.status_code == 422, r.text
    case = server.get(f"{API}/cases/CF-2026-0412", headers=who(store, "pc"))
    assert case.status_code == 200, case.text
    ok = server.post(f"{API}/suggestions/{suggestion['id']}/decision", headers=who(store, "pc"),
                     json={"decision": "amended", "reason": "fix", "amendment": {"colour": "red"}})
    assert ok.status_code == 200, ok.text  # still open: the refused decision was not recorded


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amendment_is_refused(store, cases, server, constant):
    s = analysed(server, store)[0]
    body = '{"decision": "amended", "reason": "fix", "amendment": {"colour": %s}}' % constant
    r = server.post(f"{API}/suggestions/{s['id']}/decision", content=body,
                    headers={**who(store, "pc"), "Content-Type": "application/json"})
    assert "not a finite number" in r.text
    _refused_and_nothing_changed(server, store, r, s)


def test_a_deeply_nested_or_huge_amendment_is_refused(store, cases, server):
    s = analysed(server, store)[0]
    deep: dict = {}
    for _ in range(400):
        deep = {"a": deep}
    r = server.post(f"{API}/suggestions/{s['id']}/decision", headers=who(store, "pc"),
                    json={"decision": "amended", "reason": "fix", "amendment": deep})
    assert "nested deeper" in r.text
    huge = server.post(f"{API}/suggestions/{s['id']}/decision", headers=who(store, "pc"),
                       json={"decision": "amended", "reason": "fix", "amendment": {"text": "x" * 70_000}})
    assert huge.status_code == 422 and "at most 65,536" in huge.text
    _refused_and_nothing_changed(server, store, r, s)
