"""Who is known to Lawful: a name, the roles it holds, and how the person signs in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
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
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id, never the password
    # the one-time-code seed, sealed (Fernet) with the key in LAWFUL_SECRETS_KEY; required for admin, approver, dpo
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first sign-in with a valid code
    # the time step (30 s) of the last code accepted: that step and earlier ones are refused (RFC 6238 5.2: no replay)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enrol_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the one-time enrolment code, never the code
    enrol_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Token(Base):
    """An opaque session or API token, stored only as its SHA-256: the database never holds a usable token."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # session | api
    scope: Mapped[str] = mapped_column(String(10), server_default="full")  # read | full
    label: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
