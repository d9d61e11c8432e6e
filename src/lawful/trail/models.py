"""The decision trail's tables: entries (hash-chained) and signed checkpoints."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lawful.orm import Base


class TrailEntry(Base):
    """One link of the hash chain. Append-only: the database refuses updates and deletes (see migration 0002)."""

    __tablename__ = "audit_entries"

    # INTEGER on SQLite makes the sequence number the rowid itself: one B-tree per append, not two (migration 0013)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at_us: Mapped[int] = mapped_column(BigInteger)  # microseconds since the epoch, UTC: exact on every database
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # not indexed: nothing looks it up, and verify recomputes it


class Checkpoint(Base):
    """A signed statement 'the trail's entry SEQ has hash H', written by every transaction that appends."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at_us: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
