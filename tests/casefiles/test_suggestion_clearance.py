"""A case-file suggestion quotes the case's statements, so the review API is as closed as the case: an officer
cleared below the case (refused the case itself) neither lists nor reads its suggestions, nor puts one into the case
file; an officer cleared for it still does all three."""

from __future__ import annotations

from tests.casefiles.conftest import cases  # noqa: F401
from tests.casefiles.test_api import API, analysed, server, who  # noqa: F401
from tests.conftest import mint_token


def test_an_officer_cleared_below_the_case_cannot_reach_its_suggestions(store, cases, server):
    issued = analysed(server, store)
    low = {"Authorization": f"Bearer {mint_token(store, 'pc-low', ('officer',), 'internal')}"}
    assert server.get(f"{API}/cases/CF-2026-0412", headers=low).status_code == 403
    listed = server.get("/api/v1/review/outputs", headers=low)
    assert listed.status_code == 200 and not [o for o in listed.json() if o.get("kind") == "casefile"], listed.text
    assert server.get(f"/api/v1/review/outputs/{issued[0]['id']}", headers=low).status_code == 403
    r = server.post(f"/api/v1/review/outputs/{issued[0]['id']}/decision", headers=low,
                    json={"decision": "accepted", "reason": "looks right"})
    assert r.status_code == 403, r.text


def test_an_officer_cleared_for_the_case_still_reviews_it(store, cases, server):
    issued = analysed(server, store)
    pc = who(store, "pc")
    listed = server.get("/api/v1/review/outputs", headers=pc).json()
    assert {o["output"] for o in listed} >= {s["id"] for s in issued}
    assert server.get(f"/api/v1/review/outputs/{issued[0]['id']}", headers=pc).status_code == 200
    r = server.post(f"/api/v1/review/outputs/{issued[0]['id']}/decision", headers=pc,
                    json={"decision": "accepted", "reason": "looks right"})
    assert r.status_code == 200, r.text
