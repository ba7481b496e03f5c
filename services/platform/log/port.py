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


class Rebalance(Protocol):
    """What a member is told when its partitions change (inside ``Member.poll``, between two batches)."""

    def assigned(self, partitions: Mapping[str, Collection[int]]) -> Mapping[str, Mapping[int, int]]:
        """These partitions are now this member's: returns where to read each from (next offset)."""
        ...

    def revoked(self, partitions: Mapping[str, Collection[int]]) -> None:
        """These partitions go to another member once this returns: forget what is kept of them."""
        ...


class Member(Protocol):
    """One member of a consumer group: reads the partitions the group gives it, on every topic."""

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]: ...

    def positions(self) -> dict[str, dict[int, int]]:
        """topic -> partition -> next offset, for the partitions this member holds now."""
        ...

    def assigned(self) -> frozenset[int]:
        """The partition numbers this member holds now (the same on each of its topics)."""
        ...

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

    def join(self, group: str | None, topics: Sequence[str], listener: Rebalance) -> Member:
        """Read ``topics`` as one member of consumer group ``group``: the log hands this member some
        partition numbers, the same on every topic (the topics are co-partitioned), and tells
        ``listener`` when they change. ``group`` None (or a log with one process, the embedded one):
        this member owns every partition. Positions stay with the caller (``listener.assigned``)."""
        ...

    def committed(self, group: str, topic: str) -> dict[int, int]: ...

    def commit(self, group: str, topic: str, positions: Mapping[int, int]) -> None: ...

    def reopened(self) -> EventLog:
        """Another client of the same log, for a worker process (clients are not shared across a fork)."""
        ...

    def close(self) -> None: ...


def co_partitioned(log: EventLog, topics: Sequence[str]) -> int:
    """The topics' common partition count. A consumer joining facts of one case across topics needs the
    case on the same partition number everywhere (same key, same partitioner, same count)."""
    counts = {t: log.partitions(t) for t in topics}
    if len(set(counts.values())) != 1:
        raise ValueError(f"topics read together must have one partition count (keyed by case): {counts}")
    return next(iter(counts.values()))


class AllPartitions:
    """A member that owns every partition of its topics (the embedded log's one process, or a consumer
    with no group): readers from the positions ``listener.assigned`` gives once, at the start."""

    def __init__(self, log: EventLog, topics: Sequence[str], listener: Rebalance) -> None:
        self._topics = list(topics)
        parts = {t: list(range(log.partitions(t))) for t in self._topics}
        self._assigned = frozenset(p for ps in parts.values() for p in ps)
        start = listener.assigned(parts)
        self._readers = {t: log.reader(t, dict(start.get(t, {}))) for t in self._topics}

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        batch: list[Record] = []
        for r in self._readers.values():
            batch += r.poll(max_records=max_records, timeout=0)
        if batch or not self._readers:
            return batch
        first = self._readers[self._topics[0]]
        batch = first.poll(max_records=max_records, timeout=timeout)
        for r in self._readers.values():
            if r is not first:
                batch += r.poll(max_records=max_records, timeout=0)
        return batch

    def positions(self) -> dict[str, dict[int, int]]:
        return {t: r.positions() for t, r in self._readers.items()}

    def assigned(self) -> frozenset[int]:
        return self._assigned

    def close(self) -> None:
        for r in self._readers.values():
            r.close()


def assigned_partitions(count: int, partitions: Collection[int] | None) -> list[int]:
    """The partitions a reader takes: all ``count`` of them, or the subset named (checked)."""
    if partitions is None:
        return list(range(count))
    unknown = sorted(set(partitions) - set(range(count)))
    if unknown:
        raise ValueError(f"partitions: {unknown} not in 0..{count - 1}")
    return sorted(set(partitions))
