"""The faust monitor's producer is idempotent (acks=all): a send retried after a broker dies mid-request
must not write a breach twice. faust turns idempotence on only for transactions, so the app asks for it."""
from __future__ import annotations

import asyncio

from services.platform.settings import Settings
from services.sla_monitor.app import create_app


def test_the_monitor_producer_is_idempotent_with_acks_all() -> None:
    app = create_app(Settings(kafka_bootstrap_servers="127.0.0.1:1"))

    async def build() -> object:
        producer = app.producer._new_producer()  # what faust starts for the worker's sends
        try:
            return producer._txn_manager
        finally:
            await producer.stop()

    txn_manager = asyncio.run(build())
    assert txn_manager is not None  # aiokafka keeps a producer id and sequence numbers only when idempotent
    assert app.producer._settings_extra()["acks"] == "all"


def test_the_monitor_producers_partitioner_is_kafkas_default() -> None:
    """The faust producer's cached partitioner puts every key where aiokafka's default (Kafka's murmur2) does:
    the table's changelog and the breaches stay on the case's partition."""
    import uuid as _uuid

    from aiokafka.partitioner import DefaultPartitioner

    from services.platform.log.partitioner import KeyPartitioner

    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    for n in (1, 6, 12):
        partitions = list(range(n))
        for key in [str(_uuid.uuid4()).encode() for _ in range(300)] + [b"", b"a", "민원".encode()]:
            assert ours(key, partitions, partitions) == theirs(key, partitions, partitions)
            assert ours(key, partitions, partitions) == ours(bytearray(key), partitions, partitions)
    assert ours(None, [0, 1, 2], [1]) == 1
