"""The one partitioner: Kafka's default (murmur2 of the key), so a case has the same partition number
on every topic and in both modes (the embedded log partitions with it; the monitor's table and the
audit's one-case reads rely on it)."""
from __future__ import annotations

import random
from functools import lru_cache

from kafka.partitioner.default import murmur2


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner: murmur2 of the key bytes, positive, modulo the count."""
    return _index(key.encode(), partitions)


@lru_cache(maxsize=1 << 16)  # murmur2 in pure Python costs ~12 us; a case's key recurs with each of its events
def _index(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class KeyPartitioner:
    """aiokafka's partitioner interface on the same hash, cached: faust's producer hashed each key in pure
    Python on every send, a tenth of the monitor's time in a burst (a breach and its case's snapshot
    share a key). Keyless records go to a random partition, as aiokafka's default does."""

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        return all_partitions[_index(bytes(key), len(all_partitions))]
