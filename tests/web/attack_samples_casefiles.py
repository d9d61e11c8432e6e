"""Sample requests for the case-file routes (tests/web/test_attacks.py and test_fuzz.py try every route)."""

API = "/api/v1"
LINE = b'{"case": "CF-1", "statement": "S1", "role": "witness", "date": "2026-04-12", "text": "I saw a red car."}\n'

SAMPLES = {
    ("POST", f"{API}/casefiles/imports"): {"files": {"files": ("s.jsonl", LINE)}},
    ("GET", f"{API}/casefiles/cases"): {},
    ("GET", f"{API}/casefiles/cases/{{ref}}"): {"path": {"ref": "CF-1"}},
    ("POST", f"{API}/casefiles/cases/{{ref}}/analysis"): {"path": {"ref": "CF-1"}, "json": {}},
    ("GET", f"{API}/casefiles/cases/{{ref}}/suggestions"): {"path": {"ref": "CF-1"}},
    ("POST", f"{API}/casefiles/suggestions/{{output_id}}/decision"): {
        "path": {"output_id": 1}, "json": {"decision": "accepted", "reason": "matches the statement"}},
    ("POST", f"{API}/casefiles/cases/{{ref}}/disclosure"): {"path": {"ref": "CF-1"}, "json": {}},
    ("POST", f"{API}/casefiles/cases/{{ref}}/reidentify"): {
        "path": {"ref": "CF-1"}, "json": {"pseudonym": "psn:" + "0" * 32}},
}
