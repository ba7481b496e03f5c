"""The monitor loop on the log port: consume case facts, fire timers, append obligation events.

Used in the embedded single-process mode (and runnable over Kafka through the
same port). On start it rebuilds its state from the log: the petition events
and notices replayed silently, the SLA events it already emitted marked as done. So a
restart emits, once, whatever fell due while it was down.
"""
from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.log.deadletter import DeadLetters
from services.platform.log.port import EventLog, Record
from services.platform.log.reading import read_all  # noqa: F401  (re-exported: tests and tools read logs with it)
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.schema import RUNTIME, Base
from shared.charters import CharterBook
from shared.events import Envelope, decode, encode
from shared.obligations import ObligationBook, fact_order
from shared.working_time import WorkingCalendar

log = get_logger("sla_monitor")
NAME = "sla_monitor"
Clock = Callable[[], datetime]


def _facts(event_log: EventLog, topics: Topics, decode_fact: Callable[[Record], Envelope | None],
           keep: Callable[[Record], bool]) -> tuple[list[tuple[Record, Envelope]], dict[str, dict[int, int]]]:
    """The case facts in the order they reached the live monitor: merged by when they were recorded
    (a case's petition events in version order); notices carry no case version."""
    facts: list[tuple[tuple, Record, Envelope]] = []
    positions: dict[str, dict[int, int]] = {}
    for topic in (topics.petition_events, topics.notice_events):
        records, positions[topic] = read_all(event_log, topic)
        for record in filter(keep, records):
            env = decode_fact(record)
            if env is not None:
                facts.append(((env.case_id, *fact_order(env)), record, env))
    facts.sort(key=lambda f: f[0])
    return [(record, env) for _, record, env in facts], positions


def log_emitted(events: list[Envelope]) -> None:
    bound = log.bind()  # resolve the lazy logger once per batch, not once per event
    for e in events:
        bound.info("obligation_event", case_id=e.case_id, event_type=e.event_type,
                 obligation_id=getattr(e.payload, "obligation_id", None), due_at=getattr(e.payload, "due_at").isoformat())


class MonitorHandler:
    """One fact into the obligation book; what it derives goes straight to the SLA topic. The book
    undoes a fact it refuses, so the runtime can try again and then park it."""

    def __init__(self, book: ObligationBook, clock: Clock, emit: Callable[[list[Envelope]], None]) -> None:
        self.book = book
        self._clock = clock
        self._emit = emit

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if not self.book.accepts(env):
            return None
        now = self._clock()
        self._emit(self.book.due_before(env, now))  # what fell due in its case before this fact was recorded
        self._emit(self.book.observe(env, now))
        return None


def scratch_sessions() -> sessionmaker:
    """The runtime's tables in memory, for a monitor run without a database (tests, benches)."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


class MonitorLoop:
    """The embedded monitor: rebuilt from the log at start, then on the one consumer runtime, with the
    timers fired between batches once the backlog is read."""

    def __init__(self, event_log: EventLog, topics: Topics, dead_letters: DeadLetters, calendar: WorkingCalendar,
                 charters: CharterBook, clock: Clock, at_risk: float = 0.75, max_sleep: float = 0.5,
                 metrics: MonitorMetrics | None = None, sessions: sessionmaker | None = None,
                 consumer_metrics: ConsumerMetrics | None = None) -> None:
        self._log = event_log
        self._topics = topics
        self._sla = topics.sla_events
        self._dead = dead_letters
        self._clock = clock
        self._max_sleep = max_sleep
        self.book = ObligationBook(calendar, charters, at_risk)
        self.emitted = 0
        self.metrics = metrics or MonitorMetrics()
        self.handler = MonitorHandler(self.book, clock, self._emit)
        self.consumer = Consumer(NAME, event_log, [topics.petition_events, topics.notice_events],
                                 sessions or scratch_sessions(), RUNTIME, self.handler, dead_letters.topic,
                                 topics.dead_letter_decisions, clock, metrics=consumer_metrics, tick=self.tick)
        self._refreshed = 0.0

    @property
    def stopping(self) -> threading.Event:
        return self.consumer.stopping

    def restore(self) -> dict[str, dict[int, int]]:
        """Rebuild the book from the log, skipping what the runtime holds back; a fact the book refuses
        is parked (and its case's later facts held), as it would have been live."""
        now = self._clock()
        held = self.consumer.held_records()
        facts, positions = _facts(self._log, self._topics, self._dead.decode,
                                  lambda r: (r.topic, r.partition, r.offset) not in held)
        emitted = [decode(r.value) for r in read_all(self._log, self._sla)[0]]
        done = {e.event_id for e in emitted}
        missing: list[Envelope] = []
        poisoned: set[str] = set()
        aside: list[tuple[Record, str, str | None]] = []
        for record, env in facts:
            if env.case_id in poisoned:
                aside.append((record, env.case_id, None))
                continue
            missing += [e for e in self.book.due_before(env, now) if e.event_id not in done]
            try:
                missing += [e for e in self.book.observe(env, now) if e.event_id not in done]
            except Exception as exc:  # refused: parked with its reason, the case waits for an operator
                poisoned.add(env.case_id)
                aside.append((record, env.case_id, f"{type(exc).__name__}: {exc}"))
        self.book.restore([], emitted, now)  # marks what was already emitted
        self.consumer.set_aside(aside)
        log.info("monitor_restored", facts=len(facts), open_obligations=self.book.open_count(),
                 catching_up=len(missing), parked=len(poisoned))
        # A million restored obligations are long-lived: keep the cyclic GC from rescanning them,
        # so a full collection cannot stall a burst of breaches.
        gc.freeze()
        self._emit(missing)
        self.consumer.save_positions(positions)
        return positions

    def _emit(self, events: list[Envelope]) -> None:
        if events:
            self._log.append_many(self._sla, [(e.case_id, encode(e)) for e in events])
            self.emitted += len(events)
            self.metrics.emitted(events, self._clock())
            log_emitted(events)

    def tick(self) -> float:
        """Fire what is due now; the seconds until the next timer (at most ``max_sleep``)."""
        self._emit(self.book.due(self._clock()))
        for case_id, reason in self.book.failures:
            log.error("timer_failed", case_id=case_id, reason=reason)
        self.book.failures.clear()
        if time.monotonic() - self._refreshed > 5:
            self.metrics.refresh(self.book, 0)
            self._refreshed = time.monotonic()
        nxt = self.book.next_due_epoch()
        now = self._clock().timestamp()
        return self._max_sleep if nxt is None else min(self._max_sleep, max(0.0, nxt - now))

    def step(self, records: list[Record]) -> None:
        """Handle a batch of case facts, then fire whatever is due now."""
        if records:
            self.consumer.step(records, {})
        self.tick()

    def run(self) -> None:
        self.restore()
        self.consumer.run(poll_timeout=self._max_sleep)

    def stop(self) -> None:
        self.consumer.stop()
