"""The consumer runtime's tables: positions committed with results, and the events a case holds back.

Every service whose consumer decides in SQL has its own pair (``<service>_consumer_positions``,
``<service>_consumer_held_events``) in its own database, written in the same transaction as its
results, so a redelivered batch finds its effects already there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.db.types import Instant


class PositionRecord:
    """The next offset a consumer reads in one partition of one topic."""

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(Integer, nullable=False)


class HeldRecord:
    """An event a consumer could not act on yet, kept durably in arrival order per case.

    ``state``: ``waiting`` (facts from another topic are missing: retried when the case moves),
    ``parked`` (a failure that repeated: on the dead-letter topic, the case waits for an operator),
    ``held`` (a later event of a parked case: kept behind it so the case's order is never broken).
    """

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str] = mapped_column(String(200), nullable=False)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    partition: Mapped[int] = mapped_column(Integer, nullable=False)
    offset: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entry_id: Mapped[str | None] = mapped_column(String(36))  # the dead-letter entry, when parked
    held_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


@dataclass(frozen=True)
class ConsumerTables:
    """One service's pair of runtime tables, as mapped classes."""

    service: str
    position: type[PositionRecord]
    held: type[HeldRecord]


def consumer_tables(base: Any, service: str) -> ConsumerTables:
    name = service.title().replace("_", "")
    position = type(f"{name}ConsumerPosition", (PositionRecord, base),
                    {"__tablename__": f"{service}_consumer_positions"})
    held = type(f"{name}HeldEvent", (HeldRecord, base), {
        "__tablename__": f"{service}_consumer_held_events",
        "__table_args__": (Index(f"ix_{service}_held_consumer_case", "consumer", "case_id", "seq"),),
    })
    return ConsumerTables(service, position, held)
