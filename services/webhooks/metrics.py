"""Prometheus metrics of webhooks: each delivery attempt by outcome, subscriptions disabled."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # outcome: succeeded, retry (failed, tried again later), failed (given up); error: the attempt's
        # class (http_4xx, http_5xx, timeout, ... from a fixed set), "none" when it succeeded
        self.attempts = Counter("charterwatch_webhook_deliveries_total", "Delivery attempts, by outcome and error",
                                ["outcome", "error"], registry=self.registry)
        self.seconds = Histogram("charterwatch_webhook_delivery_seconds", "How long the receiver took to answer",
                                 registry=self.registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.disabled = Counter("charterwatch_webhook_subscriptions_disabled_total",
                                "Subscriptions disabled automatically after failing too long", registry=self.registry)

    def attempted(self, outcome: str, error: str | None, duration_ms: int) -> None:
        self.attempts.labels(outcome, error or "none").inc()
        self.seconds.observe(duration_ms / 1000)
