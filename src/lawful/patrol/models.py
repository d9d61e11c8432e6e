"""Tables of patrol dosage: each import of a visit log, and the visits it held. A plan itself is a governance
output (kind "plan"): its assignments live in the output's payload, decided through review like any output."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, UTCDateTime


class VisitImport(Base):
    """One visit log imported against a plan: the file's name and SHA-256, who imported it and when."""

    __tablename__ = "patrol_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Visit(Base):
    """One delivered visit: which unit was in which cell from when to when, and whether the plan asked for it."""

    __tablename__ = "patrol_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("patrol_imports.id"), index=True)
    plan_output_id: Mapped[int] = mapped_column(ForeignKey("outputs.id"), index=True)
    unit: Mapped[str] = mapped_column(String(100))
    cell: Mapped[str] = mapped_column(String(30))  # "col,row" on the forecast's grid
    arrive: Mapped[datetime] = mapped_column(UTCDateTime())
    depart: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[float] = mapped_column(Float)
    in_plan: Mapped[bool] = mapped_column(Boolean)  # the plan assigned this cell to this unit
