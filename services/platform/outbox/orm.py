"""The outbox table: each service that decides in SQL and publishes has its own (``<service>_outbox``),
in its own metadata, so its state and its outgoing events commit in one transaction of its own database."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.db.types import Instant


class OutboxRecord:
    """The columns of every service's outbox (a mixin: ``outbox_table`` maps it onto a service's base)."""

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the order to publish in
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime | None] = mapped_column(Instant)  # for the relay's age metric


def outbox_table(base: Any, service: str) -> type[OutboxRecord]:
    """The outbox of ``service`` as a mapped class on the service's declarative ``base``."""
    return type(f"{service.title().replace('_', '')}OutboxRow", (OutboxRecord, base), {
        "__tablename__": f"{service}_outbox",
        "__table_args__": (Index(f"ix_{service}_outbox_unpublished", "published", "seq"),),
    })
