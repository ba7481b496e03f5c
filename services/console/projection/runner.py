"""The console projection on the one consumer runtime: its rows and its positions commit together."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from services.console.projection.handler import ProjectionHandler
from services.console.schema import RUNTIME
from services.platform.consumer import Consumer, ConsumerMetrics
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from shared.charters import CharterBook
from shared.working_time import WorkingCalendar

NAME = "console"  # the consumer's name: its positions, held events and dead-letter entries


def projection_consumer(log: EventLog, topics: Topics, sessions: sessionmaker, calendar: WorkingCalendar,
                        charters: CharterBook, clock: Callable[[], datetime],
                        metrics: ConsumerMetrics | None = None) -> Consumer:
    """The petition topic first: each poll reads facts before the derived events that wait for them."""
    return Consumer(NAME, log, [topics.petition_events, topics.sla_events, topics.compensation_events,
                                topics.notice_events], sessions, RUNTIME, ProjectionHandler(calendar, charters),
                    topics.dead_letter, topics.dead_letter_decisions, clock, metrics=metrics)
