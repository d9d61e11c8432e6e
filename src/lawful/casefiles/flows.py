"""Case-file operations of several transactions: check and log -> compute read-only -> issue through the gate."""

from __future__ import annotations

from lawful.casefiles import service
from lawful.db import Store
from lawful.errors import LawfulError

ASSISTANT = "casefile-assistant"


def analyse(store: Store, *, actor, ref: str, assistant: str = ASSISTANT, purpose: str = service.PURPOSE) -> dict:
    """Structure a case's statements, compare them and look for similar earlier cases; every suggestion is issued
    by the assistant entry `assistant` through the gate as an output of kind "casefile" (open: a recommendation
    until a person decides it). A refusal is on the trail and raised as denied."""
    with store.transaction() as session:
        context = service.check_analysis(session, actor=actor, ref=ref, assistant=assistant, purpose=purpose)
    if context["refused"]:
        raise LawfulError(f"the gate refused: {context['refused']}. The refusal is on the trail.",
                          "see `lawful models list` and `lawful models approve`", kind="denied")
    with store.transaction(readonly=True) as session:
        suggestions = service.build_suggestions(session, actor=actor, context=context, purpose=purpose)
    with store.transaction() as session:
        result = service.issue_suggestions(session, actor=actor, context=context, suggestions_=suggestions,
                                           purpose=purpose)
    if result["refused"]:
        raise LawfulError(f"the gate refused: {result['refused']}. The refusal is on the trail.",
                          "see `lawful models list` and `lawful models approve`", kind="denied")
    return result


def decide(store: Store, *, actor, output_id: int, decision: str, reason: str, amendment: dict | None = None,
           thresholds) -> dict:
    """A person's decision on one suggestion, then the breaker's look at the assistant (as every other decision:
    governance.flows.decide). The decision commits first and stands whatever the breaker then finds."""
    from lawful.governance.flows import look_after_decision
    from lawful.governance.models import Output

    with store.transaction() as session:
        result = service.decide_suggestion(session, actor=actor, output_id=output_id, decision=decision, reason=reason,
                                           amendment=amendment)
        entry_id = session.get(Output, output_id).entry_id
    result.update(look_after_decision(store, entry_id=entry_id, thresholds=thresholds))
    return result
