"""Read-model tables. Only the projection writes them; the API only reads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.schema import Base
from services.platform.db.types import Instant


class PetitionRow(Base):
    __tablename__ = "petitions"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)  # events applied: the case version
    status: Mapped[str] = mapped_column(String(32), nullable=False)
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
    content_fingerprint: Mapped[str] = mapped_column(Text, nullable=False, default="")  # normalised title+body
    notice_channels: Mapped[list] = mapped_column(JSON, nullable=False)
    arrived_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    received_at: Mapped[datetime | None] = mapped_column(Instant, index=True)
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    official_id: Mapped[str | None] = mapped_column(String(64), index=True)
    official: Mapped[dict | None] = mapped_column(JSON)
    guardian: Mapped[dict | None] = mapped_column(JSON)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    extensions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    statutory_due_at: Mapped[datetime | None] = mapped_column(Instant, index=True)
    target_due_at: Mapped[datetime | None] = mapped_column(Instant)
    remaining_working_seconds: Mapped[int | None] = mapped_column(Integer)
    remaining_working_days: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(Instant)
    closed_at: Mapped[datetime | None] = mapped_column(Instant)
    duplicate_of: Mapped[str | None] = mapped_column(String(64), index=True)
    calendar_version: Mapped[str | None] = mapped_column(String(120))
    # how people name the case (issue 19): null for cases filed before numbers existed
    case_number: Mapped[str | None] = mapped_column(String(80), index=True)
    receipt_number: Mapped[str | None] = mapped_column(String(64), index=True)
    last_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class PetitionAccessRow(Base):
    """Which agencies may see a case: its own, and any agency it was transferred to."""

    __tablename__ = "petition_access"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)


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
    envelope: Mapped[str] = mapped_column(Text, nullable=False)  # the event as on the log, for re-folding


class PetitionNoticeRow(Base):
    """The notices notify sent about a case (NoticeSent, from the notice topic): what discharged its notice
    clocks (``GET /v1/petitions/{id}/obligations``). One row per notice, the first NoticeSent of it."""

    __tablename__ = "petition_notices"

    notice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)  # the event as on the log


Index("ix_petitions_status_received", PetitionRow.status, PetitionRow.received_at)
Index("ix_petitions_arrived_case", PetitionRow.arrived_at, PetitionRow.case_id)
