"""Faust agents and timer around the obligation core. Domain events stay out of faust.Record:
the agent reads raw bytes and decodes them into envelopes at the edge.

State: the ObligationBook for the partitions this worker holds, rebuilt from the
log (petition events replayed, SLA events already emitted marked done) whenever
the assignment changes. Emitted event ids are deterministic, so an overlap during
a rebalance repeats an event with the same id instead of creating a second one.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import faust

from services.eventlog.deadletter import dead_letter_entry
from services.eventlog.embedded import partition_for
from services.eventlog.kafka import KafkaLog
from services.eventlog.port import Record
from services.eventlog.topics import Topics
from services.logs import get_logger
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import log_emitted, rebuild_book
from services.sla_monitor.topics import petition_events
from shared.charters import CharterBook
from shared.events import Envelope, EventDecodeError, decode, encode
from shared.obligations import ObligationBook
from shared.working_time import WorkingCalendar

log = get_logger("sla_monitor")
Clock = Callable[[], datetime]


class FaustMonitor:
    def __init__(self, app: faust.App, topics: Topics, bootstrap: str, calendar: WorkingCalendar,
                 charters: CharterBook, clock: Clock, partitions: int = 6) -> None:
        self.app = app
        self.topics = topics
        self.bootstrap = bootstrap
        self.calendar = calendar
        self.charters = charters
        self.clock = clock
        self.partitions = partitions
        self.book = ObligationBook(calendar, charters)
        self.metrics = MonitorMetrics()
        self.assigned: set[int] = set()
        self.ready = asyncio.Event()
        self.sla = app.topic(topics.sla_events, key_type=bytes, value_type=bytes, key_serializer="raw",
                             value_serializer="raw")
        self.dead = app.topic(topics.dead_letter, key_type=bytes, value_type=bytes, key_serializer="raw",
                              value_serializer="raw")

    def rebuild(self, assigned: set[int]) -> list[Envelope]:
        """Blocking: read the log for the assigned partitions and rebuild the book; returns the
        derived events never emitted (what arrived while no worker held these partitions)."""
        source = KafkaLog(self.bootstrap)
        book = ObligationBook(self.calendar, self.charters)
        try:
            # Undecodable petition records are skipped here: the agent parks them when it meets them.
            missing, _, replayed = rebuild_book(
                source, self.topics.petition_events, self.topics.sla_events, book, self.clock(), _decode_or_none,
                keep=lambda record: partition_for(record.key, self.partitions) in assigned)
        finally:
            source.close()
        self.assigned = assigned
        self.book = book
        log.info("monitor_restored", partitions=sorted(assigned), petition_events=replayed,
                 open_obligations=book.open_count(), catching_up=len(missing))
        return missing

    async def emit(self, events: list[Envelope]) -> None:
        self.metrics.emitted(events, self.clock())
        for e in events:
            await self.sla.send(key=e.case_id.encode(), value=encode(e))
        log_emitted(events)

    async def park(self, message: faust.types.Message, reason: str) -> None:
        record = Record(message.topic, message.partition, message.offset,
                        (message.key or b"").decode(errors="replace"), message.value or b"",
                        int((message.timestamp or 0) * 1000))
        log.warning("event_dead_lettered", partition=message.partition, offset=message.offset, reason=reason)
        await self.dead.send(key=message.key or b"-", value=dead_letter_entry(record, reason, "sla_monitor"))


def _decode_or_none(record: Record) -> Envelope | None:
    try:
        return decode(record.value)
    except EventDecodeError:
        return None


def register(app: faust.App, topics: Topics, bootstrap: str, calendar: WorkingCalendar, charters: CharterBook,
             clock: Clock) -> FaustMonitor:
    monitor = FaustMonitor(app, topics, bootstrap, calendar, charters, clock)
    source = petition_events(app, topics)

    @app.on_partitions_assigned.connect
    async def _assigned(sender: object, assigned: set, **kwargs: object) -> None:
        mine = {tp.partition for tp in assigned if tp.topic == topics.petition_events}
        monitor.ready.clear()
        missing = await asyncio.get_running_loop().run_in_executor(None, monitor.rebuild, mine)
        await monitor.emit(missing)
        monitor.ready.set()

    @app.agent(source, name="watch-petitions")
    async def watch(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await monitor.ready.wait()
            try:
                env = decode(event.value)
            except EventDecodeError as exc:
                await monitor.park(event.message, str(exc))
                continue
            await monitor.emit(monitor.book.observe(env, monitor.clock()))

    @app.task
    async def fire_due() -> None:
        # Sleep until the next due instant (at most 0.5 s): idle costs nothing, a breach is late by < 0.5 s.
        while True:
            await monitor.ready.wait()
            await monitor.emit(monitor.book.due(monitor.clock()))
            monitor.metrics.refresh(monitor.book, 0)  # lag is faust's own: its consumer reports it
            nxt = monitor.book.next_due_epoch()
            now = monitor.clock().timestamp()
            await asyncio.sleep(0.5 if nxt is None else min(0.5, max(0.0, nxt - now)))

    return monitor
