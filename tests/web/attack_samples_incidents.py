"""Attack and fuzz samples for the incident routes added after the shared table (tests/web/test_attacks.py): one
incident by id, and the query by area and dates."""

API = "/api/v1"

SAMPLES: dict[tuple[str, str], dict] = {
    ("GET", f"{API}/incidents/{{incident_id}}"): {"path": {"incident_id": 1}},
    ("GET", f"{API}/incidents"): {"params": {"lon": -79.38, "lat": 43.65, "radius": 200, "from": "2019-01-01",
                                             "to": "2019-12-31"}},
}
