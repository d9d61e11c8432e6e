"""Appeals of a complaint's outcome: filed from the complaint's own tracking page (so linked to it), and never
decided by whoever decided the complaint (nemo iudex in causa sua)."""

from __future__ import annotations

import re

from tests.transparency.conftest import filed
from tests.transparency.test_complaints import API, complain, track, trail

WHY = "The patrol logs I was sent show the area was flagged on both days."


def _decide(public, who, ref, outcome="not-upheld", reasons="Nothing in the records supports it."):
    """`who` = (name, headers): assigned `ref`, then resolves it."""
    assert public.post(f"{API}/complaints/{ref}/assign", json={"to": who[0]}, headers=who[1]).status_code == 200
    r = public.post(f"{API}/complaints/{ref}/outcome", headers=who[1], json={"outcome": outcome, "reasons": reasons})
    assert r.status_code == 200, r.text


def resolved_by_dora(public, people):
    ref, code = filed(complain(public))
    dpo = people("dora", "dpo")
    _decide(public, ("dora", dpo), ref, reasons="The stops were not made because of the forecast.")
    return ref, code, dpo


def denials(public, dpo) -> list[str]:
    """Who was refused something (access.deny on the trail), oldest first."""
    r = public.get(f"{API}/audit/log", params={"action": "access.deny", "limit": 100}, headers=dpo)
    return [e["actor"] for e in reversed(r.json())]


def test_an_appeal_is_filed_from_the_outcome_and_linked_to_it(public, gov, people):
    gov.active()
    ref, code, dpo = resolved_by_dora(public, people)
    page = track(public, ref, code)
    assert "Appeal this outcome" in page.text
    r = track(public, ref, code, appeal="1", disagree=WHY)
    appeal_ref, appeal_code = filed(r)
    assert appeal_ref != ref and appeal_code != code
    view = public.get(f"{API}/complaints/{appeal_ref}", headers=dpo).json()
    assert view["kind"] == "appeal" and view["links"] == [{"kind": "complaint", "ref": ref, "by": "public"}]
    assert ref in view["decision"] and view["what"] == WHY and view["contact"] == "pseudonymised"
    assert list(view["may_not_decide"]) == ["dora"]
    # the person follows the appeal with its own code; the complaint's code does not open it
    assert "received, waiting to be assigned" in track(public, appeal_ref, appeal_code).text
    assert track(public, appeal_ref, code).status_code == 404
    # one appeal per complaint (its outcome is appealed from the appeal's own page)
    again = track(public, ref, code, appeal="1", disagree=WHY)
    assert again.status_code == 409 and "already been appealed" in again.text
    assert ("public", "collection", "appealed") in trail(public, dpo, f"complaint:{ref}")


def test_whoever_decided_the_complaint_may_neither_take_nor_decide_the_appeal(public, gov, people):
    gov.active()
    ref, code, dpo = resolved_by_dora(public, people)
    appeal_ref, _ = filed(track(public, ref, code, appeal="1", disagree=WHY))
    taken = public.post(f"{API}/complaints/{appeal_ref}/assign", json={"to": "dora"}, headers=dpo)
    assert taken.status_code == 403 and "dora handled complaint" in taken.text
    before = denials(public, dpo).count("dora")
    decided = public.post(f"{API}/complaints/{appeal_ref}/outcome", headers=dpo,
                          json={"outcome": "not-upheld", "reasons": "I stand by my earlier decision."})
    assert decided.status_code == 403
    assert denials(public, dpo).count("dora") == before + 1  # this refusal is on the trail too
    assert public.get(f"{API}/complaints/{appeal_ref}", headers=dpo).json()["status"] == "received"
    board = people("bo", "approver")
    assert public.post(f"{API}/complaints/{appeal_ref}/assign", json={"to": "bo"}, headers=dpo).status_code == 200
    r = public.post(f"{API}/complaints/{appeal_ref}/outcome", headers=board,
                    json={"outcome": "upheld", "reasons": "The logs show the flag drove both stops."})
    assert r.status_code == 200 and r.json()["resolved_by"] == "bo"


