"""What a service that only watches the log does with an event: say so in its log."""
from __future__ import annotations

from collections.abc import Callable

from services.eventlog.port import Record
from services.logs import get_logger
from shared.events import Envelope


def observer(service: str) -> Callable[[Envelope, Record], None]:
    log = get_logger(service)

    def handle(env: Envelope, record: Record) -> None:
        log.info("event_seen", case_id=env.case_id, event_type=env.event_type, schema_version=env.schema_version,
                 topic=record.topic, partition=record.partition, offset=record.offset)

    return handle
