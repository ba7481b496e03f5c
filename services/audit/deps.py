"""What the audit uses, handed over by the composition root: the log and the rules to re-derive with.
The audit keeps no database: everything it says is re-derived from the log."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from shared.charters import CharterBook
from shared.working_time import WorkingCalendar


@dataclass(frozen=True)
class Audit:
    log: EventLog
    topics: Topics
    calendar: WorkingCalendar
    charters: CharterBook
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
