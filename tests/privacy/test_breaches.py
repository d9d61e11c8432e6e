"""The breach register counts every disclosure by the suspect, trail exports included: an export of the trail
discloses every pseudonymised person the trail named before it."""

from __future__ import annotations

from datetime import datetime, timezone

from lawful.privacy import breaches
from lawful.privacy.service import reidentify
from lawful.trail import audit
from tests.privacy.common import AUD, DORA, SUE, ingest, tx

WINDOW = dict(start=datetime(2020, 1, 1, tzinfo=timezone.utc), end=datetime(2100, 1, 1, tzinfo=timezone.utc))


def test_a_trail_export_by_the_suspect_is_counted_with_the_people_it_disclosed(store, tmp_path):
    ingest(store, tmp_path)
    with tx(store) as s:
        for who in ("Jane Roe", "John Doe"):
            reidentify(s, actor=SUE, field="victim_name", value=who, purpose="investigation 2026-0412",
                       settings=store)
    with tx(store) as s:  # what `lawful audit export` writes before it cuts the bundle
        audit.append(s, actor=AUD.name, action="audit.export", obj="trail", purpose="external audit",
                     details={"directory": "/tmp/x"})
    with tx(store) as s:
        b = breaches.record(s, actor=DORA, description="auditor account used from an unknown device",
                            suspect="aud", **WINDOW)
        affected = b.affected
    assert affected["actions"] == {"audit.export": 1} and affected["actors"] == {"aud": 1}
    assert "trail" in affected["objects"] and len(affected["people"]) == 2
    with tx(store) as s:
        b = breaches.record(s, actor=DORA, description="supervisor", suspect="sue", **WINDOW)
        assert b.affected["actions"] == {"combination": 2} and len(b.affected["people"]) == 2
