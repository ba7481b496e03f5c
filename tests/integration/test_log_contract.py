"""One contract, two adapters: the embedded SQLite log and a real Kafka broker."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from services.platform.log.embedded import EmbeddedLog
from services.platform.log.kafka import KafkaLog
from services.platform.log.partitioner import partition_for
from services.platform.log.port import EventLog, LogUnavailable, TopicSpec
from services.platform.log.topics import Topics


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    if request.param == "embedded":
        adapter: EventLog = EmbeddedLog(tmp_path / "log.db")
    else:
        adapter = KafkaLog(request.getfixturevalue("kafka_bootstrap"), timeout_s=10)
    yield adapter
    adapter.close()


@pytest.fixture
def topic(log: EventLog, topic_prefix: str) -> str:
    name = topic_prefix + "contract"
    assert log.create_topics([TopicSpec(name, 3, -1)]) == [name]
    return name


def read_all(log: EventLog, topic: str, positions: dict[int, int] | None = None, expect: int = 0):
    reader = log.reader(topic, positions)
    out = []
    for _ in range(50):
        out.extend(reader.poll(timeout=0.5))
        if len(out) >= expect:
            break
    reader.close()
    return out


def test_create_topics_is_idempotent(log: EventLog, topic: str) -> None:
    assert log.create_topics([TopicSpec(topic, 3, -1)]) == []
    assert log.partitions(topic) == 3


def test_same_key_same_partition_in_append_order(log: EventLog, topic: str) -> None:
    positions = [log.append(topic, "case-a", f"a{i}".encode()) for i in range(5)]
    positions += log.append_many(topic, [("case-b", b"b0"), ("case-a", b"a5"), ("case-b", b"b1")])
    a_parts = {p.partition for p, k in zip(positions, ["case-a"] * 5 + ["case-b", "case-a", "case-b"]) if k == "case-a"}
    assert len(a_parts) == 1
    records = read_all(log, topic, expect=8)
    a = [r.value for r in records if r.key == "case-a"]
    b = [r.value for r in records if r.key == "case-b"]
    assert a == [b"a0", b"a1", b"a2", b"a3", b"a4", b"a5"] and b == [b"b0", b"b1"]
    for part in {r.partition for r in records}:
        offsets = [r.offset for r in records if r.partition == part]
        assert offsets == list(range(len(offsets)))  # gapless, from 0


def test_partitioning_matches_kafkas_default(log: EventLog, topic: str) -> None:
    """Where a record lands is Kafka's default (murmur2 of the key, as the Java clients, kafka-python, aiokafka
    and faust place it), whichever client appends: the monitor's topics stay co-partitioned with the relays'."""
    from kafka.partitioner.default import murmur2

    for key in ["case-1", "case-2", "다른-사건", "x" * 40, str(uuid.uuid4()), str(uuid.uuid4())]:
        assert log.append(topic, key, b"v").partition == partition_for(key, 3) \
            == (murmur2(key.encode()) & 0x7FFFFFFF) % 3


def test_reader_resumes_from_positions_and_end_offsets(log: EventLog, topic: str) -> None:
    for i in range(6):
        log.append(topic, f"k{i}", str(i).encode())
    ends = log.end_offsets(topic)
    assert sum(ends.values()) == 6
    assert read_all(log, topic, dict(ends), expect=0) == []
    first = read_all(log, topic, expect=6)
    skip_one = {p: 1 for p, e in ends.items() if e > 0}
    assert len(read_all(log, topic, skip_one, expect=6 - len(skip_one))) == 6 - len(skip_one)
    assert len(first) == 6


def test_a_reader_can_take_some_partitions_only(log: EventLog, topic: str) -> None:
    keys = [f"case-{i}" for i in range(30)]
    log.append_many(topic, [(k, k.encode()) for k in keys])
    reader = log.reader(topic, partitions=[0, 2])
    got: list = []
    for _ in range(50):
        got += reader.poll(timeout=0.5)
        if len(got) >= sum(partition_for(k, 3) != 1 for k in keys):
            break
    got += reader.poll(timeout=0.5)
    reader.close()
    assert sorted(r.key for r in got) == sorted(k for k in keys if partition_for(k, 3) in (0, 2))
    assert set(reader.positions()) == {0, 2}
    with pytest.raises(ValueError, match="partitions"):
        log.reader(topic, partitions=[3])


def test_a_reopened_log_reads_what_the_first_wrote(log: EventLog, topic: str) -> None:
    log.append(topic, "case-1", b"v")
    other = log.reopened()
    try:
        assert [r.value for r in read_all(other, topic, expect=1)] == [b"v"]
    finally:
        other.close()


def test_group_positions_survive(log: EventLog, topic: str, topic_prefix: str) -> None:
    group = topic_prefix + "group"
    assert log.committed(group, topic) == {}
    log.commit(group, topic, {0: 3, 2: 1})
    assert log.committed(group, topic) == {0: 3, 2: 1}
    log.commit(group, topic, {0: 4})
    assert log.committed(group, topic)[0] == 4


def test_concurrent_appends_keep_offsets_unique(log: EventLog, topic: str) -> None:
    def worker(n: int) -> None:
        for i in range(20):
            log.append(topic, "same-case", f"{n}-{i}".encode())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [r for r in read_all(log, topic, expect=80) if r.key == "same-case"]
    assert len(records) == 80 and len({r.offset for r in records}) == 80
    for n in range(4):  # each writer's own order is kept
        mine = [r.value for r in records if r.value.startswith(f"{n}-".encode())]
        assert mine == [f"{n}-{i}".encode() for i in range(20)]


@pytest.mark.kafka
def test_kafka_topics_are_provisioned_with_retention(kafka_bootstrap: str, topic_prefix: str) -> None:
    topics = Topics(topic_prefix)
    log = KafkaLog(kafka_bootstrap)
    created = log.create_topics(topics.specs())
    assert sorted(created) == sorted(spec.name for spec in topics.specs())
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        result = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topics.petition_events)])
        configs = result["topic"][topics.petition_events]
        assert configs["retention.ms"]["value"] == "-1"
        # the monitor's snapshot changelog exists before its first write, compacted
        result = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topics.monitor_snapshots)])
        assert result["topic"][topics.monitor_snapshots]["cleanup.policy"]["value"] == "compact"
        assert log.partitions(topics.petition_events) == 6
    finally:
        admin.close()
        log.close()


@pytest.mark.kafka
def test_kafka_down_is_log_unavailable() -> None:
    log = KafkaLog("127.0.0.1:1", timeout_s=1)
    with pytest.raises(LogUnavailable):
        log.append("any", "k", b"v")
