"""The compensation worker: petition and SLA events into the ledger, exactly once in effect.

Per batch: one ledger transaction (rows and outbox), commit; publish the outbox;
only then commit the consumer offsets. A crash after the ledger commit redelivers the
batch; the ledger's uniqueness rules turn the redelivery into nothing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from services.bootstrap import Container
from services.compensation.ledger.book import Ledger
from services.eventlog.deadletter import DeadLetters
from services.eventlog.port import EventLog, Record
from services.logs import get_logger
from services.outbox.publisher import Outbox
from shared.charters import NoCharterInForce

GROUP = "charterwatch.compensation"
RACE_RETRIES = 3
log = get_logger("compensation")
Clock = Callable[[], datetime]


class LedgerConsumer:
    def __init__(self, event_log: EventLog, topic: str, sessions: sessionmaker, ledger: Ledger, outbox: Outbox,
                 dead_letters: DeadLetters, clock: Clock, group: str = GROUP,
                 after_ledger_commit: Callable[[], None] = lambda: None) -> None:
        self._log = event_log
        self._topic = topic
        self._sessions = sessions
        self._ledger = ledger
        self._outbox = outbox
        self._dead = dead_letters
        self._clock = clock
        self._group = group
        self._after_ledger_commit = after_ledger_commit  # tests kill the consumer here
        self.stopping = threading.Event()
        self.decided = 0

    def step(self, records: list[Record], positions: dict[int, int]) -> int:
        """One batch into the ledger; returns the events it decided."""
        for attempt in range(1, RACE_RETRIES + 1):
            try:
                decided = self._decide(records)
                break
            except IntegrityError:
                # Another consumer committed the same remedy first: replay the batch, which now finds it.
                if attempt == RACE_RETRIES:
                    raise
                log.warning("ledger_race_replayed", attempt=attempt, topic=self._topic)
        self._after_ledger_commit()
        self._outbox.publish()
        self._log.commit(self._group, self._topic, positions)
        self.decided += decided
        return decided

    def _decide(self, records: list[Record]) -> int:
        decided = 0
        with self._sessions.begin() as session:
            for record, env in self._dead.events(records):
                try:
                    # The charter is looked up before anything is written: a refusal leaves the batch clean.
                    events = self._ledger.record(session, env, self._clock())
                except NoCharterInForce as exc:
                    self._dead.park(record, str(exc))
                    continue
                decided += len(events)
                for e in events:
                    log.info("remedy_decided", case_id=e.case_id, event_type=e.event_type, cause_event_id=str(env.event_id))
        return decided

    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False) -> None:
        self._outbox.publish()  # what a crash left queued
        reader = self._log.reader(self._topic, self._log.committed(self._group, self._topic))
        ends = self._log.end_offsets(self._topic) if until_caught_up else None
        try:
            while not self.stopping.is_set():
                if ends is not None and all(reader.positions().get(p, 0) >= e for p, e in ends.items()):
                    return
                records = reader.poll(max_records=1000, timeout=poll_timeout)
                if records:
                    self.step(records, reader.positions())
        finally:
            reader.close()

    def stop(self) -> None:
        self.stopping.set()


def loops(c: Container) -> list[LedgerConsumer]:
    ledger = Ledger(c.charters, c.calendar)
    outbox = Outbox(c.log, c.topics.compensation_events, c.sessions, "compensation")
    dead = c.dead_letters("compensation")
    return [LedgerConsumer(c.log, topic, c.sessions, ledger, outbox, dead, c.clock)
            for topic in (c.topics.petition_events, c.topics.sla_events)]
