"""An admin cannot take over an account cleared above their own: reset and role changes hand out a new enrolment
code, so, like creating such a person, they are refused to an admin with lower clearance."""

from __future__ import annotations

from tests.web.conftest import people, server  # noqa: F401


def test_reset_of_a_person_cleared_above_the_admin_is_refused(server, people):
    ida = people("ida", "admin", clearance="internal")
    people("sam", "supervisor", clearance="secret")
    r = server.post("/api/v1/users/sam/reset", headers=ida)
    assert r.status_code == 403 and "cleared secret" in r.json()["detail"], r.text
    root = people("root-admin", "admin", clearance="secret")  # cleared as high: may
    assert server.post("/api/v1/users/sam/reset", headers=root).json()["enrolment_code"]


def test_role_change_of_a_person_cleared_above_the_admin_is_refused(server, people):
    ida = people("ida", "admin", clearance="internal")
    people("sam", "supervisor", clearance="secret")
    r = server.put("/api/v1/users/sam/roles", json={"roles": ["supervisor", "dpo"]}, headers=ida)
    assert r.status_code == 403, r.text
    people("ann", "analyst", clearance="internal")  # at the admin's own level: allowed as before
    r = server.put("/api/v1/users/ann/roles", json={"roles": ["analyst", "supervisor"]}, headers=ida)
    assert r.status_code == 200, r.text
