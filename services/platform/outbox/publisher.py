"""Publishes what a transaction queued in the outbox, after it committed (the transactional outbox).

State and outgoing events commit together; this relay appends them to the log in the order
they were queued, so a case's events keep their order (a case's key always lands in one
partition, and one relay at a time holds the outbox: a database lock, not a process lock).
A crash between the append and marking the rows sent repeats them with the same event ids,
which every consumer deduplicates.

Group commit: where the relay loop runs (``charterwatch intake``, ``up``), a request only wakes
it after its commit; the relay sends whatever has accumulated in one append, so many commands
share one round trip to the log. Without a relay loop (tests, one-off tools) the committing
thread publishes itself.
"""
from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from services.platform.log.port import EventLog, LogUnavailable
from services.platform.logs import get_logger
from services.platform.outbox.orm import OutboxRecord

log = get_logger("outbox")


def _relay_lock(session: Session, producer: str) -> None:
    """Only one relay per producer publishes at a time, across processes (PostgreSQL: an advisory
    lock held until the rows are marked sent). SQLite serves one host: the process lock suffices."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"outbox|{producer}".encode())})


class OutboxMetrics:
    """How many events each outbox holds unpublished and how old the oldest is, read from its table when
    scraped: a relay stuck on a down log still shows its outbox growing older."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._watched: dict[str, Callable[[], tuple[int, datetime | None]]] = {}
        self.registry.register(_Backlog(self._watched))

    def watch(self, producer: str, backlog: Callable[[], tuple[int, datetime | None]]) -> None:
        """``backlog``: (events unpublished, the oldest one's created_at) of the producer's outbox."""
        self._watched[producer] = backlog


class _Backlog(Collector):
    def __init__(self, watched: dict[str, Callable[[], tuple[int, datetime | None]]]) -> None:
        self._watched = watched

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (GaugeMetricFamily("charterwatch_outbox_unpublished", "Events committed, not yet on the log",
                                  labels=["producer"]),
                GaugeMetricFamily("charterwatch_outbox_oldest_age_seconds",
                                  "Age of the oldest event not yet on the log", labels=["producer"]))

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        unpublished, oldest = self._families()
        now = datetime.now(timezone.utc)
        for producer, backlog in list(self._watched.items()):
            try:
                count, first = backlog()
            except Exception as exc:  # a database that does not answer: no sample (its /readyz says why)
                log.warning("outbox_metrics_unavailable", producer=producer, reason=type(exc).__name__)
                continue
            age = 0.0
            if first is not None:
                at = first if first.tzinfo else first.replace(tzinfo=timezone.utc)
                age = max(0.0, (now - at).total_seconds())
            unpublished.add_metric([producer], count)
            oldest.add_metric([producer], age)
        yield unpublished
        yield oldest


class Outbox:
    def __init__(self, log: EventLog, topic: str, sessions: sessionmaker, table: type[OutboxRecord], producer: str,
                 batch: int = 1000, metrics: OutboxMetrics | None = None,
                 on_published: Callable[[Iterable[bytes]], object] = lambda values: None) -> None:
        """``table``: the producing service's own outbox; ``producer``: its name in logs, metrics and the lock;
        ``on_published``: told the events each append put on the log (a service's own metrics)."""
        self._log = log
        self._table = table
        self._producer = producer
        self._topic = topic
        self._sessions = sessions
        self._batch = batch
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._down_until = 0.0
        self._relaying = False  # a relay loop runs in this process: requests only wake it
        self._on_published = on_published
        self._sqlite = sessions.kw["bind"].dialect.name == "sqlite"
        self.metrics = metrics or OutboxMetrics()
        self.metrics.watch(producer, self.backlog)
        self.stopping = threading.Event()

    def publish(self) -> int:
        """Everything queued, in order; raises LogUnavailable when the log does not acknowledge."""
        sent = 0
        with self._lock:
            while True:
                batch = self._publish_batch()
                if not batch:
                    return sent
                sent += batch

    def _publish_batch(self) -> int:
        # On SQLite a writing transaction holds the database's only write lock: the rows are read in
        # one, sent outside any, and marked in a second, so commands never wait for the log's round
        # trip. On PostgreSQL one transaction holds the advisory lock across all three.
        with self._sessions.begin() as session:
            _relay_lock(session, self._producer)
            t = self._table
            rows = session.execute(select(t.seq, t.case_id, t.value).where(t.published.is_(False))
                                   .order_by(t.seq).limit(self._batch)).all()
            if not rows:
                return 0
            if not self._sqlite:
                self._append(rows)
                self._mark(session, rows)
                return len(rows)
        self._append(rows)
        with self._sessions.begin() as session:
            self._mark(session, rows)
        return len(rows)

    def _append(self, rows: list) -> None:  # type: ignore[type-arg]
        try:
            self._log.append_many(self._topic, [(case_id, bytes(value)) for _, case_id, value in rows])
        except LogUnavailable:
            self._down_until = time.monotonic() + 5
            raise
        self._on_published([bytes(value) for _, _, value in rows])

    def _mark(self, session: Session, rows: list) -> None:  # type: ignore[type-arg]
        t = self._table
        session.execute(update(t).where(t.seq.in_([seq for seq, _, _ in rows])).values(published=True))

    def publish_soon(self) -> None:
        """After a commit: wake the relay loop, or publish now where none runs (unless the log was
        just found down: then the next attempt will)."""
        if self._relaying or time.monotonic() < self._down_until:
            self._wake.set()
            return
        try:
            self.publish()
        except LogUnavailable as exc:
            log.warning("outbox_publish_deferred", producer=self._producer, reason=str(exc))
            self._wake.set()

    def backlog(self) -> tuple[int, datetime | None]:
        """Events not yet on the log, and when the oldest of them was committed."""
        with self._sessions() as session:
            count, oldest = session.execute(select(func.count(), func.min(self._table.created_at))
                                            .where(self._table.published.is_(False))).one()
        return int(count), oldest

    # -- as a supervised loop: the relay for what a crash or a down log left behind --------------
    def run(self) -> None:
        self._relaying = True
        delay = 0.5
        while not self.stopping.is_set():
            self._wake.clear()  # before publishing: a commit during the publish wakes the next round
            try:
                self.publish()
                delay = 0.5
            except LogUnavailable as exc:
                log.warning("outbox_relay_waiting", producer=self._producer, reason=str(exc))
                delay = min(30.0, delay * 2)
                self.stopping.wait(delay)  # the log is down: commits do not hurry the next try
                continue
            self._wake.wait(1.0)
        self._relaying = False

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
