"""The access module's own database: API keys (its base, its migration chain ``alembic_version_access``).
Every HTTP service authenticates against it; it may live in its own database (``CHARTERWATCH_ACCESS_DATABASE_URL``)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP

SERVICE = "access"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
