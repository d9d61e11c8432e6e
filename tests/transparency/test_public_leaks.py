"""What one person wrote, or a staff member's name, never reaches the public register: an upheld complaint's reasons
(written to the complainant, on their private tracking page) are not the published suspension reason, and staff names
are scrubbed from published reasons in any letter case."""

from __future__ import annotations

from lawful.governance import registry
from tests.governance.conftest import Gov, gov  # noqa: F401
from tests.transparency.conftest import filed, public, submit  # noqa: F401
from tests.web.conftest import people, server  # noqa: F401

P, API = "/public", "/api/v1"
PRIVATE = "Ms Jane Roe of 12 Elm Street, stopped twice by unit 12"


def test_an_upheld_complaints_reasons_stay_off_the_register(public, gov, people):
    model = gov.active()
    r = submit(public, f"{P}/complaints", {"kind": "complaint", "system": "toronto-bne-forecaster",
                                            "what": "I was stopped twice near my home.", "decision": "",
                                            "occurred_on": "", "contact": ""})
    ref, code = filed(r)
    dpo = people("dora", "dpo")
    r = public.post(f"{API}/complaints/{ref}/outcome", headers=dpo, json={
        "outcome": "upheld", "reasons": f"Dear {PRIVATE}: the area got four times its share.", "suspend": [model]})
    assert r.status_code == 200, r.text
    for page in (f"{P}/register.json", f"{P}/feed.atom", f"{P}/systems/toronto-bne-forecaster"):
        text = public.get(page).text
        assert PRIVATE not in text, page
    assert f"complaint {ref} upheld" in public.get(f"{P}/register.json").text  # the suspension still says why


def test_staff_names_are_scrubbed_in_any_case(public, gov):
    ref = gov.active()
    gov.step(registry.suspend, ref, "dpo", reason="Dpo and Ap1 saw the exposure audit; AP2 agreed")
    reg = public.get(f"{P}/register.json").text
    assert "[staff] and [staff] saw the exposure audit; [staff] agreed" in reg
    assert "Dpo" not in reg and "AP2" not in reg
