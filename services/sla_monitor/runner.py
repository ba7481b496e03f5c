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
from collections.abc import Callable, Collection
from datetime import datetime

from services.eventlog.deadletter import DeadLetters
from services.eventlog.port import EventLog, Record
from services.eventlog.topics import Topics
from services.logs import get_logger
from services.sla_monitor.metrics import MonitorMetrics
from shared.charters import CharterBook
from shared.events import Envelope, decode, encode
from shared.obligations import ObligationBook
from shared.working_time import WorkingCalendar

log = get_logger("sla_monitor")
Clock = Callable[[], datetime]


def read_all(event_log: EventLog, topic: str, progress: Callable[[int], None] | None = None,
             partitions: Collection[int] | None = None) -> tuple[list[Record], dict[int, int]]:
    """Every record now in the topic (or in these of its partitions), and the positions after them;
    ``progress`` hears each batch's size."""
    ends = event_log.end_offsets(topic)
    if partitions is not None:
        ends = {p: e for p, e in ends.items() if p in partitions}
    reader = event_log.reader(topic, partitions=partitions)
    records: list[Record] = []
    try:
        while any(reader.positions().get(p, 0) < e for p, e in ends.items()):
            batch = reader.poll(max_records=5000, timeout=0.5)
            records.extend(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        reader.close()
    return records, ends


def rebuild_book(
    event_log: EventLog,
    topics: Topics,
    book: ObligationBook,
    now: datetime,
    decode_fact: Callable[[Record], Envelope | None],
    keep: Callable[[Record], bool] = lambda record: True,
) -> tuple[list[Envelope], dict[str, dict[int, int]], int]:
    """Fill ``book`` from the log: the case facts ``keep`` selects (petition events in case order,
    then the notices sent) and the SLA events already emitted for them marked done. Returns the
    derived events never emitted, each fact topic's positions after the replay, and how many facts
    were replayed."""
    facts: list[tuple[tuple, Envelope]] = []
    positions: dict[str, dict[int, int]] = {}
    for rank, topic in enumerate((topics.petition_events, topics.notice_events)):
        records, positions[topic] = read_all(event_log, topic)
        for env in map(decode_fact, filter(keep, records)):
            if env is not None:
                # merged by when they were recorded (a case's petition events in version order), as they reached
                # the live monitor; notices carry no case version
                facts.append(((env.case_id, env.recorded_at, rank, env.case_version), env))
    facts.sort(key=lambda f: f[0])
    emitted_records, _ = read_all(event_log, topics.sla_events)
    emitted = [decode(r.value) for r in emitted_records if keep(r)]
    return book.restore([env for _, env in facts], emitted, now), positions, len(facts)


def log_emitted(events: list[Envelope]) -> None:
    bound = log.bind()  # resolve the lazy logger once per batch, not once per event
    for e in events:
        bound.info("obligation_event", case_id=e.case_id, event_type=e.event_type,
                 obligation_id=getattr(e.payload, "obligation_id", None), due_at=getattr(e.payload, "due_at").isoformat())


class MonitorLoop:
    def __init__(self, event_log: EventLog, topics: Topics, dead_letters: DeadLetters, calendar: WorkingCalendar,
                 charters: CharterBook, clock: Clock, at_risk: float = 0.75, max_sleep: float = 0.5,
                 metrics: MonitorMetrics | None = None) -> None:
        self._log = event_log
        self._topics = topics
        self._sla = topics.sla_events
        self._dead = dead_letters
        self._clock = clock
        self._max_sleep = max_sleep
        self.book = ObligationBook(calendar, charters, at_risk)
        self.stopping = threading.Event()
        self.emitted = 0
        self.metrics = metrics or MonitorMetrics()

    def restore(self) -> dict[str, dict[int, int]]:
        missing, positions, replayed = rebuild_book(self._log, self._topics, self.book, self._clock(), self._dead.decode)
        log.info("monitor_restored", facts=replayed, open_obligations=self.book.open_count(), catching_up=len(missing))
        # A million restored obligations are long-lived: keep the cyclic GC from rescanning them,
        # so a full collection cannot stall a burst of breaches.
        gc.freeze()
        self._emit(missing)
        return positions

    def _emit(self, events: list[Envelope]) -> None:
        if events:
            self._log.append_many(self._sla, [(e.case_id, encode(e)) for e in events])
            self.emitted += len(events)
            self.metrics.emitted(events, self._clock())
            log_emitted(events)

    def step(self, records: list[Record]) -> None:
        """Handle a batch of case facts, then fire whatever is due now."""
        for env in map(self._dead.decode, records):
            if env is not None:
                now = self._clock()
                self._emit(self.book.due(now, until=env.recorded_at))  # what fell due before this fact
                self._emit(self.book.observe(env, now))
        self._emit(self.book.due(self._clock()))

    def run(self) -> None:
        positions = self.restore()
        readers = [self._log.reader(topic, at) for topic, at in positions.items()]
        refreshed = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - refreshed > 5:
                    lag = 0
                    for reader, topic in zip(readers, positions):
                        at = reader.positions()
                        lag += sum(e - at.get(p, 0) for p, e in self._log.end_offsets(topic).items())
                    self.metrics.refresh(self.book, lag)
                    refreshed = time.monotonic()
                nxt = self.book.next_due_epoch()
                now = self._clock().timestamp()
                wait = self._max_sleep if nxt is None else min(self._max_sleep, max(0.0, nxt - now))
                # The petition reader waits for new facts; notices are rare, so their reader only peeks.
                records = readers[0].poll(timeout=max(wait, 0.01)) + readers[1].poll(timeout=0)
                self.step(records)
        finally:
            for reader in readers:
                reader.close()

    def stop(self) -> None:
        self.stopping.set()
