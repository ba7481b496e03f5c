"""Ledger tables. Uniqueness rules, not application checks, make a second voucher for the same
(case, cause) impossible, even under redelivery or two consumers racing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.compensation.schema import Base
from services.platform.db.types import Instant


class CompensationCaseRow(Base):
    """What compensation needs to know of a case: who may see it and when it was resolved."""

    __tablename__ = "compensation_cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    charter_id: Mapped[str | None] = mapped_column(String(64))
    charter_version: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(Instant)
    handling_agency: Mapped[str | None] = mapped_column(String(64))  # after a transfer to another agency
    official_id: Mapped[str | None] = mapped_column(String(64))  # assigned now ("" none; NULL: not followed)
    petition_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class VoucherRow(Base):
    __tablename__ = "vouchers"
    __table_args__ = (UniqueConstraint("case_id", "cause", name="uq_voucher_case_cause"),
                      Index("ix_vouchers_status_month", "status", "batch_month"))

    voucher_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    cause: Mapped[str] = mapped_column(String(32), nullable=False)
    cause_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    charter_id: Mapped[str] = mapped_column(String(64), nullable=False)
    charter_version: Mapped[str] = mapped_column(String(32), nullable=False)
    promise_id: Mapped[str] = mapped_column(String(32), nullable=False)
    amount_won: Mapped[int] = mapped_column(Integer, nullable=False)
    voucher_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    approval: Mapped[str] = mapped_column(String(32), nullable=False)
    payment: Mapped[str] = mapped_column(String(32), nullable=False)
    settled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # proposed/approved/issued/delivered/cancelled
    official_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime | None] = mapped_column(Instant)  # the breached deadline, for lateness
    same_day: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    batch_month: Mapped[str | None] = mapped_column(String(7))
    proposed_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    approved_at: Mapped[datetime | None] = mapped_column(Instant)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None] = mapped_column(Instant)
    delivered_at: Mapped[datetime | None] = mapped_column(Instant)
    cancelled_at: Mapped[datetime | None] = mapped_column(Instant)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class VoucherTransitionRow(Base):
    """Every state a voucher passed through, with who moved it: the ledger is never rewritten."""

    __tablename__ = "voucher_transitions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the order they happened in
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    voucher_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    amount_won: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class RemedyActionRow(Base):
    """Apologies owed, retraining orders and personnel-action referrals, each once (deterministic id)."""

    __tablename__ = "remedy_actions"

    action_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # apology / retraining / referral
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    official_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cause: Mapped[str] = mapped_column(String(32), nullable=False)
    cause_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    promise_id: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class StrikeRow(Base):
    """A confirmed discourtesy by an official (D11, Y4); withdrawn strikes stay, marked. An official is
    the agency's own (its case's agency): strikes are counted per (agency, official)."""

    __tablename__ = "strikes"
    __table_args__ = (Index("ix_strikes_agency_official", "agency_id", "official_id"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)
    official_id: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)
    confirmed_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(Instant)


class OfficialLockRow(Base):
    """One row per (agency, official), locked while a strike is counted, so two consumers cannot both miss
    the third."""

    __tablename__ = "official_locks"

    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    official_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class CaseAccessRow(Base):
    """Which agencies may see and act on a case's remedies: the one that filed it and any it was transferred
    to (Decree 13), the same rule as every other service's reads and writes."""

    __tablename__ = "compensation_case_access"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
