"""Notify's tables. Contact details and message bodies in delivery records are sealed (AES-GCM,
the case id as associated data), as intake seals the applicant."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.notify.schema import Base
from services.platform.db.types import Instant


class NotifyCaseEventRow(Base):
    """The events of each case notify has seen, folded to render a notice (title, official, deadline)."""

    __tablename__ = "notify_case_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)


class NoticeDeliveryRow(Base):
    """One notice on one channel; its id is derived from the cause, so it is sent at most once."""

    __tablename__ = "notice_deliveries"

    notice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    cause_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    template_id: Mapped[str] = mapped_column(String(32), nullable=False)
    template_version: Mapped[str] = mapped_column(String(16), nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    message_sealed: Mapped[dict] = mapped_column(JSON, nullable=False)  # subject and text
    contact_sealed: Mapped[dict | None] = mapped_column(JSON)  # phone or e-mail address
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending / sent / failed / unreachable
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    # Why it failed, classified (services/notify/failures.py): never the provider's text, which may echo the
    # contact. ``last_error`` is the class's fixed description.
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(40))
    error_provider: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_retryable: Mapped[bool | None] = mapped_column(Boolean)
    queued_seq: Mapped[int | None] = mapped_column(BigInteger)  # the order deliveries were decided in
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class InboxMessageRow(Base):
    """The homepage inbox (홈페이지 알림함): what the citizen's portal shows, by applicant reference."""

    __tablename__ = "inbox_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    applicant_ref: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
