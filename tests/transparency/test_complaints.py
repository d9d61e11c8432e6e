"""Complaints and appeals: filed through the public form (no sign-in, form token, rate limit, size limit), followed
with the reference and the code (only the code's hash is stored), handled inside by the DPO (queue, assignment,
deadline and overdue flag, links, outcome with reasons, upheld -> the model suspended), every step on the trail."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from lawful import db
from lawful.transparency.models import Complaint
from tests.conftest import store_fingerprint
from tests.transparency.conftest import filed, form_token, submit

P, API = "/public", "/api/v1"
STORY = "I was stopped twice in a week near my home, each time after the area was flagged."


def complain(client, **fields):
    base = {"kind": "complaint", "system": "toronto-bne-forecaster", "what": STORY, "decision": "",
            "occurred_on": "2026-11-02", "contact": "Jane Roe, jane@example.org"}
    return submit(client, f"{P}/complaints", {**base, **fields})


def track(client, ref, code, **extra):
    return submit(client, f"{P}/track", {"reference": ref, "code": code, **extra}, form=f"{P}/track")


def rows(store):
    engine = db.open_store(store)
    try:
        with db.transaction(engine, readonly=True) as s:
            return [(c.reference, c.code_hash, c.contact_pseudonym, c.what) for c in s.scalars(select(Complaint))]
    finally:
        engine.dispose()


def trail(server, dpo, obj):
    r = server.get(f"{API}/audit/log", params={"object": obj, "limit": 100}, headers=dpo)
    return [(e["actor"], e["action"], json.loads(e["details"]).get("step")) for e in reversed(r.json())]


def test_a_person_files_a_complaint_and_follows_it_with_reference_and_code(public, gov, store, people):
    gov.active()
    ref, code = filed(complain(public))
    assert ref.startswith("LC-") and len(code) == 19
    [(stored_ref, code_hash, contact, what)] = rows(store)
    assert stored_ref == ref and code not in code_hash and len(code_hash) == 64  # only the hash is kept
    assert contact.startswith("psn:") and "Jane" not in contact  # the contact as a pseudonym, never readable
    page = track(public, ref.lower(), code.replace("-", " "))  # case, dashes and spaces do not matter
    assert page.status_code == 200 and "received, waiting to be assigned" in page.text and STORY in page.text
    added = track(public, ref, code, add="1", information="The second stop was on 4 November at 22:10.")
    assert "Your information was added" in added.text and "22:10" in added.text
    dpo = people("dora", "dpo")
    steps = trail(public, dpo, f"complaint:{ref}")
    assert steps == [("public", "collection", "filed"), ("public", "consultation", "tracked"),
                     ("public", "collection", "information added")]
    assert "jane" not in json.dumps(steps).lower()


def test_a_wrong_code_shows_nothing_and_is_on_the_trail(public, gov, people, store):
    gov.active()
    ref, code = filed(complain(public))
    for reference, guess in ((ref, "AAAA-BBBB-CCCC-DDDD"), ("LC-2026-NOSUCH", code)):
        r = track(public, reference, guess)
        assert r.status_code == 404 and "no complaint matches that reference and code" in r.text
        assert STORY not in r.text
    denied = trail(public, people("dora", "dpo"), f"complaint:{ref}")
    assert ("public", "access.deny", "tracking refused") in denied


def test_bad_input_is_named_on_the_form_and_changes_nothing(public, gov, store):
    gov.active()
    before = store_fingerprint(store)
    for fields, words in (({"what": "short"}, "at least 10 characters"),
                          ({"system": "no-such-system"}, "is not in the register"),
                          ({"kind": "appeal"}, "an appeal names the decision it appeals"),
                          ({"occurred_on": "2999-01-01"}, "is in the future")):
        r = complain(public, **fields)
        assert r.status_code == 422 and words in r.text, (fields, r.text[:300])
        assert 'value="' in r.text  # the form comes back with what the person wrote
    r = public.post(f"{P}/complaints", data={"kind": "complaint", "what": STORY})  # no form token: not our page
    assert r.status_code == 422 and "did not come from this site" in r.text
    token = form_token(public, f"{P}/complaints")
    public.post(f"{P}/complaints", data={"form_token": token, "kind": "complaint", "what": STORY})
    again = public.post(f"{P}/complaints", data={"form_token": token, "kind": "complaint", "what": STORY})
    assert "was sent already" in again.text  # a form token is used once
    assert len(rows(store)) == 1


def test_public_posts_are_rate_limited_and_size_limited(public, gov, monkeypatch):
    gov.active()
    for path in ("/complaints", "/track", "/requests"):  # every public POST
        big = public.post(f"{P}{path}", content=b"what=" + b"x" * 40_000,
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert big.status_code == 413 and "more than 32 KB" in big.text, path
        chunked = public.post(f"{P}{path}", content=iter([b"what=", b"x" * 20_000, b"x" * 20_000]),
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert chunked.status_code == 413, path  # no declared length: counted as it streams in
    monkeypatch.setenv("LAWFUL_PUBLIC_POSTS", "3/3600")
    public.app.state.public_limiter.reset()
    answers = [track(public, "LC-2026-AAAAAA", "AAAA-AAAA-AAAA-AAAA").status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    assert "too many submissions" in track(public, "LC-2026-AAAAAA", "x").text
    assert complain(public).status_code == 429  # one count per address, whichever form


def test_the_dpo_handles_it_and_an_upheld_complaint_suspends_the_model(public, gov, people, store):
    ref_model = gov.active()
    ref, code = filed(complain(public))
    dpo = people("dora", "dpo")
    queue = public.get(f"{API}/complaints", headers=dpo).json()
    assert [(q["reference"], q["status"], q["overdue"], q["contact"]) for q in queue] == \
        [(ref, "received", False, "pseudonymised")]
    people("ana", "analyst")
    refused = public.post(f"{API}/complaints/{ref}/assign", json={"to": "ana"}, headers=dpo)
    assert refused.status_code == 422 and "ana may not handle complaints" in refused.text
    r = public.post(f"{API}/complaints/{ref}/assign", json={"to": "dora"}, headers=dpo)
    assert r.status_code == 200 and r.json()["assigned_to"] == "dora"
    r = public.post(f"{API}/complaints/{ref}/links", json={"kind": "model", "ref": ref_model}, headers=dpo)
    assert r.json()["links"] == [{"kind": "model", "ref": ref_model}]
    assert public.post(f"{API}/complaints/{ref}/links", json={"kind": "output", "ref": "999"},
                       headers=dpo).status_code == 404
    public.post(f"{API}/complaints/{ref}/notes", json={"text": "We are looking at the patrol logs.",
                                                       "to_person": True}, headers=dpo)
    public.post(f"{API}/complaints/{ref}/notes", json={"text": "internal: check unit 12"}, headers=dpo)
    r = public.post(f"{API}/complaints/{ref}/outcome", headers=dpo, json={
        "outcome": "upheld", "reasons": "The flagged area received four times its share of patrols.",
        "suspend": [ref_model], "notify": "the review board"})
    assert r.status_code == 200, r.text
    assert [a["action"] for a in r.json()["actions"]] == ["suspend", "notify"]
    assert public.get(f"{P}/register.json").json()["records"][0]["state"] == "suspended"
    page = track(public, ref, code).text
    assert "Upheld" in page and "four times its share" in page and "was suspended" in page
    assert "looking at the patrol logs" in page and "unit 12" not in page  # internal notes stay inside
    steps = trail(public, dpo, f"complaint:{ref}")
    assert [s for a, _, s in steps if a == "dora"] == ["assigned", "linked", "message to the person",
                                                       "internal note", "resolved"]
    suspended = public.get(f"{API}/audit/log", params={"action": "model.suspend"}, headers=dpo).json()
    assert suspended[0]["actor"] == "dora" and ref in suspended[0]["details"]
    again = public.post(f"{API}/complaints/{ref}/outcome", headers=dpo,
                        json={"outcome": "not-upheld", "reasons": "x" * 20})
    assert again.status_code == 409
    counts = public.get(f"{P}/register.json").json()["records"][0]["tier2"]["complaints"]
    assert counts["received"] == 1 and counts["outcomes"]["upheld"] == 1 and counts["open"] == 0


def test_deadline_and_overdue_flag(public, gov, people, store):
    gov.active()
    ref, _ = filed(complain(public))
    engine = db.open_store(store)
    with db.transaction(engine) as s:
        s.execute(update(Complaint).values(deadline=datetime.now(timezone.utc) - timedelta(days=1)))
    engine.dispose()
    [q] = public.get(f"{API}/complaints", headers=people("dora", "dpo")).json()
    assert q["overdue"] is True
    assert public.get(f"{P}/register.json").json()["records"][0]["tier2"]["complaints"]["overdue"] == 1


def test_only_the_dpo_and_the_review_board_handle_complaints(public, gov, people):
    gov.active()
    ref, _ = filed(complain(public))
    for who, role in (("ana", "analyst"), ("sam", "supervisor"), ("olga", "model-owner")):
        r = public.get(f"{API}/complaints/{ref}", headers=people(who, role))
        assert r.status_code == 403, (who, r.text)
    assert public.get(f"{API}/complaints/{ref}", headers=people("bo", "approver")).status_code == 200


def test_the_weekly_report_counts_complaints_per_system(public, gov, people):
    gov.active()
    filed(complain(public))
    report = public.get(f"{API}/reports/weekly", headers=people("dora", "dpo")).json()["markdown"]
    assert "Complaints and appeals: 1 received this week, 0 resolved (0 upheld in whole or part), 1 open." in report