def test_an_appeal_linked_by_staff_is_held_to_the_same_rule(public, gov, people):
    gov.active()
    ref, _, dpo = resolved_by_dora(public, people)
    # an appeal that does not name the complaint's reference: linked to nothing until staff link it
    free, _ = filed(complain(public, kind="appeal", decision="the answer to my complaint about the stops"))
    assert public.get(f"{API}/complaints/{free}", headers=dpo).json()["links"] == []
    assert public.post(f"{API}/complaints/{free}/links", json={"kind": "complaint", "ref": ref.lower()},
                       headers=dpo).json()["links"] == [{"kind": "complaint", "ref": ref}]
    assert public.post(f"{API}/complaints/{free}/links", json={"kind": "complaint", "ref": "LC-2026-NOSUCH"},
                       headers=dpo).status_code == 404
    assert public.post(f"{API}/complaints/{free}/links", json={"kind": "complaint", "ref": free},
                       headers=dpo).status_code == 422
    r = public.post(f"{API}/complaints/{free}/outcome", headers=dpo,
                    json={"outcome": "not-upheld", "reasons": "I stand by my earlier decision."})
    assert r.status_code == 403


def test_an_undecided_complaint_cannot_be_appealed_and_a_wrong_code_files_nothing(public, gov, people):
    gov.active()
    ref, code = filed(complain(public))
    early = track(public, ref, code, appeal="1", disagree=WHY)
    assert early.status_code == 409 and "not decided yet" in early.text
    ref2, code2, dpo = resolved_by_dora(public, people)
    wrong = track(public, ref2, "AAAA-BBBB-CCCC-DDDD", appeal="1", disagree=WHY)
    assert wrong.status_code == 404
    short = track(public, ref2, code2, appeal="1", disagree="no")
    assert short.status_code == 422 and "at least 10 characters" in short.text
    kinds = [c["kind"] for c in public.get(f"{API}/complaints", headers=dpo).json()]
    assert kinds == ["complaint", "complaint"]
    assert not re.search(r"Appeal this outcome", track(public, ref, code).text)



def test_an_appeal_of_an_appeal_is_about_the_first_decision_too(public, gov, people):
    gov.active()
    ref, code, dpo = resolved_by_dora(public, people)
    first, first_code = filed(track(public, ref, code, appeal="1", disagree=WHY))
    bo = ("bo", people("bo", "approver"))
    _decide(public, bo, first)
    second, _ = filed(track(public, first, first_code, appeal="1", disagree=WHY))
    view = public.get(f"{API}/complaints/{second}", headers=dpo).json()
    assert set(view["may_not_decide"]) == {"dora", "bo"}
    r = public.post(f"{API}/complaints/{second}/outcome", headers=dpo,
                    json={"outcome": "not-upheld", "reasons": "I decided the first one and stand by it."})
    assert r.status_code == 403  # a refusal, on the trail
    assert denials(public, dpo)[-1] == "dora"  # the refusal is on the trail
    again = track(public, ref, code, appeal="1", disagree=WHY)  # one appeal per complaint; the next is the appeal's
    assert again.status_code == 409 and "already been appealed" in again.text and first not in again.text


def test_whoever_handled_the_complaint_earlier_is_held_to_the_rule(public, gov, people):
    gov.active()
    ref, code = filed(complain(public))
    dpo, bo = people("dora", "dpo"), people("bo", "approver")
    public.post(f"{API}/complaints/{ref}/assign", json={"to": "bo"}, headers=dpo)
    public.post(f"{API}/complaints/{ref}/notes", json={"text": "We are checking the logs.", "to_person": True},
                headers=bo)
    _decide(public, ("dora", dpo), ref)  # reassigned to dora, who decides it
    appeal, _ = filed(track(public, ref, code, appeal="1", disagree=WHY))
    assert set(public.get(f"{API}/complaints/{appeal}", headers=dpo).json()["may_not_decide"]) == {"dora", "bo"}
    assert public.post(f"{API}/complaints/{appeal}/assign", json={"to": "bo"}, headers=dpo).status_code == 403


def test_a_free_form_appeal_naming_a_complaint_is_linked_at_once_and_blocks_no_one(public, gov, people):
    gov.active()
    ref, code, dpo = resolved_by_dora(public, people)
    stranger, _ = filed(complain(public, kind="appeal", decision=f"the outcome of {ref.lower()}", contact=""))
    view = public.get(f"{API}/complaints/{stranger}", headers=dpo).json()
    assert view["links"] == [{"kind": "complaint", "ref": ref}] and list(view["may_not_decide"]) == ["dora"]
    r = public.post(f"{API}/complaints/{stranger}/outcome", headers=dpo,
                    json={"outcome": "not-upheld", "reasons": "I stand by my earlier decision."})
    assert r.status_code == 403
    own = track(public, ref, code, appeal="1", disagree=WHY)  # the person's own appeal is not blocked by it
    assert own.status_code == 201, own.text[:300]
