"""Runs a projection over the log, committing its position with its rows (exactly-once into SQL)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.eventlog.deadletter import DeadLetters
from services.eventlog.port import EventLog
from services.intake.readmodel.orm import ProjectionPosition
from services.intake.readmodel.projection import PetitionProjection, VersionConflict
from services.logs import get_logger
from shared.events import EventDecodeError, decode

if TYPE_CHECKING:
    from services.bootstrap import Container

log = get_logger("projection")


class ProjectionRunner:
    def __init__(
        self,
        event_log: EventLog,
        topic: str,
        sessions: sessionmaker,
        projection: PetitionProjection,
        dead_letters: DeadLetters,
    ) -> None:
        self._log = event_log
        self._topic = topic
        self._sessions = sessions
        self._projection = projection
        self._dead = dead_letters
        self.stopping = threading.Event()

    @property
    def projection(self) -> PetitionProjection:
        return self._projection

    def _positions(self, session: Session) -> dict[int, int]:
        rows = session.execute(
            select(ProjectionPosition).where(
                ProjectionPosition.projection == self._projection.name, ProjectionPosition.topic == self._topic
            )
        ).scalars()
        return {r.partition: r.next_offset for r in rows}

    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False,
            progress: Callable[[int], None] | None = None) -> int:
        """Project until stopped (or, with ``until_caught_up``, until the log's current end). Returns events applied."""
        with self._sessions() as session:
            positions = self._positions(session)
        reader = self._log.reader(self._topic, positions)
        ends = self._log.end_offsets(self._topic) if until_caught_up else None
        applied = 0
        try:
            while not self.stopping.is_set():
                if ends is not None and all(reader.positions().get(p, 0) >= e for p, e in ends.items()):
                    break
                records = reader.poll(timeout=poll_timeout)
                if not records:
                    continue
                if progress is not None:
                    progress(len(records))
                with self._sessions.begin() as session:
                    for record in records:
                        try:
                            env = decode(record.value)
                            with session.begin_nested():
                                changed = self._projection.apply(session, env, record.value)
                        except (EventDecodeError, VersionConflict) as exc:
                            self._dead.park(record, str(exc))
                            continue
                        if changed:
                            applied += 1
                            log.info("event_projected", case_id=env.case_id, event_type=env.event_type,
                                     partition=record.partition, offset=record.offset)
                    for partition, next_offset in reader.positions().items():
                        session.merge(ProjectionPosition(projection=self._projection.name, topic=self._topic,
                                                         partition=partition, next_offset=next_offset))
        finally:
            reader.close()
        return applied

    def stop(self) -> None:
        self.stopping.set()


def petition_projection_runner(c: Container) -> ProjectionRunner:
    """The petition projection over the petition-event topic, configured from the container's settings."""
    projection = PetitionProjection(c.calendar, c.charters, timedelta(days=c.settings.duplicate_window_days))
    return ProjectionRunner(c.log, c.topics.petition_events, c.sessions, projection, c.dead_letters("projection"))
