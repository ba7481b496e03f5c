"""Column types every service's tables share. Each service declares its own base, so its own metadata
and its own migration chain: ``class Base(DeclarativeBase): type_annotation_map = TYPE_MAP``."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from shared.instants import KST


class Instant(TypeDecorator[datetime]):
    """An aware instant: stored in UTC, read back in KST. SQLite keeps no offset, so UTC is implied there."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an Instant column")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(KST)


TYPE_MAP: dict[Any, Any] = {datetime: Instant}
