"""Tables of the case-file domain: cases, their statements (text stored pseudonymised) and the sealed originals of
the identifiers found in them. Suggestions are governance outputs (kind "casefile", subject "case REF"), decided
through review: the case file is what a person accepted or amended, nothing else."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, UTCDateTime


class Case(Base):
    """One case: its reference and classification, who opened it and when."""

    __tablename__ = "casefile_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    classification: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Statement(Base):
    """One statement of a case: who gave it (role only), on what day, and its text with every personal identifier
    replaced by a keyed pseudonym ([NAME psn:...])."""

    __tablename__ = "casefile_statements"
    __table_args__ = (UniqueConstraint("case_id", "ref", name="uq_casefile_statement"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("casefile_cases.id"), index=True)
    ref: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # victim | witness | officer | suspect
    stated_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # of the original text, to recognise a re-import
    source: Mapped[str] = mapped_column(String(300))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Identifier(Base):
    """The original forms of one pseudonym in one case, sealed under the server's secrets key: readable only through
    governed re-identification (casefiles.reidentify, for an investigation, on the trail)."""

    __tablename__ = "casefile_identifiers"
    __table_args__ = (UniqueConstraint("case_id", "pseudonym", name="uq_casefile_identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("casefile_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # name | phone | id | plate | email
    pseudonym: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[str] = mapped_column(Text)
