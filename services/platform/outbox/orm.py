"""The outbox table, shared by every service that decides in SQL and publishes to the log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.db.types import Base, Instant


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "producer", "published", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    producer: Mapped[str] = mapped_column(String(32), nullable=False)  # intake, compensation, notify
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime | None] = mapped_column(Instant)  # for the relay's age metric
