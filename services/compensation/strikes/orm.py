"""The strike counter's own table: each official's strikes, as read from the findings topic."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.compensation.schema import Base
from services.platform.db.types import Instant


class OfficialStrikeRow(Base):
    """A strike against an agency's official (the finding's event id: counted once however often read);
    a withdrawn one stays, marked. Only the counter (partitioned by official) writes it: no lock needed."""

    __tablename__ = "official_strikes"
    __table_args__ = (Index("ix_official_strikes_agency_official", "agency_id", "official_id", "confirmed_at"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)
    official_id: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)
    confirmed_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(Instant)
    # what a referral at this strike carries: the finding's place in its case and its charter
    case_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    charter_id: Mapped[str | None] = mapped_column(String(64))
    charter_version: Mapped[str | None] = mapped_column(String(32))
