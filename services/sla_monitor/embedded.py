"""The SLA monitor in the embedded single-process mode: the same core on a plain consumer loop."""
from __future__ import annotations

from services.bootstrap import Container
from services.eventlog.consumer import ConsumerLoop
from services.eventlog.observe import observer

GROUP = "charterwatch.sla-monitor"


def loops(c: Container) -> list[ConsumerLoop]:
    return [ConsumerLoop(c.log, c.topics.petition_events, GROUP, observer("sla_monitor"), c.dead_letters("sla_monitor"))]
