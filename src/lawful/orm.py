"""Declarative base and column types shared by every domain's tables."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back tz-aware (SQLite has no time zones of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


def as_it_stands(session, model, ident: int, *, shared: bool = False):
    """The row `ident` of `model` read again from the database (the session's copy refreshed) and locked until the
    commit (FOR UPDATE; FOR SHARE with `shared`): a decision on it is made on what another transaction committed
    meanwhile, never on what this one first read (PostgreSQL under READ COMMITTED; SQLite's writer runs alone)."""
    from sqlalchemy import select

    return session.execute(select(model).where(model.id == ident).with_for_update(read=shared)
                           .execution_options(populate_existing=True)).scalar_one_or_none()

