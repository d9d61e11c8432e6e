"""Tables of the incident store: incidents, the loads that brought them, and the rows a load refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, JSONType, UTCDateTime

CLASSIFICATIONS = ("public", "internal", "confidential", "secret")


class Load(Base):
    """One attempt to load one file; kept even when it added nothing, so every load can be accounted for."""

    __tablename__ = "loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mapping_name: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rows_read: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    already_present: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    dropped_columns: Mapped[list] = mapped_column(JSONType)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        # a constraint on PostgreSQL; on SQLite a unique index of the same name (migration 0014), which a large
        # first load of a source can drop and build again at its end (incidents.store.Stage)
        UniqueConstraint("source", "source_key", name="uq_incidents_source_key"),
        Index("ix_incidents_category_occurred", "category", "occurred_at"),
        Index("ix_incidents_occurred", "occurred_at"),
        CheckConstraint(f"classification IN {CLASSIFICATIONS!r}", name="ck_incidents_classification"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    occurred_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)  # metres in the jurisdiction's projected CRS
    y: Mapped[float] = mapped_column(Float)
    area_code: Mapped[str | None] = mapped_column(String(200))
    premises_type: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict | None] = mapped_column(JSONType)
    classification: Mapped[str] = mapped_column(String(20))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retention_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.id"))


class QuarantinedRow(Base):
    """A row a load refused. Only the offending value is kept: undeclared columns must not be stored anywhere."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
