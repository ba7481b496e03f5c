"""Faust agent and timer around the obligation core. Domain events stay out of faust.Record:
the agent reads raw bytes and decodes them into envelopes at the edge.

State lives in a faust table backed by a changelog topic (``tables.py``): one
snapshot per case, the case as the book folded it. After a rebalance or restart faust restores the table, and the
obligation book for the partitions now held is rebuilt from it, each case on its own;
breaches that fell due meanwhile sit on the book's timer heap and go out once the
backlog is read: the timer never fires for a partition until the agent has read that
partition up to where it ended at assignment, so a fact waiting there (a resolution in
time) is applied before the clock can judge it late.

The same rules as the consumer runtime at this edge: a fact the book refuses (it undoes
it) is parked on the dead-letter topic and its case waits, later facts held in the
snapshot behind it, until an operator's decision (retry or skip) arrives on the decisions
topic, which is keyed and partitioned like the facts. Emitted event ids are
deterministic, so the at-least-once window (an event sent, the worker killed before its
snapshot was written) repeats an event with the same id, never a second different one.
"""
from __future__ import annotations

import asyncio
import gc
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import faust

from services.platform.log.deadletter import Decision, dead_letter_entry, entry_id_for
from services.platform.log.port import Record
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import NAME, log_emitted
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
        self.topics = topics
        self.calendar = calendar
        self.charters = charters
        self.clock = clock
        self.book = ObligationBook(calendar, charters)
        self.metrics = MonitorMetrics()
        self.assigned: set[int] = set()
        self.ready = asyncio.Event()
        self.snapshots = case_snapshots(app)
        self.parked: dict[str, str] = {}  # case -> the dead-letter entry it waits behind
        # Where each fact partition ended when it was assigned, and how far the agent has read it.
        self.targets: dict[tuple[str, int], int] = {}
        self.read: dict[tuple[str, int], int] = {}
        self.dead = app.topic(topics.dead_letter, key_type=bytes, value_type=bytes, key_serializer="raw",
                              value_serializer="raw")

    # -- recovery -------------------------------------------------------------------
    def rebuild(self) -> None:
        """Blocking (run while faust holds the streams paused): the book from the held snapshots."""
        book = ObligationBook(self.calendar, self.charters)
        now = self.clock()
        cases = 0
        self.parked = {}
        for key, raw in list(self.snapshots.data.items()):
            if raw is None or not held(key, self.assigned):
                continue
            snap = Snapshot.load(raw)
            case_id = key.decode()
            try:
                if snap.case is not None:
                    book.restore_snapshot(snap.case)
                elif snap.facts:  # written before the compact form: folded (upcast at the case's next write)
                    book.restore_case(snap.envelopes(), snap.marks, now)
            except Exception as exc:  # a snapshot this release cannot fold: the case waits, reported
                log.error("case_not_restored", case_id=case_id, reason=f"{type(exc).__name__}: {exc}")
                self.parked[case_id] = snap.parked.get("entry_id", "") if snap.parked else ""
                continue
            if snap.parked:
                self.parked[case_id] = snap.parked["entry_id"]
            cases += 1
        self.book = book
        gc.freeze()  # the restored book is long-lived: keep full collections from rescanning it
        log.info("monitor_restored", partitions=sorted(self.assigned), cases=cases,
                 open_obligations=book.open_count(), parked=len(self.parked))

    async def measure_backlog(self, tps: set[Any]) -> None:
        """Where each assigned fact partition ends now: the timer waits until the agent has read that far."""
        facts = [tp for tp in tps if tp.topic in (self.topics.petition_events, self.topics.notice_events)]
        ends = await self.app.consumer.highwaters(*facts) if facts else {}
        committed = getattr(self.app.consumer, "_committed_offset", {})
        self.targets = {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}
        self.read = {(tp.topic, tp.partition): int(committed.get(tp) or 0) for tp in facts}

    def caught_up(self) -> bool:
        return all(self.read.get(key, 0) >= end for key, end in self.targets.items())

    def behind(self) -> dict[tuple[str, int], tuple[int, int]]:
        """Fact partitions not yet read to where they ended at assignment: (read, end)."""
        return {key: (self.read.get(key, 0), end) for key, end in self.targets.items() if self.read.get(key, 0) < end}

    async def unstick(self, stalled: dict[tuple[str, int], tuple[int, int]]) -> None:
        """Partitions that stopped delivering while behind (seen after a broker restart: the consumer
        kept them out of its fetches): resumed and sought back to what was read, so the backlog flows
        again and the timer, which waits for it, can fire."""
        consumer = self.app.consumer
        tps = [tp for tp in consumer.assignment() if (tp.topic, tp.partition) in stalled]
        paused = getattr(consumer, "_paused_partitions", set())
        log.warning("monitor_partitions_stalled", partitions={f"{t}:{p}": list(v) for (t, p), v in stalled.items()},
                    paused=sorted(f"{tp.topic}:{tp.partition}" for tp in tps if tp in paused),
                    assigned=len(consumer.assignment()))
        consumer.resume_partitions(tps)
        for tp in tps:
            await consumer.seek(tp, stalled[(tp.topic, tp.partition)][0])

    # -- facts ----------------------------------------------------------------------
    async def on_message(self, message: Any) -> None:
        key = (message.topic, message.partition)
        if key in self.targets:
            self.read[key] = max(self.read.get(key, 0), message.offset + 1)
        if message.topic == self.topics.dead_letter_decisions:
            decision = Decision.parse(message.value or b"")
            log.info("dead_letter_decision_read", partition=message.partition, offset=message.offset,
                     entry_id=decision.entry_id if decision else None, parked=len(self.parked))
            if decision is not None and decision.service == NAME:
                await self.decide(decision)
            return
        try:
            env = decode(message.value)
        except EventDecodeError as exc:
            case_id = (message.key or b"-").decode(errors="replace")
            await self.park(case_id, _record(message), str(exc))
            return
        if env.case_id in self.parked:
            await self.hold(env.case_id, message.value)
            return
        try:
            await self.observe(env)
        except Exception as exc:  # refused (the book undid it): parked with the reason, the case waits
            await self.park(env.case_id, _record(message), f"{type(exc).__name__}: {exc}")

    async def observe(self, env: Envelope) -> None:
        if not self.book.accepts(env):
            return
        now = self.clock()
        fired = self.book.due_before(env, now)  # what fell due in its case before this fact was recorded
        await self.emit(fired)
        await self._mark(fired)
        out = self.book.observe(env, now)
        await self.emit(out)
        self._save(env.case_id)

    def _save(self, case_id: str) -> None:
        """The case's snapshot as the book now holds it (what it waits behind, if parked, kept)."""
        key = case_id.encode()
        snap = Snapshot.load(self.snapshots.get(key))
        snap.case, snap.facts, snap.marks = self.book.snapshot_of(case_id, previous=snap.case), [], {}
        self.snapshots[key] = snap.dump()

    async def park(self, case_id: str, record: Record, reason: str) -> None:
        # a fact parked again after a retry has no place of its own on the log: a new entry
        entry_id = entry_id_for(NAME, record) if record.partition >= 0 else str(uuid.uuid4())
        log.warning("event_dead_lettered", case_id=case_id, partition=record.partition, offset=record.offset,
                    reason=reason, entry_id=entry_id)
        await self.dead.send(key=case_id.encode(), value=dead_letter_entry(record, reason, NAME, entry_id=entry_id,
                                                                           case_id=case_id))
        key = case_id.encode()
        snap = Snapshot.load(self.snapshots.get(key))
        snap.parked = {"entry_id": entry_id, "reason": reason, "value": record.value.decode(errors="replace")}
        self.snapshots[key] = snap.dump()
        self.parked[case_id] = entry_id

    async def hold(self, case_id: str, value: bytes) -> None:
        key = case_id.encode()
        snap = Snapshot.load(self.snapshots.get(key))
        if value in snap.held or (snap.parked and snap.parked.get("value", "").encode() == value):
            return  # redelivered after a restart: held once
        snap.held.append(value)
        self.snapshots[key] = snap.dump()

    async def decide(self, d: Decision) -> None:
        if self.parked.get(d.case_id) != d.entry_id:
            return  # decided before, or not a case this worker holds parked
        key = d.case_id.encode()
        snap = Snapshot.load(self.snapshots.get(key))
        queue = ([snap.parked["value"].encode()] if d.action == "retry" and snap.parked else []) + snap.held
        snap.parked, snap.held = None, []
        self.snapshots[key] = snap.dump()
        del self.parked[d.case_id]
        log.info("dead_letter_decided", case_id=d.case_id, entry_id=d.entry_id, action=d.action)
        for value in queue:
            await self.on_message(_Replayed(d.case_id, value))

    # -- the clock ------------------------------------------------------------------
    async def tick(self) -> None:
        out = self.book.due(self.clock())
        await self.emit(out)
        if out:
            await self.flush()  # a burst's breaches leave before their cases' snapshots are rewritten
        await self._mark(out)
        for case_id, reason in self.book.failures:
            log.error("timer_failed", case_id=case_id, reason=reason)
        self.book.failures.clear()

    async def _mark(self, out: list[Envelope]) -> None:
        for case_id in {e.case_id for e in out}:
            self._save(case_id)

    async def flush(self) -> None:
        """Until every event sent so far is acknowledged: the producer's sender runs only when the loop is
        free, and rewriting a burst's snapshots first would hold the breaches back for seconds."""
        await self.app.producer.flush()

    async def emit(self, events: list[Envelope]) -> None:
        self.metrics.emitted(events, self.clock())
        # The producer itself, not faust's Topic.send: its channel, future-message and signal layers cost
        # ~250 us a record, most of a burst's time. The records are the same (key, value, murmur2 partition).
        send, topic = self.app.producer.send, self.topics.sla_events
        for e in events:
            await send(topic, e.case_id.encode(), encode(e), None, None, None)
        log_emitted(events)


