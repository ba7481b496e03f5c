"""The vault's own database: each case's data key, wrapped by the keyring; destroyed on erasure.
Its own base and migration chain (``alembic_version_vault``); ``CHARTERWATCH_VAULT_DATABASE_URL``."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP, Instant

SERVICE = "vault"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


class CaseKeyRow(Base):
    """A case's data key, wrapped (sealed under a keyring key); None once erased, the row kept as proof."""

    __tablename__ = "case_keys"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wrapped: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    erased_at: Mapped[datetime | None] = mapped_column(Instant)
    erased_because: Mapped[str | None] = mapped_column(String(200))


CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
