"""Case files: import, structuring suggestions, inconsistencies, linkage and disclosure exports (docs/casefiles.md).
Parse, call a casefiles service or flow, return JSON."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["casefiles"])
