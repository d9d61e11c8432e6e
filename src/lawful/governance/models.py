"""Tables of the registry, the gate, human review, the breaker, serious incidents and the trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, JSONType, UTCDateTime


class Entry(Base):
    """One version of a model or rule set, with its card and where it is in its lifecycle."""

    __tablename__ = "registry_entries"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_registry_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # forecast-model | rule-set
    tier: Mapped[str] = mapped_column(String(10))  # low | medium | high
    owner: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    state_reason: Mapped[str] = mapped_column(Text, default="")
    card: Mapped[dict] = mapped_column(JSONType)
    evaluation: Mapped[dict | None] = mapped_column(JSONType)
    exposure: Mapped[dict | None] = mapped_column(JSONType)
    fria: Mapped[dict | None] = mapped_column(JSONType)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    round: Mapped[int] = mapped_column(Integer, default=1)  # approvals count within a round; reinstating starts one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


class Approval(Base):
    """One approver's decision on an entry: what it covers, until when, and why."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("registry_entries.id"), index=True)
    approver: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(20))  # approved | sandbox
    reason: Mapped[str] = mapped_column(Text)
    purposes: Mapped[list] = mapped_column(JSONType)
    areas: Mapped[list] = mapped_column(JSONType)  # empty: the whole jurisdiction
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    round: Mapped[int] = mapped_column(Integer, default=1)  # reinstating after a suspension starts a new round


class StateChange(Base):
    """Every lifecycle move, including the breaker's (automatic or not), for the weekly report."""

    __tablename__ = "state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("registry_entries.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Output(Base):
    """What the gate let out: a recommendation until a named person decides on it."""

    __tablename__ = "outputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("registry_entries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # forecast | alert
    purpose: Mapped[str] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))  # e.g. "Break and Enter 2019-12-24"
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sandbox: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[dict] = mapped_column(JSONType)
    explanation: Mapped[list] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | accepted | rejected | amended
    # the classification of the data it was made from: reading or deciding it needs that clearance (migration 0016)
    classification: Mapped[str] = mapped_column(String(20), default="internal", server_default="internal")


class Review(Base):
    """The human decision on one output."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), unique=True)
    reviewer: Mapped[str] = mapped_column(String(100), index=True)
    decision: Mapped[str] = mapped_column(String(20))  # accepted | rejected | amended
    reason: Mapped[str] = mapped_column(Text)
    amendment: Mapped[dict | None] = mapped_column(JSONType)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float)  # from the reviewer's first reading (0: never opened it)


class OutputRead(Base):
    """When a person first read an output: a decision's time is counted from it (the automation-bias watch)."""

    __tablename__ = "output_reads"

    output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), primary_key=True)
    reader: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeriousIncident(Base):
    """A serious incident involving a model, with its reporting deadline counted from awareness."""

    __tablename__ = "serious_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("registry_entries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    widespread: Mapped[bool] = mapped_column(Boolean)
    death: Mapped[bool] = mapped_column(Boolean)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_to: Mapped[str | None] = mapped_column(String(200))
