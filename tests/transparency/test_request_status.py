"""The public request page tells the person what happened: a request refused because their identity could not be
checked says "refused", never "answered"; and a closed request's identity cannot be changed afterwards (it said
"answered" when the DPO marked a refused request verified, though nothing could be answered)."""

from __future__ import annotations

from tests.governance.conftest import Gov, gov  # noqa: F401
from tests.transparency.conftest import filed, public, submit  # noqa: F401
from tests.web.conftest import people, server  # noqa: F401

P, API = "/public", "/api/v1"


def test_a_refused_request_says_refused_and_its_identity_stays_decided(public, people):
    r = submit(public, f"{P}/requests", {"kind": "access", "field": "victim_name", "value": "Jane Roe"})
    ref, code = filed(r)
    dpo = people("dora", "dpo")
    assert public.post(f"{API}/public-requests/{ref}/identity", headers=dpo,
                       json={"state": "refused", "note": "no document"}).status_code == 200
    again = public.post(f"{API}/public-requests/{ref}/identity", headers=dpo,
                        json={"state": "verified", "note": "passport seen after all"})
    assert again.status_code == 409 and "files a new request" in again.text
    page = submit(public, f"{P}/track", {"reference": ref, "code": code}, form=f"{P}/track")
    assert 'id="status">refused' in page.text and "answered" not in page.text.split('id="status">')[1][:40]
