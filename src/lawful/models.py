"""Every table Lawful owns, gathered so Alembic sees the whole schema."""

from lawful.access.models import Token, User
from lawful.governance.models import (Approval, Checkpoint, Entry, Output, Review, SeriousIncident, StateChange,
                                      TrailEntry)
from lawful.incidents.models import Incident, Load, QuarantinedRow
from lawful.orm import Base
from lawful.privacy.models import Breach, LegalHold, SubjectRequest

__all__ = ["Approval", "Base", "Breach", "Checkpoint", "Entry", "Incident", "LegalHold", "Load", "Output", "QuarantinedRow", "Review",
           "SeriousIncident", "StateChange", "SubjectRequest", "Token", "TrailEntry", "User"]
