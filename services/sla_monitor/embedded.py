"""The SLA monitor in the embedded single-process mode: the obligation core on the consumer runtime."""
from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.bootstrap import Container
from services.platform.consumer import ConsumerMetrics
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import MonitorLoop


def loops(c: Container, registry: CollectorRegistry | None = None, consumer_metrics: ConsumerMetrics | None = None,
          monitor_metrics: MonitorMetrics | None = None) -> list[MonitorLoop]:
    """``registry``: where to publish the monitor's metrics, unless ``monitor_metrics`` are given."""
    return [MonitorLoop(c.log, c.topics, c.dead_letters("sla_monitor"), c.calendar, c.charters, c.clock,
                        metrics=monitor_metrics or MonitorMetrics(registry), sessions=c.sessions,
                        consumer_metrics=consumer_metrics)]
