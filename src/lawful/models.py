"""Every table Lawful owns, gathered so Alembic sees the whole schema."""

from lawful.access.models import Token, User
from lawful.governance.models import Approval, Entry, Output, Review, SeriousIncident, StateChange
from lawful.incidents.models import Incident, Load, QuarantinedRow
from lawful.orm import Base
from lawful.patrol.models import Visit, VisitImport
from lawful.privacy.models import Breach, LegalHold, SubjectRequest
from lawful.trail.models import Checkpoint, TrailEntry
# Domains whose tables register themselves on Base when their module is imported.
from lawful.casefiles import models as _casefiles_models  # noqa: F401
from lawful.transparency import models as _transparency_models  # noqa: F401

__all__ = ["Approval", "Base", "Breach", "Checkpoint", "Entry", "Incident", "LegalHold", "Load", "Output", "QuarantinedRow", "Review",
           "SeriousIncident", "StateChange", "SubjectRequest", "Token", "TrailEntry", "User",
           "Visit", "VisitImport"]
