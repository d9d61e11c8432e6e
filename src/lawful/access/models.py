"""Who is known to Lawful: a name and the roles it holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base, JSONType, UTCDateTime

ROLES = ("admin", "analyst", "supervisor", "officer", "model-owner", "approver", "dpo", "auditor")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("clearance IN ('public', 'internal', 'confidential', 'secret')",
                                      name="ck_users_clearance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    roles: Mapped[list] = mapped_column(JSONType)
    clearance: Mapped[str] = mapped_column(String(20), server_default="internal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
