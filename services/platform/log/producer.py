"""Appending to Kafka through librdkafka (confluent-kafka): the one producer every service's relay uses.

Chosen by measurement (issue 21, goal 7; ``bench/clients.py``): on this machine librdkafka produced
11x kafka-python's rate with the same settings, and an outbox relay spends most of its time producing.
Reading stays on kafka-python (``services.platform.log.kafka``): consumer groups and positions are there.

Guarantees kept from the kafka-python producer it replaces: idempotent, ``acks=all``; ``append_many``
returns only when every record it was given is acknowledged, in order within a partition. The
partition is chosen here, Kafka's murmur2 of the key (``partitioner.partition_for``), as the Java
clients, aiokafka and faust do: librdkafka's own default hashes differently, and a case's topics must
stay co-partitioned with the monitor's.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from services.platform.log.port import LogUnavailable


class Batch:
    """One caller's records: their acknowledgements, heard from librdkafka's delivery callbacks."""

    def __init__(self, n: int) -> None:
        self.results: list[tuple[int, int] | None] = [None] * n
        self.pending = n
        self.error: str | None = None

    def heard(self, index: int, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.error = self.error or err.str()
        else:
            self.results[index] = (msg.partition(), msg.offset())
        self.pending -= 1


class RecordProducer:
    def __init__(self, bootstrap_servers: str, client_id: str, timeout_ms: int) -> None:
        self._servers = bootstrap_servers
        self._timeout_s = timeout_ms / 1000
        self._lock = threading.Lock()  # delivery callbacks run in whichever thread polls
        try:
            self._producer = Producer({
                "bootstrap.servers": bootstrap_servers, "client.id": client_id,
                "acks": "all", "enable.idempotence": True,
                # no linger: librdkafka batches what queues while a request is in flight anyway; measured
                # (bench/producer_rate.py) linger 2 ms cut one-at-a-time appends from 6,144/s to 432/s and
                # gave batches of 500 nothing (46,746/s against 51,889/s)
                "linger.ms": 0,
                "message.timeout.ms": timeout_ms * 3, "request.timeout.ms": timeout_ms,
                "socket.timeout.ms": timeout_ms,
                # librdkafka's own lines through the service's JSON logs (served by poll), not raw to stderr
                "logger": logging.getLogger("kafka.producer"),
            })
        except KafkaException as exc:
            raise LogUnavailable(f"kafka at {bootstrap_servers}: {exc}") from exc

    def send(self, topic: str, records: Sequence[tuple[bytes, bytes, int]]) -> list[tuple[int, int]]:
        """``records``: (key, value, partition). Returns each one's (partition, offset) once acknowledged."""
        batch = Batch(len(records))
        deadline = time.monotonic() + self._timeout_s * 3
        for i, (key, value, partition) in enumerate(records):
            while True:
                try:
                    self._producer.produce(topic, value=value, key=key, partition=partition,
                                           on_delivery=lambda err, msg, i=i: batch.heard(i, err, msg))
                    break
                except BufferError:  # librdkafka's queue is full: let it drain, then hand the rest over
                    self._poll(0.05)
                    if time.monotonic() > deadline:
                        raise LogUnavailable(f"kafka at {self._servers}: the producer's queue stayed full") from None
                except KafkaException as exc:
                    raise LogUnavailable(f"kafka at {self._servers}: {exc}") from exc
        while batch.pending and time.monotonic() < deadline:
            self._poll(0.05)
        if batch.error is not None or batch.pending:
            reason = batch.error or f"no acknowledgement within {self._timeout_s * 3:.0f} s"
            raise LogUnavailable(f"kafka at {self._servers} did not acknowledge: {reason}")
        return [r for r in batch.results if r is not None]

    def _poll(self, timeout: float) -> None:
        with self._lock:
            self._producer.poll(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._producer.flush(timeout)
