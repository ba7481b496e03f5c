"""The notify worker: a consumer group over the petition events."""
from __future__ import annotations

from services.bootstrap import Container
from services.eventlog.consumer import ConsumerLoop
from services.eventlog.observe import observer

GROUP = "charterwatch.notify"


def loops(c: Container) -> list[ConsumerLoop]:
    handle = observer("notify")
    return [ConsumerLoop(c.log, c.topics.petition_events, GROUP, handle, c.dead_letters("notify"))]
