"""Every table Lawful owns, gathered so Alembic sees the whole schema."""

from lawful.incidents.models import Incident, Load, QuarantinedRow
from lawful.orm import Base

__all__ = ["Base", "Incident", "Load", "QuarantinedRow"]
