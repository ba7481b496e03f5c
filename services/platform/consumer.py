"""The one consumer runtime: read topics, hand each event to a handler, commit positions with the results.

Every consumer that decides in SQL (the projection, compensation, notify) runs on this loop:

- **At least once in, effectively once out.** A batch is one transaction: the handler's rows and
  the consumer's positions commit together (``consumer_positions``), so a crash redelivers only
  what left no trace. Handlers deduplicate by event id (a relay may publish an event twice).
- **Joins wait, never drop.** A handler that lacks facts from another topic returns ``Wait``; the
  event is kept durably (``consumer_held_events``, state ``waiting``) and tried again each time
  another event of the same case is handled. Later events of the case from the same topic queue
  behind it, so each topic's per-case order holds.
- **Poison never stops the service.** A handler failure is tried again (``attempts``); when it
  repeats, the event is parked on the dead-letter topic with its reason, and the case waits:
  its later events are held behind it until an operator retries or skips the entry
  (``charterwatch dead-letters``; the decision arrives on the decisions topic). Transient
  failures (the log, the database) are not the event's fault: they roll the batch back and
  raise, and the supervisor restarts the loop with backoff from the committed positions.
- **Workers share partitions.** With a ``group`` (Kafka), each worker of a service is one member of
  the service's consumer group and reads only the partitions the group gives it, the same numbers
  on every topic (the topics are co-partitioned by case), so a case's joins stay in one member.
  Positions stay in the service's database: a gained partition is read from its committed position;
  a lost one is let go only between two batches (the one in flight has committed or rolled back),
  and the state kept of its cases (parked, waiting) is dropped here and reloaded by its new owner.
  A member that overran its session and lost a partition without hearing it cannot commit over
  the new owner: each batch checks, under a row lock, that the positions it read from are still
  the committed ones (``Fenced``). Without a group (or on the embedded log) one member owns all.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter as Tally
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.platform.consumer_orm import ConsumerTables, HeldRecord
from services.platform.log.deadletter import Decision, dead_letter_entry, entry_id_for
from services.platform.log.partitioner import partition_for
from services.platform.log.port import EventLog, LogUnavailable, Member, Record
from services.platform.logs import get_logger
from shared.events import Envelope, EventDecodeError, decode

# Failures of a peer, not of the event: never parked, the batch is retried from its positions.
TRANSIENT: tuple[type[BaseException], ...] = (LogUnavailable, OperationalError, InterfaceError, ConnectionError,
                                              TimeoutError)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Wait:
    """The handler needs facts it has not read yet (from another topic): keep the event, try later."""

    reason: str


class Handler(Protocol):
    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        """Act on one event (``raw``: its bytes as on the log) inside the batch's transaction.
        Raise to refuse it (it will be tried again, then parked)."""
        ...


class _Refused(Exception):
    """A handler refused an event in a batch run without savepoints: the batch rolls back and runs again,
    each event in its own savepoint, so only the refused one is tried again and parked."""


class Fenced(RuntimeError):
    """Another member committed a partition this batch read: it is no longer this member's. The batch
    rolled back; the loop restarts and rejoins (the supervisor's backoff)."""


@dataclass(frozen=True)
class _Failed:
    reason: str


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.events = Counter("charterwatch_consumer_events_total", "Events handled, by outcome",
                              ["consumer", "outcome"], registry=self.registry)
        self.lag = Gauge("charterwatch_consumer_lag", "Records on the log not yet read, in this member's partitions",
                         ["consumer"],
                         registry=self.registry)
        self.parked = Gauge("charterwatch_consumer_parked_cases", "Cases waiting behind a dead-lettered event",
                            ["consumer"], registry=self.registry)
        self.waiting = Gauge("charterwatch_consumer_waiting_cases", "Cases with events waiting for facts from another topic",
                             ["consumer"], registry=self.registry)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500]


