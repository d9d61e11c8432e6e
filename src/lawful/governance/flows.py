"""Governance operations of several transactions, `(store, *, actor, ...)`: each step commits on its own and
writes its own trail entries."""

from __future__ import annotations

from lawful.access.service import Actor
from lawful.db import Store
from lawful.governance import review
from lawful.governance.models import Entry, Output
from lawful.governance.monitor import enforce
from lawful.governance.policy import Thresholds


def decide(store: Store, *, actor: Actor, output_id: int, decision: str, reason: str, amendment: str | None = None,
           thresholds: Thresholds) -> dict:
    """A named person's decision on an output, then the breaker's look at that output's model.

    The decision commits first: it stands whatever the breaker then finds. The breaker runs in its own
    transaction and, if the model's figures now cross a threshold, suspends it in the breaker's name (as
    `lawful models monitor` would)."""
    with store.transaction() as session:
        r = review.decide(session, actor=actor, output_id=output_id, decision=decision, reason=reason,
                          amendment={"text": amendment} if amendment else None)
        result = {"output": output_id, "decision": r.decision, "reviewer": r.reviewer, "seconds": r.seconds,
                  "reason": r.reason}
        entry_id = session.get(Output, output_id).entry_id
    result.update(look_after_decision(store, entry_id=entry_id, thresholds=thresholds))
    return result


def look_after_decision(store: Store, *, entry_id: int, thresholds: Thresholds) -> dict:
    """The breaker's look at a model after a decision on one of its outputs, in its own transaction: if the model's
    figures now cross a threshold, it is suspended in the breaker's name. What it found, for the decision's answer."""
    with store.transaction() as session:
        entry = session.get(Entry, entry_id)
        before = entry.state
        [figures] = enforce(session, entries=[entry], thresholds=thresholds)
        return {"model": entry.ref, "model_state": entry.state, "breaches": list(figures.breaches),
                "suspended": before != "suspended" and entry.state == "suspended"}
