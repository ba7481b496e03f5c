"""The Kafka adapter: the production log. Reading, groups and topics through kafka-python; appending
through librdkafka (``services.platform.log.producer``), chosen by measurement.

Idempotent producer with acks=all, so a retried send never duplicates a record
and ``append`` returns only after every in-sync replica has it. Keys are case
ids: one case's events stay in one partition, in order.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping, Sequence

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from services.platform.log.partitioner import partition_for
from services.platform.log.port import (
    AllPartitions,
    LogUnavailable,
    Position,
    Rebalance,
    Record,
    TopicSpec,
    assigned_partitions,
    co_partitioned,
)
from services.platform.log.producer import RecordProducer


class KafkaLog:
    def __init__(self, bootstrap_servers: str, client_id: str = "charterwatch", timeout_s: float = 10.0,
                 session_timeout_ms: int = 10_000) -> None:
        """``session_timeout_ms``: how long a silent group member keeps its partitions (a crashed
        worker's partitions move after it; the broker's floor is group.min.session.timeout.ms)."""
        self.bootstrap_servers = bootstrap_servers
        self.session_timeout_ms = session_timeout_ms
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._timeout_ms = int(timeout_s * 1000)
        self._producer: RecordProducer | None = None
        self._counts: dict[str, int] = {}
        self._meta: KafkaConsumer | None = None
        self._lock = threading.Lock()
        self._group_lock = threading.Lock()
        self._groups: dict[str, KafkaConsumer] = {}

    # -- clients (built on first use, never at import) ------------------------
    def _common(self) -> dict[str, object]:
        return {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "client_id": self._client_id,
            "request_timeout_ms": self._timeout_ms,
            "bootstrap_timeout_ms": self._timeout_ms,
        }

    def _get_producer(self) -> RecordProducer:
        with self._lock:
            if self._producer is None:
                self._producer = RecordProducer(self.bootstrap_servers, self._client_id, self._timeout_ms)
            return self._producer

    def _metadata(self) -> KafkaConsumer:
        with self._lock:
            if self._meta is None:
                try:
                    self._meta = KafkaConsumer(**self._common(), enable_auto_commit=False)
                except KafkaError as exc:
                    raise LogUnavailable(f"kafka at {self.bootstrap_servers}: {exc}") from exc
            return self._meta

    # -- topics ---------------------------------------------------------------
    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        try:
            admin = KafkaAdminClient(**self._common())
        except KafkaError as exc:
            raise LogUnavailable(f"kafka at {self.bootstrap_servers}: {exc}") from exc
        created = []
        try:
            existing = set(admin.list_topics())
            for spec in specs:
                if spec.name in existing:
                    continue
                topic = NewTopic(
                    spec.name,
                    spec.partitions,
                    spec.replication_factor,
                    topic_configs={"retention.ms": str(spec.retention_ms), "cleanup.policy": spec.cleanup_policy,
                                   "min.insync.replicas": str(spec.min_insync_replicas)},
                )
                try:
                    admin.create_topics([topic])
                    created.append(spec.name)
                except TopicAlreadyExistsError:
                    pass
            self._await_usable(admin, [s for s in specs if s.name in created])
        finally:
            admin.close()
        return created

    def _await_usable(self, admin: KafkaAdminClient, specs: Sequence[TopicSpec]) -> None:
        """Back from ``create_topics`` only when every created topic is usable: each partition has a
        leader and the broker answers with the topic's own configuration. The controller acknowledges a
        creation before the brokers have applied it; a client right behind it (a consumer group's
        assignor, a describe) would otherwise see no partitions or an empty configuration."""
        want = {s.name: s for s in specs}
        deadline = time.monotonic() + self._timeout_s * 3
        while want:
            described = admin.describe_topics(list(want))
            led = {t["name"] for t in described if t["error_code"] == 0
                   and len(t["partitions"]) == want[t["name"]].partitions
                   and all(p["leader_id"] >= 0 for p in t["partitions"])}
            if led:
                configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in led])
                for name in led:
                    if "cleanup.policy" in configs.get("topic", {}).get(name, {}):
                        del want[name]
            if not want:
                return
            if time.monotonic() > deadline:
                raise LogUnavailable(f"topics created but not usable after {self._timeout_s * 3:.0f} s: {sorted(want)}")
            time.sleep(0.1)

    def partitions(self, topic: str) -> int:
        meta = self._metadata()
        parts = meta.partitions_for_topic(topic)
        deadline = time.monotonic() + self._timeout_ms / 1000
        while not parts and time.monotonic() < deadline:
            # A topic created a moment ago may not be in the cached metadata yet: refresh and look again.
            meta.topics()
            parts = meta.partitions_for_topic(topic)
            if not parts:
                time.sleep(0.1)
        if not parts:
            raise LogUnavailable(f"topic {topic} does not exist (run: charterwatch topics create)")
        return len(parts)

    # -- writing --------------------------------------------------------------
    def append(self, topic: str, key: str, value: bytes) -> Position:
        return self.append_many(topic, [(key, value)])[0]

    def append_many(self, topic: str, items: Sequence[tuple[str, bytes]]) -> list[Position]:
        if not items:
            return []
        producer = self._get_producer()
        n = self._partition_count(topic)
        acked = producer.send(topic, [(key.encode(), value, partition_for(key, n)) for key, value in items])
        return [Position(topic, partition, offset) for partition, offset in acked]

    def _partition_count(self, topic: str) -> int:
        """Kept once known: a topic's partitions are never added to (that would move its cases' keys)."""
        n = self._counts.get(topic)
        if n is None:
            n = self._counts[topic] = self.partitions(topic)
        return n

    # -- reading --------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        n = self.partitions(topic)
        ends = self._metadata().end_offsets([TopicPartition(topic, p) for p in range(n)])
        return {tp.partition: int(o) for tp, o in ends.items()}

    def reopened(self) -> KafkaLog:
        return KafkaLog(self.bootstrap_servers, self._client_id, self._timeout_s, self.session_timeout_ms)

    def reader(self, topic: str, positions: Mapping[int, int] | None = None,
               partitions: Collection[int] | None = None) -> "KafkaReader":
        return KafkaReader(self, topic, positions or {}, partitions)

    def join(self, group: str | None, topics: Sequence[str], listener: Rebalance) -> KafkaMember | AllPartitions:
        if group is None:
            return AllPartitions(self, topics, listener)
        return KafkaMember(self, group, topics, listener)

    # -- consumer groups ------------------------------------------------------
    def _group_client(self, group: str) -> KafkaConsumer:
        """One client per group, kept: building one per commit costs a connection and a coordinator lookup.
        Callers hold ``_group_lock`` (a KafkaConsumer is not thread-safe)."""
        client = self._groups.get(group)
        if client is None:
            try:
                client = self._groups[group] = KafkaConsumer(**self._common(), group_id=group, enable_auto_commit=False)
            except KafkaError as exc:
                raise LogUnavailable(f"kafka at {self.bootstrap_servers}: {exc}") from exc
        return client

    def committed(self, group: str, topic: str) -> dict[int, int]:
        n = self.partitions(topic)
        with self._group_lock:
            client = self._group_client(group)
            out = {}
            for p in range(n):
                offset = client.committed(TopicPartition(topic, p))
                if offset is not None:
                    out[p] = int(offset)
            return out

    def commit(self, group: str, topic: str, positions: Mapping[int, int]) -> None:
        with self._group_lock:
            client = self._group_client(group)
            try:
                client.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in positions.items()})
            except KafkaError as exc:
                self._groups.pop(group, None)
                client.close()
                raise LogUnavailable(f"commit for group {group} failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=5)
                self._producer = None
            if self._meta is not None:
                self._meta.close()
                self._meta = None
        with self._group_lock:
            for client in self._groups.values():
                client.close()
            self._groups.clear()


class KafkaReader:
    def __init__(self, log: KafkaLog, topic: str, positions: Mapping[int, int],
                 partitions: Collection[int] | None = None) -> None:
        self._topic = topic
        assigned = assigned_partitions(log.partitions(topic), partitions)
        self._consumer = KafkaConsumer(
            **log._common(), enable_auto_commit=False, group_id=None, max_poll_records=2000, fetch_max_wait_ms=100
        )
        parts = [TopicPartition(topic, p) for p in assigned]
        self._consumer.assign(parts)
        self._positions = {p: int(positions.get(p, 0)) for p in assigned}
        for tp in parts:
            self._consumer.seek(tp, self._positions[tp.partition])

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        out: list[Record] = []
        for tp, messages in batches.items():
            for m in messages:
                out.append(Record(self._topic, tp.partition, m.offset, (m.key or b"").decode(), m.value, m.timestamp))
            if messages:
                self._positions[tp.partition] = messages[-1].offset + 1
        out.sort(key=lambda r: (r.partition, r.offset))
        return out

    def positions(self) -> dict[int, int]:
        return dict(self._positions)

    def close(self) -> None:
        self._consumer.close()


class _Listener(ConsumerRebalanceListener):
    def __init__(self, member: KafkaMember) -> None:
        self._member = member

    def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        self._member._revoked(revoked)

    def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self._member._assigned(assigned)


def _by_topic(tps: Collection[TopicPartition]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for tp in sorted(tps):
        out.setdefault(tp.topic, []).append(tp.partition)
    return out


class KafkaMember:
    """A member of a Kafka consumer group whose positions live elsewhere (the caller's database).

    Kafka balances the partitions among the group's members and tells this one, inside ``poll``,
    which it gains and loses; the range assignor gives a member the same partition numbers on every
    topic of a co-partitioned set, so one case's events on every topic reach the same member.
    Nothing is committed to Kafka: a gained partition is read from where ``listener.assigned`` says.
    """

    def __init__(self, log: KafkaLog, group: str, topics: Sequence[str], listener: Rebalance) -> None:
        co_partitioned(log, topics)
        self._topics = list(topics)
        self._order = {t: i for i, t in enumerate(self._topics)}
        self._listener = listener
        self._positions: dict[str, dict[int, int]] = {}
        self._failure: BaseException | None = None
        self._consumer = KafkaConsumer(
            **log._common(), group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
            partition_assignment_strategy=[RangePartitionAssignor],
            session_timeout_ms=log.session_timeout_ms, heartbeat_interval_ms=max(100, log.session_timeout_ms // 6),
            max_poll_records=2000, fetch_max_wait_ms=100)
        self._consumer.subscribe(topics=self._topics, listener=_Listener(self))

    # kafka-python logs and swallows a listener's exception: keep it and raise it from poll, so a
    # partition whose position could not be read is never read from elsewhere.
    def _assigned(self, tps: Collection[TopicPartition]) -> None:
        try:
            start = self._listener.assigned(_by_topic(tps))
            for tp in tps:
                offset = int(start.get(tp.topic, {}).get(tp.partition, 0))
                self._consumer.seek(tp, offset)
                self._positions.setdefault(tp.topic, {})[tp.partition] = offset
        except BaseException as exc:
            self._failure = exc

    def _revoked(self, tps: Collection[TopicPartition]) -> None:
        for tp in tps:
            self._positions.get(tp.topic, {}).pop(tp.partition, None)
        try:
            self._listener.revoked(_by_topic(tps))
        except BaseException as exc:
            self._failure = exc

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        try:
            batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        except KafkaError as exc:
            raise LogUnavailable(f"kafka at {self._consumer.config['bootstrap_servers']}: {exc}") from exc
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        out: list[Record] = []
        for tp, messages in batches.items():
            if tp.partition not in self._positions.get(tp.topic, {}):
                continue  # fetched before it was revoked
            for m in messages:
                out.append(Record(tp.topic, tp.partition, m.offset, (m.key or b"").decode(), m.value, m.timestamp))
            if messages:
                self._positions[tp.topic][tp.partition] = messages[-1].offset + 1
        # the consumer's first topic first (its per-case joins expect it), each partition in offset order
        out.sort(key=lambda r: (self._order[r.topic], r.partition, r.offset))
        return out

    def positions(self) -> dict[str, dict[int, int]]:
        return {t: dict(at) for t, at in self._positions.items()}

    def assigned(self) -> frozenset[int]:
        return frozenset(p for at in self._positions.values() for p in at)

    def close(self) -> None:
        self._consumer.close(autocommit=False)
