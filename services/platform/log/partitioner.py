"""The one partitioner: Kafka's default (murmur2 of the key), so a case has the same partition number
on every topic and in both modes (the embedded log partitions with it; the monitor's table and the
audit's one-case reads rely on it)."""
from __future__ import annotations

from functools import lru_cache

from kafka.partitioner.default import murmur2


@lru_cache(maxsize=1 << 16)  # murmur2 in pure Python costs ~12 us; a case's key recurs with each of its events
def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner: murmur2 of the key bytes, positive, modulo the count."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
