"""Webhooks' tables: subscriptions and their secrets (sealed), the deliveries and each attempt, what it knows of
each case (its handling agency by case version, its municipality and type), and the notices an agency's API
shows (a subscription disabled after failing for days)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.webhooks.schema import Base


class SubscriptionRow(Base):
    __tablename__ = "webhooks_subscriptions"

    webhook_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    event_types: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    municipality_ids: Mapped[list[str] | None] = mapped_column(JSON)  # None: any
    petition_types: Mapped[list[str] | None] = mapped_column(JSON)
    obligation_kinds: Mapped[list[str] | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]  # the first failed attempt since the last success
    last_success_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class SecretRow(Base):
    """A signing secret, sealed with the platform keyring (AES-256-GCM, its id as associated data): it must be
    usable to sign, so it is encrypted, never only hashed. ``expires_at``: set when a newer secret replaced it."""

    __tablename__ = "webhooks_secrets"

    secret_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    sealed: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime | None]


class DeliveryRow(Base):
    """One event for one subscription. ``seq`` orders a case's deliveries: the sender sends a case's next one
    only once the one before succeeded or was given up. ``dedup_key``: the event id (one delivery per event and
    subscription, however often the log redelivers it), or the event id and a redelivery's id."""

    __tablename__ = "webhooks_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "dedup_key", name="uq_webhooks_delivery_event"),
        Index("ix_webhooks_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhooks_deliveries_case", "webhook_id", "case_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    webhook_id: Mapped[str] = mapped_column(String(36), nullable=False)
    dedup_key: Mapped[str] = mapped_column(String(80), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # the exact bytes sent (signed)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending, succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_attempt_at: Mapped[datetime | None]  # the retry window counts from here
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(40))  # a class, never a response body
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    settled_at: Mapped[datetime | None]
    redelivery_of: Mapped[str | None] = mapped_column(String(36))


class AttemptRow(Base):
    __tablename__ = "webhooks_attempts"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(40))
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)


class CaseRow(Base):
    """What the worker knows of a case from its petition facts: enough to filter, and the last fact's version."""

    __tablename__ = "webhooks_cases"

    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    municipality_id: Mapped[str] = mapped_column(String(64), nullable=False)
    petition_type: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class CaseAgencyRow(Base):
    """The agency handling a case from a case version on: the filing agency, then each it was transferred to."""

    __tablename__ = "webhooks_case_agencies"

    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    from_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)


class NoticeRow(Base):
    """What webhooks tells an agency (``GET /v1/webhook-notices``): a subscription disabled automatically."""

    __tablename__ = "webhooks_notices"

    notice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    webhook_id: Mapped[str] = mapped_column(String(36), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
