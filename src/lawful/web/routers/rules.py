"""Early-warning rules: the values a rule file compares that the store has never seen, runs over stored incidents
or a sent event file (as jobs; with `issue`, every alert through the governance gate), and officers' verdicts on a
rule's alerts. Rule, zone and event files arrive as text: the server never opens a path a client names. Each
parses, calls `lawful.rules.flows` or `lawful.rules.service`, returns JSON."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from lawful.limits import CONFIG_BYTES, EVENT_BYTES, ZONE_BYTES
from lawful.rules import flows, service
from lawful.web.deps import Call, CallDep

router = APIRouter(prefix="/rules", tags=["rules"])

Purpose = Field("crime analysis", min_length=1, max_length=200, description="why you are reading (the policy checks it)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BundleIn(Strict):
    """A rule file and the zone files it names, read by the client."""

    name: str = Field("rules.toml", min_length=1, max_length=1000, description="the rule file's name, for messages")
    rules: str = Field(min_length=1, max_length=CONFIG_BYTES,
                       description="the rule file's text exactly as the file holds it (its SHA-256 is checked)")
    zones: dict[str, str] = Field(default_factory=dict, max_length=8,
                                  description="zone file name as the rule file writes it -> its GeoJSON text")

    def bundle(self) -> flows.Bundle:
        from lawful.errors import InputError

        for name, text in self.zones.items():
            if not name or len(name) > 1000 or len(text) > ZONE_BYTES:
                raise InputError(f"zones: {name[:100]!r} is not a zone file name with at most {ZONE_BYTES >> 20} MB "
                                 "of GeoJSON", "send each zone file the rule file names, under that name")
        return flows.Bundle(self.name, self.rules, dict(self.zones))


class CheckIn(Strict):
    bundle: BundleIn
    purpose: str = Purpose


class EventsIn(Strict):
    name: str = Field(min_length=1, max_length=1000, description="the file's name, ending .csv, .jsonl or .ndjson")
    text: str = Field(max_length=EVENT_BYTES, description="the event file's text")


class RunIn(Strict):
    bundle: BundleIn
    events: EventsIn | None = Field(None, description="an event file; leave out for the stored incidents")
    start: date | None = Field(None, description="stored incidents: first local day")
    end: date | None = Field(None, description="stored incidents: stop before this local day")
    engine: Literal["batch", "stream"] = "batch"
    lateness_s: float = Field(0.0, ge=0, le=366 * 86400, allow_inf_nan=False,
                              description="stream engine: how late an event may arrive, in seconds")
    issue: str | None = Field(None, min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+(:[0-9]{1,9})?$",
                              description="send the alerts through the gate as outputs of this rule-set entry")
    purpose: str | None = Field(None, min_length=1, max_length=200,
                                description="why (needed with issue; default for stored incidents: crime analysis)")


@router.post("/check")
def check(body: CheckIn, c: Call = CallDep) -> dict:
    """The values the rule file compares stored fields with that no stored incident has, each with the closest
    stored value (likely misspellings). Needs `incidents.read` for the purpose; a consultation on the trail."""
    return c.flow(flows.check_values, bundle=body.bundle.bundle(), purpose=body.purpose)


@router.post("/runs", status_code=202)
def run(body: RunIn, c: Call = CallDep) -> dict:
    """Run a rule set as a job (poll GET /api/v1/jobs/ID): over the stored incidents between `start` and `end`, or
    over a sent event file. With `issue`, the file must be the one the entry was approved with (SHA-256) and every
    alert goes through the gate; a gate refusal is 403 (and on the trail as gate.refuse). Checked before the job
    starts: a refusal or a bad file is answered at once and changes nothing."""
    events = (body.events.name, body.events.text) if body.events else None
    plan = c.flow(flows.start_run, bundle=body.bundle.bundle(), events=events, start=body.start, end=body.end,
                  engine=body.engine, lateness_s=body.lateness_s, issue=body.issue, purpose=body.purpose)
    if plan.refused:
        raise flows.refusal(plan)
    store = c.store
    return c.door.jobs.submit(kind="rules.run", owner=plan.actor.name,
                              work=lambda job: flows.run(store, plan, progress=job.progress)).view()


@router.get("/verdicts")
def verdicts(rule: str = Query(min_length=1, max_length=200, description="the rule id"),
             purpose: str = Query("patrol planning", min_length=1, max_length=200,
                                  description="why you are reading (outputs.read for it)"),
             c: Call = CallDep) -> list[dict]:
    """Officers' verdicts on the rule's alerts issued through the gate (sandbox excluded) that you may read: rule,
    version, alert time, verdict, which conditions held. A consultation on the trail."""
    return c.run(service.read_verdicts, rule=rule, purpose=purpose)
