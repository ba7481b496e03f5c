"""Publishes the events a ledger transaction queued, after it committed (the outbox pattern).

A crash between commit and publish leaves the rows unpublished; the next publish
(after the next batch, or at start) sends them. A crash between publish and marking
them sent repeats them with the same event ids, which consumers deduplicate.
"""
from __future__ import annotations

import threading

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from services.eventlog.port import EventLog
from services.outbox.orm import OutboxRow


class Outbox:
    def __init__(self, log: EventLog, topic: str, sessions: sessionmaker, producer: str, batch: int = 1000) -> None:
        self._log = log
        self._producer = producer
        self._topic = topic
        self._sessions = sessions
        self._batch = batch
        self._lock = threading.Lock()  # one publisher per process at a time: no double sends between threads

    def publish(self) -> int:
        sent = 0
        with self._lock:
            while True:
                with self._sessions() as session:
                    rows = session.execute(select(OutboxRow.seq, OutboxRow.case_id, OutboxRow.value)
                                           .where(OutboxRow.producer == self._producer, OutboxRow.published.is_(False))
                                           .order_by(OutboxRow.seq)
                                           .limit(self._batch)).all()
                if not rows:
                    return sent
                self._log.append_many(self._topic, [(case_id, bytes(value)) for _, case_id, value in rows])
                with self._sessions.begin() as session:
                    session.execute(update(OutboxRow).where(OutboxRow.seq.in_([seq for seq, _, _ in rows]))
                                    .values(published=True))
                sent += len(rows)
