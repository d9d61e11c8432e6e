"""Governance: the registry and model cards, approvals, the gate every output leaves through, human review,
the circuit breaker, the tamper-evident trail, serious incidents and the weekly report."""
