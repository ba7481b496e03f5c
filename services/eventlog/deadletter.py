"""The dead-letter path: a record no handler can take is parked with its reason, never dropped."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone

from services.eventlog.port import EventLog, Record
from services.logs import get_logger
from shared.events import Envelope, EventDecodeError, decode


def dead_letter_entry(record: Record, reason: str, service: str, parked_at: datetime | None = None) -> bytes:
    return json.dumps({
        "service": service,
        "reason": reason,
        "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
        "key": record.key,
        "value_b64": base64.b64encode(record.value).decode(),
        "parked_at": (parked_at or datetime.now(timezone.utc)).isoformat(),
    }, ensure_ascii=False).encode()


class DeadLetters:
    def __init__(self, log: EventLog, topic: str, service: str) -> None:
        self._log = log
        self._topic = topic
        self._service = service

    def park(self, record: Record, reason: str) -> None:
        self._log.append(self._topic, record.key or "-", dead_letter_entry(record, reason, self._service))
        get_logger(self._service).warning("event_dead_lettered", topic=record.topic, partition=record.partition,
                                          offset=record.offset, reason=reason)

    def decode(self, record: Record) -> Envelope | None:
        """The record's event, or None after parking a record that is not a valid event."""
        try:
            return decode(record.value)
        except EventDecodeError as exc:
            self.park(record, str(exc))
            return None

    def events(self, records: list[Record]) -> Iterator[tuple[Record, Envelope]]:
        """Each valid record with its event, logged as seen by this service; the others parked."""
        log = get_logger(self._service)
        for record in records:
            env = self.decode(record)
            if env is not None:
                log.info("event_seen", case_id=env.case_id, event_type=env.event_type, topic=record.topic)
                yield record, env
