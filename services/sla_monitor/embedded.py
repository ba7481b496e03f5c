"""The SLA monitor in the embedded single-process mode: the obligation core on a plain log loop."""
from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.bootstrap import Container
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import MonitorLoop


def loops(c: Container, registry: CollectorRegistry | None = None) -> list[MonitorLoop]:
    """``registry``: where to publish the monitor's metrics (in `up`, the intake's /metrics)."""
    return [MonitorLoop(c.log, c.topics, c.dead_letters("sla_monitor"),
                        c.calendar, c.charters, c.clock, metrics=MonitorMetrics(registry))]
