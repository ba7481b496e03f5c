"""The faust application, alone in its module, built by a factory (nothing connects at import)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver
from faust.types import TransportT

from services.platform.log.partitioner import KeyPartitioner
from services.platform.settings import Settings

APP_ID = "charterwatch-sla-monitor"


class _IdempotentProducer(driver.Producer):
    """acks=all with an idempotent producer, as the log port's own producer. faust turns idempotence
    on only inside transactions; without it a send retried after a broker dies mid-request (the record
    written, the answer lost) is written twice: the same breach, twice on the SLA topic."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class _Transport(driver.Transport):
    Producer = _IdempotentProducer


class MonitorApp(faust.App):
    def _new_transport(self) -> TransportT:
        return _Transport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> TransportT:
        return _Transport(self.conf.broker_producer, self)


def create_app(settings: Settings) -> faust.App:
    return MonitorApp(
        f"{settings.topic_prefix}{APP_ID}",  # the consumer group: one per topic namespace
        broker=[f"kafka://{s}" for s in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        topic_partitions=6,
        topic_replication_factor=settings.kafka_replication_factor,  # the topics faust creates itself
        web_enabled=False,
        producer_acks=-1,
        producer_partitioner=KeyPartitioner(),  # Kafka's murmur2, cached per key
        # An idempotent producer has one request in flight per broker: a burst leaves in as many requests as
        # its batches. faust's 16 KiB batches held ~10 breaches each.
        producer_max_batch_size=512 * 1024,
        producer_max_request_size=4 * 1024 * 1024,
        consumer_auto_offset_reset="earliest",
        # A worker killed outright is noticed after the session timeout; its partitions then move to the
        # others (and their timers wait until the moved backlog is read).
        broker_session_timeout=settings.monitor_session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.monitor_session_timeout_s / 4),
    )
