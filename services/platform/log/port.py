"""The event log port.

Semantics both adapters guarantee (and ``tests/integration/test_log_contract.py``
checks): records with the same key land in the same partition, in append
order; each partition numbers its records 0, 1, 2, ... (offsets); ``append``
returns only once the record is durable; a consumer group's committed
positions survive the process. Positions are "next offset to read".
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class LogUnavailable(RuntimeError):
    """The log did not acknowledge in time: nothing can be promised to the caller."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int  # -1: keep forever
    cleanup_policy: str = "delete"
    replication_factor: int = 1  # copies on distinct brokers (a log with one copy ignores it)
    min_insync_replicas: int = 1  # copies that must hold a write before it is acknowledged


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    timestamp_ms: int


class Reader(Protocol):
    """Reads a topic's partitions from given positions onward."""

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]: ...

    def positions(self) -> dict[int, int]: ...

    def close(self) -> None: ...


class EventLog(Protocol):
    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Create missing topics; returns the names created."""
        ...

    def append(self, topic: str, key: str, value: bytes) -> Position: ...

    def append_many(self, topic: str, items: Sequence[tuple[str, bytes]]) -> list[Position]: ...

    def partitions(self, topic: str) -> int: ...

    def end_offsets(self, topic: str) -> dict[int, int]: ...

    def reader(self, topic: str, positions: Mapping[int, int] | None = None,
               partitions: Collection[int] | None = None) -> Reader:
        """A reader from ``positions`` (partition -> next offset); missing partitions start at 0.
        ``partitions``: read only these (default: all), as one member of a group of readers would."""
        ...

    def committed(self, group: str, topic: str) -> dict[int, int]: ...

    def commit(self, group: str, topic: str, positions: Mapping[int, int]) -> None: ...

    def reopened(self) -> EventLog:
        """Another client of the same log, for a worker process (clients are not shared across a fork)."""
        ...

    def close(self) -> None: ...


def assigned_partitions(count: int, partitions: Collection[int] | None) -> list[int]:
    """The partitions a reader takes: all ``count`` of them, or the subset named (checked)."""
    if partitions is None:
        return list(range(count))
    unknown = sorted(set(partitions) - set(range(count)))
    if unknown:
        raise ValueError(f"partitions: {unknown} not in 0..{count - 1}")
    return sorted(set(partitions))
