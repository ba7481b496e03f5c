"""What intake keeps in its own database: its declarative base (its own metadata), its outbox and its
consumer runtime tables, and its migration chain (version table ``alembic_version_intake``)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from services.platform.consumer_orm import consumer_tables
from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP
from services.platform.outbox.orm import outbox_table

SERVICE = "intake"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


OutboxRow = outbox_table(Base, SERVICE)
RUNTIME = consumer_tables(Base, SERVICE)
CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