class Consumer:
    def __init__(self, name: str, log: EventLog, topics: Sequence[str], sessions: sessionmaker, tables: ConsumerTables,
                 handler: Handler,
                 dead_letter_topic: str, decisions_topic: str | None = None, clock: Clock | None = None,
                 after_commit: Callable[[], object] = lambda: None, metrics: ConsumerMetrics | None = None,
                 attempts: int = 3, retry_delay: float = 0.05, batch: int = 500,
                 tick: Callable[[], float] | None = None, seed_from_group: str | None = None,
                 dead_letter_log: EventLog | None = None,
                 on_decision: Callable[[Session, Decision], None] | None = None,
                 group: str | None = None) -> None:
        """``group``: the consumer group its workers share partitions through (Kafka); None: this one
        reads every partition (the embedded monitor, which rebuilds every case in one process)."""
        self.name = name
        self.group = group
        self._log = log
        self._topics = list(topics)
        self._decisions = decisions_topic
        self._dead_topic = dead_letter_topic
        self._dead_log = dead_letter_log or log
        self._on_decision = on_decision  # decisions on entries that are not held events (notify's given-up notices)
        self._sessions = sessions
        self._position = tables.position  # the owning service's own runtime tables
        self._held = tables.held
        self._handler = handler
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._after_commit = after_commit
        self.metrics = metrics or ConsumerMetrics()
        self._attempts = attempts
        self._retry_delay = retry_delay
        self._batch = batch
        self._seed_group = seed_from_group  # positions an older release committed to a consumer group
        self._tick = tick  # timers (the SLA monitor): run after each batch, returns the seconds it may sleep
        self._parked: set[str] = set()
        self._waiting: dict[str, set[str]] = {}  # case -> topics with an event waiting
        self._partition_of: dict[str, int] = {}  # case -> its partition, for the cases above
        self._owned: frozenset[int] | None = None  # partition numbers held now (None: not reading, or all)
        self._expected: dict[tuple[str, int], int] = {}  # (topic, partition) -> position committed by this member
        self._member: Member | None = None
        self._moved = False  # partitions gained since the last after_commit
        self._count: int | None = None  # the topics' partition count (co-partitioned)
        self._new_entries: list[tuple[str, bytes]] = []
        # A handler whose every effect is in the session (``optimistic = True``) runs a batch without a
        # savepoint per event: its rows are flushed together at commit (one multi-row insert per table, not
        # one statement per row at each savepoint). Refusals are rare; the batch is then run again carefully.
        self._optimistic = bool(getattr(handler, "optimistic", False))
        self._careful = True  # this batch: each event in its own savepoint
        self._outcomes: Tally[str] = Tally()  # this transaction's, counted once it commits
        self.stopping = threading.Event()
        self.handled = 0
        self._log_ = get_logger(name)

    # -- state ------------------------------------------------------------------
    def _all_topics(self) -> list[str]:
        return self._topics + ([self._decisions] if self._decisions else [])

    # -- partitions gained and lost (the log calls these inside a poll, between two batches) -------
    def assigned(self, partitions: Mapping[str, Collection[int]]) -> dict[str, dict[int, int]]:
        """Where to read each gained partition from, and the state of its cases, from the database."""
        gained = {p for ps in partitions.values() for p in ps}
        with self._sessions() as s:
            rows = s.execute(select(self._position).where(self._position.consumer == self.name)).scalars().all()
            positions: dict[str, dict[int, int]] = {t: {} for t in partitions}
            for r in rows:
                if r.topic in positions and r.partition in gained:
                    positions[r.topic][r.partition] = r.next_offset
            if not rows and self._seed_group:
                for t in self._topics:
                    if t in partitions:
                        seeded = self._log.committed(self._seed_group, t)
                        positions[t].update({p: o for p, o in seeded.items() if p in gained})
            held = s.execute(select(self._held).where(self._held.consumer == self.name,
                                                      self._held.partition.in_(gained))
                             .order_by(self._held.seq)).scalars().all()
            for h in held:
                self._partition_of[h.case_id] = h.partition
                if h.state == "parked":
                    self._parked.add(h.case_id)
                elif h.state == "waiting":
                    self._waiting.setdefault(h.case_id, set()).add(h.topic)
            # An entry parked just before a crash may not have reached the dead-letter topic: send again
            # (its id is derived from the record, so a repeat is the same entry).
            self._new_entries = [(h.case_id, self._entry(h, h.reason, h.entry_id or "")) for h in held
                                 if h.state == "parked"]
        for t, ps in partitions.items():
            for p in ps:
                self._expected[(t, p)] = positions[t].get(p, 0)
        self._owned = (self._owned or frozenset()) | gained
        self._moved = True
        self._flush_entries()
        self._refresh_gauges()
        self._log_.info("partitions_assigned", partitions=sorted(gained), group=self.group)
        return positions

    def revoked(self, partitions: Mapping[str, Collection[int]]) -> None:
        """Forget the cases of lost partitions: their new owner reloads them from the database."""
        lost = {p for ps in partitions.values() for p in ps}
        gone = {case for case, p in self._partition_of.items() if p in lost}
        self._parked -= gone
        for case in gone:
            self._waiting.pop(case, None)
            del self._partition_of[case]
        for t, ps in partitions.items():
            for p in ps:
                self._expected.pop((t, p), None)
        self._owned = (self._owned or frozenset()) - lost
        forget = getattr(self._handler, "forget_partitions", None)
        if forget is not None:  # a handler's own caches of those cases
            forget(lost)
        self._refresh_gauges()
        self._log_.info("partitions_revoked", partitions=sorted(lost), group=self.group)

    def owns(self, partition: int) -> bool:
        """Is this partition number this member's now? (Every one, when not reading.)"""
        return self._owned is None or partition in self._owned

    def owns_case(self, case_id: str) -> bool:
        """Is this case's partition this member's now (work kept per case, e.g. deliveries to send)?"""
        if self._owned is None:
            return True
        if self._count is None:
            self._count = self._log.partitions(self._topics[0])
        return partition_for(case_id, self._count) in self._owned

    # -- for a consumer that rebuilds its state from the log at start (the SLA monitor) -----------
    def held_records(self) -> set[tuple[str, int, int]]:
        """Where the events this consumer holds back sit on the log: a rebuild must skip them."""
        with self._sessions() as s:
            return {(t, p, o) for t, p, o in s.execute(select(self._held.topic, self._held.partition, self._held.offset)
                                                       .where(self._held.consumer == self.name))}

    def set_aside(self, items: list[tuple[Record, str, str | None]]) -> None:
        """Park (with a reason) or hold behind (reason None) records a rebuild could not apply."""
        if not items:
            return
        self._new_entries = []
        with self._sessions.begin() as s:
            for record, case, reason in items:
                if reason is None:
                    self._hold(s, record, case, "held", "behind a dead-lettered event of this case")
                else:
                    self._park(s, record, case, reason)
        self._counted()
        self._flush_entries()

    def save_positions(self, positions: dict[str, dict[int, int]]) -> None:
        with self._sessions.begin() as s:
            self._store_positions(s, positions)

    def _store_positions(self, s: Session, positions: dict[str, dict[int, int]]) -> None:
        """The positions after a batch, its topics' rows read in one query (a merge reads one row at a time)."""
        t = self._position
        topics = [topic for topic, at in positions.items() if at]
        if not topics:
            return
        rows = {(r.topic, r.partition): r for r in s.execute(
            select(t).where(t.consumer == self.name, t.topic.in_(topics))).scalars()}
        for topic in topics:
            for partition, offset in positions[topic].items():
                row = rows.get((topic, partition))
                if row is None:
                    s.add(t(consumer=self.name, topic=topic, partition=partition, next_offset=offset))
                elif row.next_offset != offset:
                    row.next_offset = offset

    def status(self) -> dict[str, int]:
        return {"parked_cases": len(self._parked), "waiting_cases": len(self._waiting)}

    def _refresh_gauges(self) -> None:
        self.metrics.parked.labels(self.name).set(len(self._parked))
        self.metrics.waiting.labels(self.name).set(len(self._waiting))

    # -- the loop -----------------------------------------------------------------
    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False,
            progress: Callable[[int], None] | None = None) -> int:
        """Consume until stopped (or, with ``until_caught_up``, until the ends seen at start, of every
        partition). Returns events handled; ``progress`` hears each batch's size."""
        self._parked, self._waiting, self._partition_of, self._expected = set(), {}, {}, {}
        self._owned = frozenset()
        ends = {t: self._log.end_offsets(t) for t in self._all_topics()} if until_caught_up else None
        # A catch-up pass (a tool, a test) reads every partition to its end now, without joining the group
        # (a join costs a rebalance of the live workers); the fence still keeps it off their batches.
        member = self._member = self._log.join(None if until_caught_up else self.group, self._all_topics(), self)
        self._moved = False
        self._after_commit()  # what a crash left in an outbox (or in a delivery queue) of the cases held
        handled_before = self.handled
        refreshed = 0.0
        try:
            while not self.stopping.is_set():
                if ends is not None and self._caught_up(member, ends):
                    break
                if time.monotonic() - refreshed > 5:
                    self._refresh_lag(member)
                    refreshed = time.monotonic()
                wait = poll_timeout if self._tick is None else min(poll_timeout, max(0.01, self._tick()))
                batch = member.poll(max_records=self._batch, timeout=wait)
                if self._moved and not batch:
                    self._moved = False
                    self._after_commit()  # a gained partition's leftovers (a delivery a crashed member queued)
                if batch:
                    self._moved = False
                    self.step(batch, member.positions())
                    if progress is not None:
                        progress(len(batch))
                if self._tick is not None and len(batch) < self._batch:
                    self._tick()  # only once caught up: a fact still unread may discharge what falls due
        finally:
            self._member = None
            member.close()
            self._owned = None
        return self.handled - handled_before

    @staticmethod
    def _caught_up(member: Member, ends: dict[str, dict[int, int]]) -> bool:
        held = member.assigned()
        if not held:
            return False  # not yet given partitions by the group
        at = member.positions()
        return all(at.get(t, {}).get(p, 0) >= e for t, end in ends.items() for p, e in end.items() if p in held)

    def stop(self) -> None:
        self.stopping.set()

    def _refresh_lag(self, member: Member) -> None:
        lag = 0
        held = member.assigned()
        for t, at in member.positions().items():
            lag += sum(max(0, e - at.get(p, 0)) for p, e in self._log.end_offsets(t).items() if p in held)
        self.metrics.lag.labels(self.name).set(lag)

    def step(self, records: list[Record], positions: dict[str, dict[int, int]]) -> None:
        """One batch: handled in one transaction with the positions after it; then the parked entries
        are sent to the dead-letter topic and ``after_commit`` runs (an outbox publish)."""
        if self._optimistic:
            try:
                self._transaction(records, positions, careful=False)
            except _Refused:  # rolled back: run again, each event in its own savepoint
                self._transaction(records, positions, careful=True)
        else:
            self._transaction(records, positions, careful=True)
        for topic, at in positions.items():
            for partition, offset in at.items():
                if (topic, partition) in self._expected:
                    self._expected[(topic, partition)] = offset
        self._flush_entries()
        self._refresh_gauges()
        self._after_commit()

    def _transaction(self, records: list[Record], positions: dict[str, dict[int, int]], careful: bool) -> None:
        """The batch's transaction: its events handled, then its positions; all or nothing."""
        self._new_entries = []
        self._careful = careful
        self._outcomes = Tally()
        parked_before, waiting_before = set(self._parked), {k: set(v) for k, v in self._waiting.items()}
        partitions_before = dict(self._partition_of)
        try:
            with self._sessions.begin() as s:
                if self.group is not None and self._member is not None:
                    self._fence(s, positions)
                prefetch = getattr(self._handler, "prefetch", None)
                if prefetch is not None:  # the batch's cases read in a few queries, not a few per event
                    prefetch(s, {r.key for r in records if r.key and r.topic != self._decisions})
                for record in records:
                    if record.topic == self._decisions:
                        self._decide(s, record)
                    else:
                        self._one(s, record)
                self._store_positions(s, positions)
        except BaseException:
            # the batch left no trace
            self._parked, self._waiting, self._partition_of = parked_before, waiting_before, partitions_before
            self._new_entries = []
            raise
        self._counted()

    def _counted(self) -> None:
        """What the committed transaction did, into the metrics (a rolled-back one did nothing)."""
        for outcome, n in self._outcomes.items():
            self.metrics.events.labels(self.name, outcome).inc(n)
        self.handled += self._outcomes["handled"]
        self._outcomes = Tally()

    def _fence(self, s: Session, positions: dict[str, dict[int, int]]) -> None:
        """Lock this batch's position rows and check they are where this member left them: otherwise
        another member has taken the partition since (this one overran its session unheard)."""
        t = self._position
        for topic in sorted(positions):
            parts = sorted(p for p in positions[topic] if (topic, p) in self._expected)
            if not parts:
                continue
            rows = s.execute(select(t.partition, t.next_offset).where(t.consumer == self.name, t.topic == topic,
                                                                       t.partition.in_(parts))
                             .order_by(t.partition).with_for_update()).all()
            for partition, stored in rows:
                if stored != self._expected[(topic, partition)]:
                    raise Fenced(f"{self.name}: {topic}[{partition}] is at {stored} in the database, this member "
                                 f"read from {self._expected[(topic, partition)]}: another member holds it now")

    # -- one event ------------------------------------------------------------------
    def _one(self, s: Session, record: Record) -> None:
        try:
            env = decode(record.value)
        except EventDecodeError as exc:
            self._park(s, record, record.key or "-", str(exc))
            return
        case = env.case_id
        if case in self._parked:
            self._hold(s, record, case, "held", "behind a dead-lettered event of this case")
            return
        if record.topic in self._waiting.get(case, ()):
            self._hold(s, record, case, "waiting", "behind an earlier waiting event of this case")
            return
        outcome = self._attempt(s, env, record.value)
        if isinstance(outcome, _Failed):
            self._park(s, record, case, outcome.reason)
        elif isinstance(outcome, Wait):
            self._hold(s, record, case, "waiting", outcome.reason)
            self._waiting.setdefault(case, set()).add(record.topic)
            self._partition_of[case] = record.partition
            self._outcomes["waiting"] += 1
        else:
            self._outcomes["handled"] += 1
            self._log_.info("event_seen", case_id=case, event_type=env.event_type, topic=record.topic)
            if case in self._waiting:
                self._release(s, case)

    def _attempt(self, s: Session, env: Envelope, raw: bytes) -> Wait | _Failed | None:
        if not self._careful:
            try:
                return self._handler.handle(s, env, raw)
            except TRANSIENT:
                raise
            except Exception as exc:  # the event's own failure: the batch runs again, with savepoints
                raise _Refused(_reason(exc)) from exc
        failure: BaseException | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                with s.begin_nested():
                    return self._handler.handle(s, env, raw)
            except TRANSIENT:
                raise
            except Exception as exc:  # the event is refused: tried again, then parked with the reason
                failure = exc
                self._log_.warning("event_refused", case_id=env.case_id, event_type=env.event_type,
                                   attempt=attempt, reason=_reason(exc))
                if attempt < self._attempts:
                    time.sleep(self._retry_delay * attempt)
        assert failure is not None
        return _Failed(_reason(failure))

    def _hold(self, s: Session, record: Record, case: str, state: str, reason: str, entry_id: str | None = None) -> HeldRecord:
        row = self._held(consumer=self.name, case_id=case, topic=record.topic, partition=record.partition,
                        offset=record.offset, value=record.value, state=state, reason=reason, entry_id=entry_id,
                        held_at=self._clock())
        s.add(row)
        s.flush()
        return row

    def _entry(self, h: HeldRecord, reason: str, entry_id: str) -> bytes:
        record = Record(h.topic, h.partition, h.offset, h.case_id, bytes(h.value), 0)
        return dead_letter_entry(record, reason, self.name, parked_at=h.held_at, entry_id=entry_id, case_id=h.case_id)

    def _park(self, s: Session, record: Record, case: str, reason: str, attempt: int = 1) -> None:
        entry_id = entry_id_for(self.name, record, attempt)
        row = self._hold(s, record, case, "parked", reason, entry_id)
        self._parked.add(case)
        self._partition_of[case] = record.partition
        self._new_entries.append((case, self._entry(row, reason, entry_id)))
        self._outcomes["parked"] += 1
        self._log_.warning("event_dead_lettered", case_id=case, topic=record.topic, partition=record.partition,
                           offset=record.offset, reason=reason, entry_id=entry_id)

    def _flush_entries(self) -> None:
        if self._new_entries:
            self._dead_log.append_many(self._dead_topic, self._new_entries)
            self._new_entries = []

    # -- held events ----------------------------------------------------------------
    def _rows(self, s: Session, case: str) -> list[HeldRecord]:
        return list(s.execute(select(self._held).where(self._held.consumer == self.name, self._held.case_id == case)
                              .order_by(self._held.seq)).scalars())

    def _release(self, s: Session, case: str) -> None:
        """Try the case's held events again, in order, until none moves: each success may be the fact
        another was waiting for."""
        progress = True
        while progress and case not in self._parked:
            progress = False
            stuck: set[str] = set()
            for row in self._rows(s, case):
                if row.state != "waiting" and row.state != "held":
                    continue
                if row.topic in stuck:
                    continue  # an earlier event of this topic still waits: keep the order
                env = decode(bytes(row.value))
                outcome = self._attempt(s, env, bytes(row.value))
                if isinstance(outcome, _Failed):
                    self._repark(s, row, case, outcome.reason)
                    return
                if isinstance(outcome, Wait):
                    row.state, row.reason = "waiting", outcome.reason
                    stuck.add(row.topic)
                    continue
                s.delete(row)
                self._outcomes["handled"] += 1
                progress = True
            if stuck:
                self._waiting[case] = stuck
            else:
                self._waiting.pop(case, None)
        s.flush()

    def _repark(self, s: Session, row: HeldRecord, case: str, reason: str) -> None:
        entry_id = str(uuid.uuid4())  # parked again after a retry: a new entry for the operator
        row.state, row.reason, row.entry_id = "parked", reason, entry_id
        for later in self._rows(s, case):
            if later.seq > row.seq:
                later.state = "held"
        self._parked.add(case)
        self._partition_of[case] = row.partition
        self._waiting.pop(case, None)
        self._new_entries.append((case, self._entry(row, reason, entry_id)))
        self._outcomes["parked"] += 1
        self._log_.warning("event_dead_lettered", case_id=case, topic=row.topic, partition=row.partition,
                           offset=row.offset, reason=reason, entry_id=entry_id)

    def _decide(self, s: Session, record: Record) -> None:
        d = Decision.parse(record.value)
        if d is None or d.service != self.name:
            return
        rows = self._rows(s, d.case_id)
        parked = next((r for r in rows if r.state == "parked" and r.entry_id == d.entry_id), None)
        if parked is None:
            if self._on_decision is not None:
                self._on_decision(s, d)
            return  # decided before (a redelivered decision), or not ours
        self._log_.info("dead_letter_decided", case_id=d.case_id, entry_id=d.entry_id, action=d.action)
        self._parked.discard(d.case_id)
        if d.action == "skip":
            s.delete(parked)
        else:
            parked.state = "held"
        s.flush()
        for row in self._rows(s, d.case_id):
            row.state = "held"
        self._waiting[d.case_id] = set()
        self._partition_of[d.case_id] = record.partition
        self._release(s, d.case_id)
