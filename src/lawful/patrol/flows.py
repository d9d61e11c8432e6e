"""Patrol operations of several transactions: check and log -> compute read-only -> issue through the gate."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from lawful.db import Store
from lawful.errors import LawfulError
from lawful.patrol import service


def make_plan(store: Store, *, actor, forecast_id: int, ref: str, units: list[dict], shift: str,
              day: date | None = None, purpose: str = service.PURPOSE, limits: dict | None = None) -> dict:
    """A plan over an accepted forecast, issued by the planner entry `ref` through the gate as an output of kind
    "plan" (open: a recommendation until a supervisor decides it). A refusal is on the trail and raised as denied."""
    from lawful.governance import gate
    from lawful.governance.registry import get

    s = store.settings
    with store.transaction() as session:
        context = service.check_plan(session, actor=actor, forecast_id=forecast_id, ref=ref, purpose=purpose)
    if context["refused"]:
        raise LawfulError(f"the gate refused: {context['refused']}. The refusal is on the trail.",
                          "see `lawful models list` and `lawful models approve`", kind="denied")
    with store.transaction(readonly=True) as session:
        subject, payload, explanation = service.build_plan(
            session, context=context, units=units, shift=shift, day=day, tz=ZoneInfo(s.timezone), crs=s.crs,
            bounds=s.bounds, limits=limits)
    with store.transaction() as session:
        result = gate.issue(session, actor=actor, entry=get(session, ref=context["ref"]), purpose=purpose,
                            kind="plan", subject=subject, payload=payload, explanation=explanation,
                            classification=context["classification"])  # its forecast's
        if result.allowed:
            return service.plan_view(result.output)
    raise LawfulError(f"the gate refused: {result.refused}. The refusal is on the trail.",
                      "see `lawful models list` and `lawful models approve`", kind="denied")
