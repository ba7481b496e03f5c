"""What webhooks keeps in its own database: its declarative base (its own metadata), its consumer runtime
tables, and its migration chain (version table ``alembic_version_webhooks``). It has no outbox: it writes
nothing to the log; what it tells an agency (a subscription disabled) is a row its API shows."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from services.platform.consumer_orm import consumer_tables
from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP

SERVICE = "webhooks"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


RUNTIME = consumer_tables(Base, SERVICE)
CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
