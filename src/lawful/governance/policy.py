"""The thresholds that refuse a submission or trip the breaker. Who may do what is the access policy's
(lawful/access/policy.toml, through access.decide).

Thresholds can be set with LAWFUL_GOV_* environment variables; the defaults are written to be read by a review
board and argued with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from lawful.errors import ConfigError

@dataclass(frozen=True)
class Thresholds:
    min_pai: float = 2.0  # a high-tier forecaster must at least double the hit rate of random patrols at its coverage
    max_misplaced: float = 0.5  # exposure audit: at most half the attention in the wrong areas
    max_misjudgment: float = 0.5  # breaker: more than half of decided outputs rejected
    min_realised_pai: float = 1.0  # breaker: realised forecasts no better than chance
    min_decisions: int = 10  # figures need this many decisions (or realised incidents x2) before they can trip
    approval_days: int = 365  # default approval length
    bias_min_decisions: int = 10  # automation bias: look at reviewers with at least this many decisions
    bias_acceptance: float = 0.95  # ... who accept at least this share
    bias_seconds: float = 30.0  # ... with a median decision time under this

    @classmethod
    def from_env(cls) -> "Thresholds":
        values = {}
        for f in fields(cls):
            name = f"LAWFUL_GOV_{f.name.upper()}"
            if name in os.environ:
                try:
                    values[f.name] = type(f.default)(os.environ[name])
                except ValueError:
                    raise ConfigError(f"{name}={os.environ[name]!r} is not a number",
                                      f"give a number like the default, {f.default}") from None
        return cls(**values)
