"""Read-model tables. Only the projection writes them; the API only reads."""
from __future__ import annotations

from datetime import datetime

from datetime import timezone

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.instants import KST


class Instant(TypeDecorator[datetime]):
    """An aware instant: stored in UTC, read back in KST. SQLite keeps no offset, so UTC is implied there."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an Instant column")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(KST)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: Instant}


class PetitionRow(Base):
    __tablename__ = "petitions"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)  # events applied to this case
    state: Mapped[str] = mapped_column(String(32), nullable=False)
    municipality_id: Mapped[str] = mapped_column(String(64), nullable=False)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    charter_id: Mapped[str | None] = mapped_column(String(64))
    charter_version: Mapped[str | None] = mapped_column(String(32))
    petition_type: Mapped[str] = mapped_column(String(32), nullable=False)
    petition_kind: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    applicant_sealed: Mapped[dict] = mapped_column(JSON, nullable=False)  # encrypted; see shared.sealing
    applicant_ref: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    notice_channels: Mapped[list] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(Instant, nullable=False, index=True)
    statutory_due_at: Mapped[datetime | None] = mapped_column(Instant)
    calendar_version: Mapped[str | None] = mapped_column(String(120))
    last_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class TimelineRow(Base):
    __tablename__ = "timeline"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    producer: Mapped[str] = mapped_column(String(64), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")


class ProjectionPosition(Base):
    """Where a projection stands in the log, committed in the same transaction as its rows."""

    __tablename__ = "projection_positions"

    projection: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(Integer, nullable=False)


Index("ix_petitions_state_received", PetitionRow.state, PetitionRow.received_at)
