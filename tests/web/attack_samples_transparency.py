"""The transparency domain's routes for tests/web/test_attacks.py: the public register's pages and downloads (open,
no sign-in), its forms (open, rate-limited, size-limited, form token), and the inside routes behind the door."""

API = "/api/v1"
P = "/public"

OPEN = {
    ("GET", f"{P}/"), ("GET", f"{P}/systems/{{name}}"), ("GET", f"{P}/register.json"), ("GET", f"{P}/register.csv"),
    ("GET", f"{P}/register.schema.json"), ("GET", f"{P}/feed.atom"), ("GET", f"{P}/complaints"),
    ("POST", f"{P}/complaints"), ("GET", f"{P}/track"), ("POST", f"{P}/track"), ("GET", f"{P}/requests"),
    ("POST", f"{P}/requests"), ("GET", f"{P}/trail"), ("GET", f"{P}/trail/heads.jsonl"),
    ("GET", f"{P}/trail/public-key.pem"),
}

SAMPLES = {
    ("GET", f"{P}/"): {},
    ("GET", f"{P}/systems/{{name}}"): {"path": {"name": "toronto-bne-forecaster"}},
    ("GET", f"{P}/register.json"): {},
    ("GET", f"{P}/register.csv"): {},
    ("GET", f"{P}/register.schema.json"): {},
    ("GET", f"{P}/feed.atom"): {},
    ("GET", f"{P}/complaints"): {},
    ("POST", f"{P}/complaints"): {},
    ("GET", f"{P}/track"): {},
    ("POST", f"{P}/track"): {},
    ("GET", f"{P}/requests"): {},
    ("POST", f"{P}/requests"): {},
    ("GET", f"{P}/trail"): {},
    ("GET", f"{P}/trail/heads.jsonl"): {},
    ("GET", f"{P}/trail/public-key.pem"): {},
    ("GET", f"{API}/complaints"): {},
    ("GET", f"{API}/complaints/{{reference}}"): {"path": {"reference": "LC-2026-AAAAAA"}},
    ("POST", f"{API}/complaints/{{reference}}/assign"): {"path": {"reference": "LC-2026-AAAAAA"},
                                                         "json": {"to": "dora"}},
    ("POST", f"{API}/complaints/{{reference}}/links"): {"path": {"reference": "LC-2026-AAAAAA"},
                                                        "json": {"kind": "output", "ref": "1"}},
    ("POST", f"{API}/complaints/{{reference}}/notes"): {"path": {"reference": "LC-2026-AAAAAA"},
                                                        "json": {"text": "x"}},
    ("POST", f"{API}/complaints/{{reference}}/outcome"): {"path": {"reference": "LC-2026-AAAAAA"},
                                                          "json": {"outcome": "not-upheld", "reasons": "x" * 20}},
    ("GET", f"{API}/public-requests"): {},
    ("POST", f"{API}/public-requests/{{reference}}/identity"): {"path": {"reference": "LR-2026-AAAAAA"},
                                                                 "json": {"state": "verified", "note": "x"}},
    ("POST", f"{API}/audit-pack"): {"params": {"year": 2026}},
}
