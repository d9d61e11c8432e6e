"""Attack and fuzz samples for the incident routes added after the shared table (tests/web/test_attacks.py): one
incident by id, and the query by area and dates."""

API = "/api/v1"

SAMPLES: dict[tuple[str, str], dict] = {
    ("GET", f"{API}/incidents/{{incident_id}}"): {"path": {"incident_id": 1}},
    ("GET", f"{API}/incidents"): {"params": {"lon": -79.38, "lat": 43.65, "radius": 200, "from": "2019-01-01",
                                             "to": "2019-12-31"}},
    # An operational forecast's day is required now (issue #15): the shared table's sample for this route has none,
    # so it would stop at admission (422) instead of the door. Integrator: fold "day" into test_attacks.py's entry.
    ("POST", f"{API}/forecast/issue"): {"json": {"ref": "toronto-bne-forecaster:1", "purpose": "patrol planning",
                                                 "day": "2019-12-24"}},
}
