"""Case files: import, structuring suggestions, inconsistencies, linkage and disclosure exports (docs/casefiles.md).
Parse, call a casefiles service or flow, return JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from lawful.casefiles import flows, service
from lawful.errors import InputError
from lawful.web.deps import Call, CallDep

router = APIRouter(tags=["casefiles"])

CaseRef = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                              description="the case's reference")]
Purpose = Query(service.PURPOSE, min_length=1, max_length=200,
                description="why you are reading: investigation, or investigation CASE-REF")
MAX_FILES = 200


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnalyseIn(Strict):
    assistant: str = Field(flows.ASSISTANT, min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+(:[0-9]{1,9})?$",
                           description="the assistant's registry entry")
    purpose: str = Field(service.PURPOSE, min_length=1, max_length=200)


class DecisionIn(Strict):
    decision: Literal["accepted", "rejected", "amended"]
    reason: str = Field(min_length=1, max_length=2000)
    amendment: dict | None = Field(None, description="the corrected content, for an amendment")


class PurposeIn(Strict):
    purpose: str = Field(service.PURPOSE, min_length=1, max_length=200)


class ReidentifyIn(Strict):
    pseudonym: str = Field(pattern=r"^psn:[0-9a-f]{32}$", description="as it stands in the text: psn:...")
    purpose: str = Field(service.PURPOSE, min_length=1, max_length=200)


@router.post("/casefiles/imports", status_code=201)
def import_statements(files: list[UploadFile] = File(..., description="JSONL, CSV or plain-text statement files"),
                      classification: Literal["public", "internal", "confidential", "secret"] = Form("confidential"),
                      purpose: str = Form(service.PURPOSE, min_length=1, max_length=200),
                      case: str | None = Form(None, max_length=100, description="plain text: the case, unless the "
                                              "file says `Case: ...`"),
                      statement: str | None = Form(None, max_length=100),
                      role: Literal["victim", "witness", "officer", "suspect"] | None = Form(None),
                      stated: date | None = Form(None, description="plain text: the statement's date"),
                      c: Call = CallDep) -> dict:
    """Import statements; names, phone numbers, ID numbers, plates and e-mail addresses are replaced by keyed
    pseudonyms (originals sealed). All or nothing: a bad row is named and nothing is written."""
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files in one import", f"send at most {MAX_FILES}")
    read = []
    total = 0
    for f in files:
        data = f.file.read(service.MAX_FILE + 1)
        total += len(data)
        if len(data) > service.MAX_FILE or total > 4 * service.MAX_FILE:
            raise InputError(f"{(f.filename or 'a file')[:100]} makes the import larger than allowed",
                             f"send files of at most {service.MAX_FILE >> 20} MB, {4 * service.MAX_FILE >> 20} MB "
                             "in all")
        read.append(((f.filename or "statement.txt")[:300], data))
    defaults = {k: v for k, v in {"case": case, "statement": statement, "role": role,
                                  "date": stated.isoformat() if stated else None}.items() if v}
    return c.run(service.import_statements, files=read, settings=c.store.settings, classification=classification,
                 purpose=purpose, defaults=defaults)


@router.get("/casefiles/cases")
def list_cases(purpose: str = Purpose, c: Call = CallDep) -> list[dict]:
    """The cases you may read, with their number of statements."""
    return c.run(service.list_cases, purpose=purpose)


@router.get("/casefiles/cases/{ref}")
def show_case(ref: CaseRef, purpose: str = Purpose, c: Call = CallDep) -> dict:
    """A case's statements (pseudonymised) and its case file: the suggestions a person accepted or amended."""
    return c.run(service.show_case, ref=ref, purpose=purpose)


@router.post("/casefiles/cases/{ref}/analysis", status_code=201)
def analyse(ref: CaseRef, body: AnalyseIn, c: Call = CallDep) -> dict:
    """Run the registered assistant over a case: suggested fields, inconsistencies and similar cases, each an
    output of kind "casefile" waiting for a person's decision."""
    return c.flow(flows.analyse, ref=ref, assistant=body.assistant, purpose=body.purpose)


@router.get("/casefiles/cases/{ref}/suggestions")
def suggestions(ref: CaseRef, status: Literal["open", "accepted", "rejected", "amended"] | None = Query(None),
                purpose: str = Purpose, c: Call = CallDep) -> list[dict]:
    """The assistant's suggestions for a case, with their explanations and status."""
    return c.run(service.suggestions, ref=ref, status=status, purpose=purpose)


@router.post("/casefiles/suggestions/{output_id}/decision")
def decide(output_id: Annotated[int, Path(ge=1, le=2**62)], body: DecisionIn, c: Call = CallDep) -> dict:
    """Accept, amend or reject one suggestion, with a reason; only accepted or amended ones enter the case file.
    Then the breaker looks at the assistant, as after every decision."""
    from lawful.governance.policy import Thresholds

    return c.flow(flows.decide, output_id=output_id, decision=body.decision, reason=body.reason,
                  amendment=body.amendment, thresholds=Thresholds.from_env())


@router.post("/casefiles/cases/{ref}/disclosure")
def disclosure(ref: CaseRef, body: PurposeIn, c: Call = CallDep) -> dict:
    """The case redacted for disclosure (the same person "Person A" throughout); the redaction log is on the
    trail."""
    return c.run(service.disclosure, ref=ref, purpose=body.purpose)


@router.post("/casefiles/cases/{ref}/reidentify")
def reidentify(ref: CaseRef, body: ReidentifyIn, c: Call = CallDep) -> dict:
    """The original forms of one pseudonym (casefiles.reidentify, for an investigation; on the trail)."""
    return c.run(service.reidentify, ref=ref, pseudonym_=body.pseudonym, purpose=body.purpose,
                 settings=c.store.settings)
