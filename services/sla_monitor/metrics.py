"""Prometheus metrics of the monitor: open obligations by kind, breaches, detection delay, consumer lag."""
from __future__ import annotations

from collections import Counter as TallyCounter
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.events import Envelope
from shared.obligations import ObligationBook


class MonitorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.open = Gauge("charterwatch_obligations_open", "Open obligations by kind", ["kind"], registry=self.registry)
        self.breaches = Counter("charterwatch_obligation_breaches_total", "Breaches emitted", ["kind", "severity"],
                                registry=self.registry)
        self.delay = Histogram("charterwatch_breach_detection_delay_seconds",
                               "From the due instant to the breach being emitted", registry=self.registry,
                               buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300, 3600, 86400))
        self.lag = Gauge("charterwatch_monitor_consumer_lag", "Petition events not yet read", registry=self.registry)

    def emitted(self, events: list[Envelope], now: datetime) -> None:
        by_label: TallyCounter[tuple[str, str]] = TallyCounter()
        at = now.timestamp()
        for e in events:
            if e.event_type == "ObligationBreached":
                by_label[(e.payload.kind, e.payload.severity)] += 1  # type: ignore[attr-defined]
                self.delay.observe(max(0.0, at - e.occurred_at.timestamp()))
        for labels, n in by_label.items():
            self.breaches.labels(*labels).inc(n)

    def refresh(self, book: ObligationBook, lag: int) -> None:
        counts = book.open_by_kind()
        for kind in set(counts) | {s[0]["kind"] for s in self._labels()}:
            self.open.labels(kind).set(counts.get(kind, 0))
        self.lag.set(lag)

    def _labels(self) -> list:
        return [(sample.labels,) for metric in self.open.collect() for sample in metric.samples]
