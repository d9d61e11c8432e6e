"""Governance: the registry (register, attach, submit, approve, refuse, activate, suspend, reinstate, retire, list,
card, monitor), human review (open outputs, one output, decisions, figures), serious incidents and the weekly report.
Parse, call a governance service or flow, return JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lawful.governance import flows, service
from lawful.governance.policy import Thresholds
from lawful.limits import ATTACHMENT_BYTES, CONFIG_BYTES
from lawful.web.deps import Call, CallDep

router = APIRouter(tags=["governance"])

Ref = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+(:[0-9]{1,9})?$",
                          description="NAME (newest version) or NAME:VERSION")]
OutputId = Annotated[int, Path(ge=1, le=2**62)]
Reason = Annotated[str, Field(max_length=2000, description="why; kept in the trail")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


def _thresholds() -> Thresholds:
    return Thresholds.from_env()  # the server's settings (LAWFUL_GOV_*), never the client's


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardDocument(Strict):
    source: str = Field("card.toml", min_length=1, max_length=1000, description="the file's name, for messages")
    text: str = Field(max_length=CONFIG_BYTES, description="the model card, as TOML")


class JsonDocument(Strict):
    source: str = Field(min_length=1, max_length=1000, description="the file's name, for messages and the card")
    text: str = Field(max_length=ATTACHMENT_BYTES, description="the JSON document, as text")


class Attachments(Strict):
    evaluation: JsonDocument | None = Field(None, description="`lawful forecast backtest --json` (or a rule report)")
    exposure: JsonDocument | None = Field(None, description="`lawful forecast audit --json`")
    fria: CardDocument | None = Field(None, description="the fundamental-rights impact assessment, as TOML")


class Approval(Strict):
    reason: Reason
    purposes: list[Text] = Field(min_length=1, max_length=50)
    areas: list[Text] = Field(default_factory=list, max_length=1000)
    expires: date | None = None
    sandbox: bool = False


class Because(Strict):
    reason: Reason


class Decision(Strict):
    decision: Literal["accepted", "rejected", "amended", "confirmed", "false-alarm", "unclear"]
    reason: Reason
    amendment: str | None = Field(None, max_length=5000, description="forecasts: what you changed")


class SeriousIncident(Strict):
    model: str = Field(min_length=1, max_length=120, description="NAME or NAME:VERSION")
    kind: str = Field(min_length=1, max_length=40)
    description: str = Field(max_length=10_000)
    aware_at: AwareDatetime | None = Field(None, description="when you became aware; default now")
    widespread: bool = False
    death: bool = False
    keep_running: str | None = Field(None, max_length=2000, description="do not suspend the model; say why")


class Reported(Strict):
    to: str = Field(min_length=1, max_length=300, description="the authority it was reported to")


# ---- the registry -------------------------------------------------------------------------------------------------
@router.get("/models")
def list_models(c: Call = CallDep) -> list[dict]:
    """Every registered version with its state (the registry is public to everyone signed in)."""
    return c.run(service.list_entries)


@router.post("/models", status_code=201)
def register(body: CardDocument, c: Call = CallDep) -> dict:
    """Register a new version as a draft from its card's TOML. Person scoring and biometric identification are
    refused."""
    return c.run(service.register, text=body.text, source=body.source)


@router.post("/models/monitor")
def monitor(c: Call = CallDep) -> list[dict]:
    """Each entry's monitored figures; the breaker suspends any in use whose figure crosses its threshold."""
    return c.run(service.monitor, thresholds=_thresholds())


@router.get("/models/{ref}/card")
def card(ref: Ref, format: Literal["markdown", "html"] = Query("markdown"), c: Call = CallDep) -> dict:
    """The model card as Markdown or an HTML page."""
    return c.run(service.card_text, ref=ref, html=format == "html")


@router.post("/models/{ref}/attachments")
def attach(ref: Ref, body: Attachments, c: Call = CallDep) -> dict:
    """Attach evaluation results, an exposure audit and/or an impact assessment to a draft."""
    doc = lambda d: (d.source, d.text) if d else None  # noqa: E731
    return c.run(service.attach, ref=ref, evaluation=doc(body.evaluation), exposure=doc(body.exposure),
                 fria=doc(body.fria))


@router.post("/models/{ref}/submit")
def submit(ref: Ref, c: Call = CallDep) -> dict:
    """Ask for approval. A high-risk entry needs passing evaluation and exposure results attached."""
    return c.run(service.submit, ref=ref, thresholds=_thresholds())


