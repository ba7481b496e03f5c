"""The compensation worker: a consumer group over the petition and SLA events."""
from __future__ import annotations

from services.bootstrap import Container
from services.eventlog.consumer import ConsumerLoop
from services.eventlog.observe import observer

GROUP = "charterwatch.compensation"


def loops(c: Container) -> list[ConsumerLoop]:
    handle = observer("compensation")
    return [ConsumerLoop(c.log, c.topics.petition_events, GROUP, handle, c.dead_letters("compensation"))]
