"""Tables of the transparency domain: complaints and appeals (with the notes exchanged on them) and subject
requests made from the public side. The register itself has no table: it is generated from the registry on every
request, and the published trail heads are the trail's own signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, JSONType, UTCDateTime


class Complaint(Base):
    """A complaint about a system, or an appeal against a decision that affected the person. The person holds a
    reference and a secret tracking code; only the code's SHA-256 is stored, and their contact details only as a
    keyed pseudonym (like any personal field)."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # complaint | appeal
    system: Mapped[str | None] = mapped_column(String(100), index=True)  # registry entry name, if one is named
    what: Mapped[str] = mapped_column(Text)  # the person's own account
    decision: Mapped[str] = mapped_column(Text, default="")  # an appeal: the decision appealed (when, where, what)
    occurred_on: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD, as the person gave it
    contact_pseudonym: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # received | assigned | resolved
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    links: Mapped[list] = mapped_column(JSONType, default=list)  # [{"kind": "output"|"alert"|"model"|..., "ref"}]
    outcome: Mapped[str | None] = mapped_column(String(20))  # upheld | partly-upheld | not-upheld
    reasons: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list] = mapped_column(JSONType, default=list)  # what was done when upheld
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintNote(Base):
    """Information added to a complaint: by the person (with their reference and code), or by staff (a message to
    the person, or an internal note they never see)."""

    __tablename__ = "complaint_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    by: Mapped[str] = mapped_column(String(100))  # "the person" or a staff member's name
    text: Mapped[str] = mapped_column(Text)
    visible: Mapped[bool] = mapped_column(Boolean, default=True)  # shown to the person on the tracking page
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicRequest(Base):
    """A data-subject request opened from the public form: its reference and the hash of its tracking code, the
    subject request it opened (privacy.requests), and where the agency's identity check stands."""

    __tablename__ = "public_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(ForeignKey("subject_requests.id"), index=True)
    identity: Mapped[str] = mapped_column(String(20))  # pending | verified | refused
    identity_note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
