"""The API keys table: one row per integrating agency's key; only a hash of the secret is kept."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.access.schema import Base
from services.platform.db.types import Instant


class ApiKeyRow(Base):
    """An integrating agency's API key; only a hash of the secret is stored."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant)
