"""Faust agents. Domain events stay out of faust.Record: the agent decodes raw bytes into envelopes."""
from __future__ import annotations

import faust

from services.eventlog.deadletter import dead_letter_entry
from services.eventlog.port import Record
from services.eventlog.topics import Topics
from services.logs import get_logger
from services.sla_monitor.topics import petition_events
from shared.events import EventDecodeError, decode

log = get_logger("sla_monitor")


def register(app: faust.App, topics: Topics) -> None:
    source = petition_events(app, topics)
    dead_letter = app.topic(topics.dead_letter, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="watch-petitions")
    async def watch(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            try:
                env = decode(event.value)
            except EventDecodeError as exc:
                log.warning("event_dead_lettered", topic=message.topic, partition=message.partition,
                            offset=message.offset, reason=str(exc))
                await dead_letter.send(key=message.key or b"-", value=_dead_entry(message, str(exc)))
                continue
            log.info("event_seen", case_id=env.case_id, event_type=env.event_type,
                     topic=message.topic, partition=message.partition, offset=message.offset)


def _dead_entry(message: faust.types.Message, reason: str) -> bytes:
    record = Record(message.topic, message.partition, message.offset, (message.key or b"").decode(errors="replace"),
                    message.value or b"", int((message.timestamp or 0) * 1000))
    return dead_letter_entry(record, reason, "sla_monitor")
