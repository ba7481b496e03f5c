"""The faust application, alone in its module, built by a factory (nothing connects at import)."""
from __future__ import annotations

import faust

from services.platform.settings import Settings

APP_ID = "charterwatch-sla-monitor"


def create_app(settings: Settings) -> faust.App:
    return faust.App(
        f"{settings.topic_prefix}{APP_ID}",  # the consumer group: one per topic namespace
        broker=[f"kafka://{s}" for s in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        topic_partitions=6,
        topic_replication_factor=settings.kafka_replication_factor,  # the topics faust creates itself
        web_enabled=False,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        # A worker killed outright is noticed after the session timeout; its partitions then move to the
        # others (and their timers wait until the moved backlog is read).
        broker_session_timeout=settings.monitor_session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.monitor_session_timeout_s / 4),
    )
