"""Faust agent and timer around the obligation core. Domain events stay out of faust.Record:
the agent reads raw bytes and decodes them into envelopes at the edge.

State lives in a faust table backed by a changelog topic (``tables.py``): one
snapshot per case. After a rebalance or restart faust restores the table, and the
obligation book for the partitions now held is rebuilt from it; breaches that fell
due meanwhile sit on the book's timer heap and go out on the next tick, once.
Emitted event ids are deterministic, so the at-least-once window (an event sent,
the worker killed before its snapshot was written) repeats an event with the same
id, never a second different one.
"""
from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from datetime import datetime

import faust

from services.eventlog.deadletter import dead_letter_entry
from services.eventlog.port import Record
from services.eventlog.topics import Topics
from services.logs import get_logger
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import log_emitted
from services.sla_monitor.tables import Snapshot, case_snapshots, held
from services.sla_monitor.topics import case_facts
from shared.charters import CharterBook
from shared.events import Envelope, EventDecodeError, decode, encode
from shared.obligations import ObligationBook
from shared.working_time import WorkingCalendar

log = get_logger("sla_monitor")
Clock = Callable[[], datetime]


class FaustMonitor:
    def __init__(self, app: faust.App, topics: Topics, calendar: WorkingCalendar, charters: CharterBook,
                 clock: Clock) -> None:
        self.app = app
        self.calendar = calendar
        self.charters = charters
        self.clock = clock
        self.book = ObligationBook(calendar, charters)
        self.metrics = MonitorMetrics()
        self.assigned: set[int] = set()
        self.ready = asyncio.Event()
        self.snapshots = case_snapshots(app)
        self.sla = app.topic(topics.sla_events, key_type=bytes, value_type=bytes, key_serializer="raw",
                             value_serializer="raw")
        self.dead = app.topic(topics.dead_letter, key_type=bytes, value_type=bytes, key_serializer="raw",
                              value_serializer="raw")

    def rebuild(self) -> None:
        """Blocking (run while faust holds the streams paused): the book from the held snapshots."""
        book = ObligationBook(self.calendar, self.charters)
        now = self.clock()
        cases = 0
        for key, raw in list(self.snapshots.data.items()):
            if raw is not None and held(key, self.assigned):
                snap = Snapshot.load(raw)
                book.restore_case(snap.envelopes(), snap.marks, now)
                cases += 1
        self.book = book
        gc.freeze()  # the restored book is long-lived: keep full collections from rescanning it
        log.info("monitor_restored", partitions=sorted(self.assigned), cases=cases,
                 open_obligations=book.open_count())

    async def observe(self, env: Envelope) -> None:
        if not self.book.accepts(env):
            return
        key = env.case_id.encode()
        now = self.clock()
        fired = self.book.due(now, until=env.recorded_at)  # what fell due before this fact was recorded
        await self.emit(fired)
        await self._mark(fired)
        out = self.book.observe(env, now)
        await self.emit(out)
        snap = Snapshot.load(self.snapshots.get(key)).with_fact(env)
        snap.marks = self.book.marks_of(env.case_id)
        self.snapshots[key] = snap.dump()

    async def tick(self) -> None:
        out = self.book.due(self.clock())
        await self.emit(out)
        await self._mark(out)

    async def _mark(self, out: list[Envelope]) -> None:
        for case_id in {e.case_id for e in out}:
            key = case_id.encode()
            snap = Snapshot.load(self.snapshots.get(key))
            snap.marks = self.book.marks_of(case_id)
            self.snapshots[key] = snap.dump()

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


def register(app: faust.App, topics: Topics, calendar: WorkingCalendar, charters: CharterBook,
             clock: Clock) -> FaustMonitor:
    monitor = FaustMonitor(app, topics, calendar, charters, clock)
    source = case_facts(app, topics)
    fact_topics = {topics.petition_events, topics.notice_events}

    @app.on_partitions_assigned.connect
    async def _assigned(sender: object, assigned: set, **kwargs: object) -> None:
        monitor.ready.clear()
        monitor.assigned = {tp.partition for tp in assigned if tp.topic in fact_topics}

    @monitor.snapshots.on_recover
    async def _recovered() -> None:
        await asyncio.get_running_loop().run_in_executor(None, monitor.rebuild)
        monitor.ready.set()

    @app.agent(source, name="watch-case-facts")
    async def watch(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await monitor.ready.wait()
            try:
                env = decode(event.value)
            except EventDecodeError as exc:
                await monitor.park(event.message, str(exc))
                continue
            await monitor.observe(env)

    @app.task
    async def fire_due() -> None:
        # Sleep until the next due instant (at most 0.5 s): idle costs nothing, a breach is late by < 0.5 s.
        while True:
            await monitor.ready.wait()
            await monitor.tick()
            monitor.metrics.refresh(monitor.book, 0)  # lag is faust's own: its consumer reports it
            nxt = monitor.book.next_due_epoch()
            now = monitor.clock().timestamp()
            await asyncio.sleep(0.5 if nxt is None else min(0.5, max(0.0, nxt - now)))

    return monitor
