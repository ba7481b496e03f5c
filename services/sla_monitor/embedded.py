"""The SLA monitor in the embedded single-process mode: the obligation core on a plain log loop."""
from __future__ import annotations

from services.bootstrap import Container
from services.sla_monitor.runner import MonitorLoop


def loops(c: Container) -> list[MonitorLoop]:
    return [MonitorLoop(c.log, c.topics.petition_events, c.topics.sla_events, c.dead_letters("sla_monitor"),
                        c.calendar, c.charters, c.clock)]
