"""Command-side tables. Written by intake only, in the transaction that appends the event."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.schema import Base
from services.platform.db.types import Instant


class StreamEventRow(Base):
    """Each case's events in version order. The primary key (case_id, version) is the concurrency guard:
    two writers deciding on the same version cannot both insert."""

    __tablename__ = "case_streams"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)  # the encoded event, as on the log


class IdempotencyRow(Base):
    """The first answer to a command sent with an Idempotency-Key, replayed to any retry."""

    __tablename__ = "idempotency_keys"

    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[dict] = mapped_column(JSON, nullable=False)
    headers: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class CaseNumberSequenceRow(Base):
    """The last case number given per (municipality, year of receipt in KST). Claimed in the command's
    transaction: an insert of the first row (conflicts ignored) and then an increment, which locks the
    row (PostgreSQL) or the database (SQLite) until the command commits, so two filings never share one."""

    __tablename__ = "case_number_sequences"

    municipality_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False)


class CaseNumberRow(Base):
    """Each case number given, once: the unique constraints are the last guard against a number given twice."""

    __tablename__ = "case_numbers"
    __table_args__ = (UniqueConstraint("municipality_id", "year", "sequence", name="uq_case_numbers_sequence"),)

    case_number: Mapped[str] = mapped_column(String(80), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    municipality_id: Mapped[str] = mapped_column(String(64), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
