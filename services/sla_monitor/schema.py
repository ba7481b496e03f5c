"""What the embedded SLA monitor keeps in its own database: its consumer runtime tables (on their own
base and migration chain, version table ``alembic_version_sla_monitor``). It has no outbox: it appends
its events directly, their ids derived from their cause, and consumers deduplicate. The faust worker
keeps its state in its table's changelog instead."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from services.platform.consumer_orm import consumer_tables
from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP

SERVICE = "sla_monitor"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


RUNTIME = consumer_tables(Base, SERVICE)
CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
