"""Prometheus metrics of notify: each notice settled, by channel, provider and outcome."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class NoticeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # outcome: sent, failed (the provider refused or every attempt failed: parked for an operator),
        # unreachable (no contact, a landline for an SMS, no channel: nothing was attempted)
        self.notices = Counter("charterwatch_notices_total", "Notices settled, by channel, provider and outcome",
                               ["channel", "provider", "outcome"], registry=self.registry)
        self.attempts = Counter("charterwatch_notice_attempts_total", "Attempts made with a provider",
                                ["channel", "provider"], registry=self.registry)

    def settled(self, channel: str, provider: str, outcome: str, attempts: int) -> None:
        self.notices.labels(channel, provider, outcome).inc()
        if attempts:
            self.attempts.labels(channel, provider).inc(attempts)
