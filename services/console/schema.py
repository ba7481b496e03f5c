"""What the console keeps in its own database: its declarative base (its own metadata), its consumer
runtime tables (the projection it reads from the log), and its migration chain (version table
``alembic_version_console``)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from services.platform.consumer_orm import consumer_tables
from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP

SERVICE = "console"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


RUNTIME = consumer_tables(Base, SERVICE)
CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
