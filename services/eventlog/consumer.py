"""A consumer-group loop over the log: decode, handle, commit after the batch.

At-least-once: positions are committed only after every record of the batch
was handled, so a crash re-delivers; handlers are idempotent. A record that
does not decode goes to the dead-letter topic and the loop moves on. Any other
error stops the loop and propagates: a bug must not be logged and skipped.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from services.eventlog.deadletter import DeadLetters
from services.eventlog.port import EventLog, Record
from shared.events import Envelope

Handler = Callable[[Envelope, Record], None]


class ConsumerLoop:
    def __init__(
        self,
        log: EventLog,
        topic: str,
        group: str,
        handler: Handler,
        dead_letters: DeadLetters,
        poll_timeout: float = 0.5,
    ) -> None:
        self._log = log
        self._topic = topic
        self._group = group
        self._handler = handler
        self._dead = dead_letters
        self._poll_timeout = poll_timeout
        self.stopping = threading.Event()

    def run(self) -> None:
        reader = self._log.reader(self._topic, self._log.committed(self._group, self._topic))
        try:
            while not self.stopping.is_set():
                records = reader.poll(timeout=self._poll_timeout)
                if not records:
                    continue
                for record in records:
                    envelope = self._dead.decode(record)
                    if envelope is not None:
                        self._handler(envelope, record)
                self._log.commit(self._group, self._topic, reader.positions())
        finally:
            reader.close()

    def stop(self) -> None:
        self.stopping.set()
