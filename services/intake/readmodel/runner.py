"""The petition projection on the consumer runtime: rows and positions commit together (exactly-once into SQL)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from services.intake.readmodel.projection import PetitionProjection
from services.intake.schema import RUNTIME
from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from shared.events import Envelope

log = get_logger("projection")
NAME = "projection"


class ProjectionHandler:
    def __init__(self, projection: PetitionProjection) -> None:
        self.projection = projection
        self.applied = 0

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if self.projection.apply(session, env, raw):
            self.applied += 1
            log.info("event_projected", case_id=env.case_id, event_type=env.event_type)
        return None


def notice_topic_beside(petition_topic: str) -> str | None:
    """The notice topic under the same prefix as ``petition_topic`` (None for a name of another scheme)."""
    base = Topics().petition_events
    return Topics(petition_topic[:-len(base)]).notice_events if petition_topic.endswith(base) else None


class ProjectionRunner:
    """The projection as a supervised loop (``run``/``stop``), on the one consumer runtime. It reads the
    petition topic and the notice topic (the notices notify sent discharge a case's notice clocks:
    ``GET /v1/petitions/{id}/obligations``); ``notice_topic`` defaults to the one beside the petition topic."""

    def __init__(self, event_log: EventLog, topic: str, sessions: sessionmaker, projection: PetitionProjection,
                 dead_letter_topic: str, decisions_topic: str | None = None, name: str = NAME,
                 metrics: ConsumerMetrics | None = None, dead_letter_log: EventLog | None = None,
                 notice_topic: str | None = None) -> None:
        self.projection = projection
        self.handler = ProjectionHandler(projection)
        notices = notice_topic or notice_topic_beside(topic)
        self.consumer = Consumer(name, event_log, [topic, *([notices] if notices else [])], sessions, RUNTIME,
                                 self.handler, dead_letter_topic, decisions_topic, metrics=metrics,
                                 dead_letter_log=dead_letter_log)

    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False,
            progress: Callable[[int], None] | None = None) -> int:
        """Project until stopped (or until the log's end at start). Returns the events that changed rows
        (a redelivered event changes none)."""
        before = self.handler.applied
        self.consumer.run(poll_timeout, until_caught_up, progress)
        return self.handler.applied - before

    def stop(self) -> None:
        self.consumer.stop()
