"""An output is as closed as the data it was made from: a forecast made from confidential incidents cannot be
listed, read or decided by someone cleared only to internal, who is refused the incidents themselves; someone
cleared for them still can. Migration 0016 stores the classification with the output."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from lawful import db
from lawful.access.service import get_actor
from lawful.governance import registry
from lawful.governance.policy import Thresholds
from lawful.incidents.mapping import load_mapping
from lawful.incidents.service import ingest_file
from tests.conftest import HEADER, TEST_MAPPING, write_csv
from tests.governance.conftest import CARD, EVALUATION, EXPOSURE, FRIA
from tests.web.conftest import people, server  # noqa: F401


@pytest.fixture
def confidential(store, tmp_path):
    rng = np.random.default_rng(7)
    hot = [(43.6532, -79.3832), (43.7001, -79.4163), (43.6400, -79.5000)]
    start = np.datetime64("2018-01-01T00:00")
    rows = []
    for i in range(2400):
        lat, lon = hot[i % 3]
        when = start + np.timedelta64(int(rng.uniform(0, 730 * 24 * 60)), "m")
        rows.append(f"S{i},Break and Enter,{str(when).replace('T', ' ')[:16]},{lat + rng.normal(0, 0.002):.5f},"
                    f"{lon + rng.normal(0, 0.002):.5f},Hood{i % 4},House,none,")
    mapping = tmp_path / "m.toml"
    mapping.write_text(TEST_MAPPING.replace('classification = "internal"', 'classification = "confidential"'))
    assert "confidential" in mapping.read_text()
    engine = db.open_store(store)
    try:
        with db.transaction(engine, settings=store) as session:
            ingest_file(session, path=write_csv(tmp_path / "c.csv", rows, HEADER), mapping=load_mapping(mapping),
                        settings=store, actor="test-setup")
    finally:
        engine.dispose()
    return store


def _active_forecaster(settings, people) -> str:
    people("own", "model-owner")
    people("ap1", "approver")
    card = copy.deepcopy(CARD)
    card.update(tier="medium", owner="own")
    engine = db.open_store(settings)
    try:
        with db.transaction(engine, settings=settings) as s:
            e = registry.register(s, actor=get_actor(s, name="own"), card=card)
            registry.attach(s, actor=get_actor(s, name="own"), entry=e, evaluation=EVALUATION, exposure=EXPOSURE,
                            fria=FRIA)
            registry.submit(s, actor=get_actor(s, name="own"), entry=e, thresholds=Thresholds())
            registry.approve(s, actor=get_actor(s, name="ap1"), entry=e, reason="ok", purposes=["patrol planning"],
                             areas=[], expires=None, thresholds=Thresholds())
            registry.activate(s, actor=get_actor(s, name="own"), entry=e)
            return e.ref
    finally:
        engine.dispose()


def test_a_forecast_from_confidential_incidents_is_closed_to_a_reader_cleared_below_them(confidential, server,
                                                                                         people):
    ana = people("ana", "analyst", clearance="confidential")
    low = people("lowa", "analyst", clearance="internal")
    sup = people("sue", "supervisor", clearance="confidential")
    ref = _active_forecaster(confidential, people)
    r = server.post("/api/v1/forecast/issue", headers=ana, json={"ref": ref, "purpose": "patrol planning",
                                                                "day": "2019-12-10"})
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert server.get(f"/api/v1/review/outputs/{oid}", headers=low).status_code == 403
    assert oid not in [o["output"] for o in server.get("/api/v1/review/outputs", headers=low).json()]
    r = server.post(f"/api/v1/review/outputs/{oid}/decision", headers=low, json={"decision": "accepted",
                                                                                 "reason": "ok"})
    assert r.status_code == 403, r.text
    shown = server.get(f"/api/v1/review/outputs/{oid}", headers=sup)
    assert shown.status_code == 200 and shown.json()["classification"] == "confidential"
    r = server.post(f"/api/v1/review/outputs/{oid}/decision", headers=sup, json={"decision": "accepted",
                                                                                 "reason": "fits the briefing"})
    assert r.status_code == 200, r.text