@router.post("/models/{ref}/approve")
def approve(ref: Ref, body: Approval, c: Call = CallDep) -> dict:
    """One approver's approval for named purposes (and areas) until an expiry, or a sandbox approval."""
    return c.run(service.approve, ref=ref, reason=body.reason, purposes=body.purposes, areas=body.areas,
                 expires=body.expires, sandbox=body.sandbox, thresholds=_thresholds())


@router.post("/models/{ref}/refuse")
def refuse(ref: Ref, body: Because, c: Call = CallDep) -> dict:
    """Send a submission back to its owner as a draft, with the reason."""
    return c.run(service.refuse, ref=ref, reason=body.reason)


@router.post("/models/{ref}/activate")
def activate(ref: Ref, c: Call = CallDep) -> dict:
    """Put an approved entry into use."""
    return c.run(service.move, ref=ref, step="activate")


@router.post("/models/{ref}/suspend")
def suspend(ref: Ref, body: Because, c: Call = CallDep) -> dict:
    """The circuit breaker, by hand: the gate refuses every output until the entry is approved again."""
    return c.run(service.move, ref=ref, step="suspend", reason=body.reason)


@router.post("/models/{ref}/reinstate")
def reinstate(ref: Ref, body: Because, c: Call = CallDep) -> dict:
    """Ask to bring a suspended entry back: it returns to 'submitted' and needs approving again."""
    return c.run(service.move, ref=ref, step="reinstate", reason=body.reason)


@router.post("/models/{ref}/retire")
def retire(ref: Ref, body: Because, c: Call = CallDep) -> dict:
    """Take an entry out of use for good."""
    return c.run(service.move, ref=ref, step="retire", reason=body.reason)


# ---- review -------------------------------------------------------------------------------------------------------
@router.get("/review/outputs")
def open_outputs(c: Call = CallDep) -> list[dict]:
    """Outputs waiting for a decision that you may read."""
    return c.run(service.open_outputs)


@router.get("/review/outputs/{output_id}")
def show_output(output_id: OutputId, c: Call = CallDep) -> dict:
    """One output with its explanation; the reading is a consultation on the trail."""
    return c.run(service.show_output, output_id=output_id)


@router.post("/review/outputs/{output_id}/decision")
def decide(output_id: OutputId, body: Decision, c: Call = CallDep) -> dict:
    """Decide on an output with a reason; then the breaker looks at its model."""
    return c.flow(flows.decide, output_id=output_id, decision=body.decision, reason=body.reason,
                  amendment=body.amendment, thresholds=_thresholds())


@router.get("/review/stats")
def review_stats(by: Literal["reviewer", "model"] = Query("reviewer"), c: Call = CallDep) -> list[dict]:
    """Acceptance rate and time to decision per reviewer or per model, with automation-bias warnings."""
    return c.run(service.review_stats, by=by, thresholds=_thresholds())


# ---- serious incidents ----------------------------------------------------------------------------------------------
@router.get("/serious-incidents")
def serious_incidents(c: Call = CallDep) -> list[dict]:
    """Every serious incident with its deadline; overdue ones first."""
    return c.run(service.list_incidents)


@router.post("/serious-incidents", status_code=201)
def record_serious_incident(body: SeriousIncident, c: Call = CallDep) -> dict:
    """Register a serious incident; the model is suspended unless keep_running says why not."""
    return c.run(service.record_incident, ref=body.model, kind=body.kind, description=body.description,
                 aware_at=body.aware_at, widespread=body.widespread, death=body.death, keep_running=body.keep_running)


@router.post("/serious-incidents/{incident_id}/reported")
def reported(incident_id: Annotated[int, Path(ge=1, le=2**62)], body: Reported, c: Call = CallDep) -> dict:
    """Mark a serious incident as reported to an authority."""
    return c.run(service.mark_reported, incident_id=incident_id, to=body.to)


# ---- reports ------------------------------------------------------------------------------------------------------
@router.get("/reports/weekly")
def weekly(week_ending: date | None = Query(None, description="last local day of the week; default today"),
           c: Call = CallDep) -> dict:
    """The weekly monitoring report (Markdown)."""
    return c.run(service.weekly_report, tz=ZoneInfo(c.store.settings.timezone), thresholds=_thresholds(),
                 week_ending=week_ending)
