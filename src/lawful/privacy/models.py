"""Legal holds: records that must not be purged while a case, complaint or request needs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, JSONType, UTCDateTime


class LegalHold(Base):
    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str | None] = mapped_column(String(100))  # None: every category
    area: Mapped[str | None] = mapped_column(String(200))  # None: every area
    occurred_from: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_to: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(100))


class SubjectRequest(Base):
    """A data-subject request: only the requester's pseudonym is stored, never the identity itself."""

    __tablename__ = "subject_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # access | correction | deletion
    field: Mapped[str] = mapped_column(String(100))
    pseudonym: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # open | done
    note: Mapped[str] = mapped_column(Text, default="")
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[dict | None] = mapped_column(JSONType)
    # the identity's pseudonyms in case files (casefiles.identify.subject_pseudonyms; migration 0018)
    case_pseudonyms: Mapped[list | None] = mapped_column(JSONType)


class Breach(Base):
    """A suspected personal-data breach: what and whom it touched (computed from the trail) and the deadline to
    notify the supervisory authority, counted from awareness."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    suspect: Mapped[str | None] = mapped_column(String(100))  # whose activity is suspected, if known
    window_from: Mapped[datetime] = mapped_column(UTCDateTime())
    window_to: Mapped[datetime] = mapped_column(UTCDateTime())
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    affected: Mapped[dict] = mapped_column(JSONType)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_to: Mapped[str | None] = mapped_column(String(200))
