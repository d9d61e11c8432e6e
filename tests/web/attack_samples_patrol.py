"""Attack and fuzz samples for the patrol routes added after the shared table (tests/web/test_attacks.py)."""

API = "/api/v1"

SAMPLES: dict[tuple[str, str], dict] = {
    ("GET", f"{API}/patrol/plans/{{plan_id}}/briefing"): {"path": {"plan_id": 1}},
}