class _Replayed:
    """A held fact handed to ``on_message`` again after an operator's decision."""

    def __init__(self, case_id: str, value: bytes) -> None:
        self.topic, self.partition, self.offset = "held", -1, -1
        self.key, self.value = case_id.encode(), value
        self.timestamp = 0


def _record(message: Any) -> Record:
    return Record(message.topic, message.partition, message.offset, (message.key or b"").decode(errors="replace"),
                  message.value or b"", int((message.timestamp or 0) * 1000))


def register(app: faust.App, topics: Topics, calendar: WorkingCalendar, charters: CharterBook,
             clock: Clock, stall_s: float = 20.0) -> FaustMonitor:
    monitor = FaustMonitor(app, topics, calendar, charters, clock)
    source = case_facts(app, topics)
    fact_topics = {topics.petition_events, topics.notice_events}
    pending: dict[str, set[Any]] = {"tps": set()}
    generation = {"n": 0}

    @app.on_partitions_assigned.connect
    async def _assigned(sender: object, assigned: set, **kwargs: object) -> None:
        monitor.ready.clear()
        monitor.assigned = {tp.partition for tp in assigned if tp.topic in fact_topics}
        pending["tps"] = set(assigned)

    # Sent after every rebalance, whether or not the table had anything to recover (a table's own
    # on_recover callbacks are skipped when nothing moved, which left the agent waiting for good).
    # The book is rebuilt in a task of its own: faust awaits this signal inside its recovery, and the
    # consumer must be free to answer the backlog query.
    @app.on_rebalance_complete.connect
    async def _recovered(sender: object, **kwargs: object) -> None:
        generation["n"] += 1
        asyncio.ensure_future(prepare(generation["n"]))

    async def prepare(n: int) -> None:
        await asyncio.get_running_loop().run_in_executor(None, monitor.rebuild)
        await monitor.measure_backlog(pending["tps"])
        if n == generation["n"]:  # a later rebalance prepares again
            monitor.ready.set()
            log.info("monitor_ready", backlog={f"{t}:{p}": end for (t, p), end in monitor.targets.items()})

    @app.agent(source, name="watch-case-facts")
    async def watch(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await monitor.ready.wait()
            await monitor.on_message(event.message)

    @app.timer(interval=5.0)
    async def watch_backlog() -> None:
        # A partition behind and silent for ``stall_s``: the consumer is asked to fetch it again; still
        # silent after that, the worker exits and its supervisor starts it afresh (a rebalance from
        # the committed offsets), because a monitor that never catches up never fires.
        if not monitor.ready.is_set():
            stall["since"], stall["seen"], stall["nudged"] = None, {}, False
            return
        behind = monitor.behind()
        if behind != stall["seen"]:
            stall["since"], stall["seen"], stall["nudged"] = asyncio.get_running_loop().time(), behind, False
            return
        if not behind or asyncio.get_running_loop().time() - stall["since"] < stall_s:
            return
        if not stall["nudged"]:
            await monitor.unstick(behind)
            stall["since"], stall["nudged"] = asyncio.get_running_loop().time(), True
            return
        log.error("monitor_stalled_exiting", partitions=len(behind))
        os._exit(70)  # EX_SOFTWARE: restarted by the supervisor (up, systemd, Kubernetes)

    stall: dict[str, Any] = {"since": None, "seen": {}, "nudged": False}

    @app.task
    async def fire_due() -> None:
        # Sleep until the next due instant (at most 0.5 s): idle costs nothing, a breach is late by < 0.5 s.
        while True:
            await monitor.ready.wait()
            if monitor.caught_up():  # a fact still unread may discharge what the clock would fire
                await monitor.tick()
            monitor.metrics.refresh(monitor.book, 0)  # lag is faust's own: its consumer reports it
            nxt = monitor.book.next_due_epoch()
            now = monitor.clock().timestamp()
            await asyncio.sleep(0.5 if nxt is None else min(0.5, max(0.0, nxt - now)))

    return monitor
