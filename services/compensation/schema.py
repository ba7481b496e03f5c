"""What compensation keeps in its own database: its declarative base (its own metadata), its outboxes and its
consumer runtime tables, and its migration chain (version table ``alembic_version_compensation``).

Two consumers, each with its own runtime tables: the ledger (by case) and the strike counter (by
official). Two outboxes: remedies go to the compensation topic keyed by case, findings (strikes) to
the findings topic keyed ``agency/official``."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.platform.consumer_orm import consumer_tables
from services.platform.db.engine import Chain
from services.platform.db.types import TYPE_MAP
from services.platform.outbox.orm import OutboxRecord, outbox_table

SERVICE = "compensation"


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


OutboxRow = outbox_table(Base, SERVICE)
RUNTIME = consumer_tables(Base, SERVICE)
STRIKES_RUNTIME = consumer_tables(Base, "strike_counter")


class FindingOutboxRow(OutboxRecord, Base):
    """Strikes and their withdrawals for the findings topic; ``case_id`` holds the key, ``agency/official``."""

    __tablename__ = "compensation_findings_outbox"
    __table_args__ = (Index("ix_compensation_findings_outbox_unpublished", "published", "seq"),)

    case_id: Mapped[str] = mapped_column(String(200), nullable=False)
CHAIN = Chain(SERVICE, Path(__file__).resolve().parent / "migrations")
