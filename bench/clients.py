"""Kafka clients side by side (issue 21, goal 7): produce (acks=all, idempotent) and consume rates against one
broker in one run, each client in a process of its own, same messages, same batching.

  kafka-python (pure-Python CRC-32C)  the baseline: what the adapter ran before ``crc32c`` was a dependency
  kafka-python + crc32c               the adapter's client today
  aiokafka                            faust's client (its record batches are built in C)
  confluent-kafka                     librdkafka

Batching is the same for all: linger 5 ms, batches up to 64 KiB, no compression. Each client produces
--messages records of --size bytes keyed by 36-character case ids to a fresh 6-partition topic, then
reads them all back from the beginning (no consumer group).

Run: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python3 bench/clients.py [--messages 100000] [--size 700]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LINGER_MS, BATCH_BYTES, PARTITIONS = 5, 64 * 1024, 6
CLIENTS = ("kafka-python-pure", "kafka-python", "aiokafka", "confluent-kafka")


def messages(n: int, size: int) -> list[tuple[bytes, bytes]]:
    body = (b"x" * size)
    return [(str(uuid.UUID(int=i)).encode(), body) for i in range(n)]


class Steady:
    """Records/s from the first batch on: connecting and finding offsets differ per client and are no rate."""

    def __init__(self, total: int) -> None:
        self.total, self.seen, self.first, self.t0 = total, 0, 0, 0.0

    def got(self, n: int) -> None:
        if n and not self.seen:
            self.first, self.t0 = n, time.perf_counter()
        self.seen += n

    @property
    def done(self) -> bool:
        return self.seen >= self.total

    def rate(self) -> float:
        return (self.seen - self.first) / max(time.perf_counter() - self.t0, 1e-9)


def kafka_python(servers: str, topic: str, batch: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    producer = KafkaProducer(bootstrap_servers=servers.split(","), acks="all", enable_idempotence=True,
                             linger_ms=LINGER_MS, batch_size=BATCH_BYTES, compression_type=None)
    producer.send(topic, key=b"warm", value=b"up").get(10)
    t0 = time.perf_counter()
    for key, value in batch:
        producer.send(topic, key=key, value=value)
    producer.flush()
    produce = len(batch) / (time.perf_counter() - t0)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=servers.split(","), enable_auto_commit=False, group_id=None,
                             max_poll_records=2000)
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    consumer.seek_to_beginning()
    clock = Steady(len(batch) + 1)
    while not clock.done:
        clock.got(sum(len(m) for m in consumer.poll(timeout_ms=1000, max_records=2000).values()))
    consume = clock.rate()
    consumer.close()
    return produce, consume


def aiokafka_client(servers: str, topic: str, batch: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    async def run() -> tuple[float, float]:
        producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True,
                                    linger_ms=LINGER_MS, max_batch_size=BATCH_BYTES, compression_type=None)
        await producer.start()
        await producer.send_and_wait(topic, key=b"warm", value=b"up")
        t0 = time.perf_counter()
        futures = [await producer.send(topic, key=key, value=value) for key, value in batch]
        await asyncio.gather(*futures)
        produce = len(batch) / (time.perf_counter() - t0)
        await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, group_id=None,
                                    max_poll_records=2000)
        await consumer.start()
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        clock = Steady(len(batch) + 1)
        while not clock.done:
            clock.got(sum(len(m) for m in (await consumer.getmany(timeout_ms=1000, max_records=2000)).values()))
        consume = clock.rate()
        await consumer.stop()
        return produce, consume

    return asyncio.run(run())


def confluent(servers: str, topic: str, batch: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

    producer = Producer({"bootstrap.servers": servers, "acks": "all", "enable.idempotence": True,
                         "linger.ms": LINGER_MS, "batch.size": BATCH_BYTES, "compression.type": "none"})
    producer.produce(topic, key=b"warm", value=b"up")
    producer.flush(10)
    failed: list[object] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            failed.append(err)

    t0 = time.perf_counter()
    for key, value in batch:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then go on
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    produce = len(batch) / (time.perf_counter() - t0)
    if failed:
        raise RuntimeError(f"confluent-kafka: {len(failed)} deliveries failed: {failed[0]}")
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"bench-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    clock = Steady(len(batch) + 1)
    while not clock.done:
        clock.got(sum(1 for m in consumer.consume(num_messages=2000, timeout=1.0) if m.error() is None))
    consume = clock.rate()
    consumer.close()
    return produce, consume


def one(client: str, servers: str, topic: str, n: int, size: int) -> dict[str, float]:
    if client == "kafka-python-pure":
        sys.modules["crc32c"] = None  # type: ignore[assignment]  # kafka-python then falls back to its Python CRC
    batch = messages(n, size)
    run = {"kafka-python-pure": kafka_python, "kafka-python": kafka_python, "aiokafka": aiokafka_client,
           "confluent-kafka": confluent}[client]
    produce, consume = run(servers, topic, batch)
    if client.startswith("kafka-python"):
        from kafka.record import util

        crc = "C" if util.crc32c_c is not None else "Python"
    else:
        crc = "-"
    return {"produce": produce, "consume": consume, "crc": crc}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=700, help="bytes per value (an encoded envelope is ~700)")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--one", nargs=2, metavar=("CLIENT", "TOPIC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    if args.one:
        print(json.dumps(one(args.one[0], servers, args.one[1], args.messages, args.size)))
        return

    from figures import figure

    from services.platform.log.kafka import KafkaLog
    from services.platform.log.port import TopicSpec

    wanted = [c for c in args.clients.split(",") if c]
    topics = {c: f"bench.clients.{c}.{uuid.uuid4().hex[:6]}" for c in wanted}
    admin = KafkaLog(servers)
    admin.create_topics([TopicSpec(t, PARTITIONS, -1) for t in topics.values()])
    admin.close()
    results: dict[str, dict[str, float]] = {}
    for client in wanted:  # one at a time, each in its own process
        done = subprocess.run([sys.executable, __file__, "--one", client, topics[client], "--messages",
                               str(args.messages), "--size", str(args.size)], capture_output=True, text=True,
                              env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers})
        if done.returncode != 0:
            print(f"{client}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results[client] = json.loads(done.stdout.strip().splitlines()[-1])

    print(f"broker {servers}: {args.messages:,} messages of {args.size} bytes, acks=all, idempotent, "
          f"linger {LINGER_MS} ms, batches <= {BATCH_BYTES // 1024} KiB, no compression, {PARTITIONS} partitions")
    print(f"{'client':<22}{'produce/s':>14}{'consume/s':>14}  CRC-32C")
    for client, r in results.items():
        print(f"{client:<22}{r['produce']:>14,.0f}{r['consume']:>14,.0f}  {r['crc']}")
    base = results.get("kafka-python")
    pure = results.get("kafka-python-pure")
    if base and pure:  # the crc32c lever, same run
        figure("clients", "kafka-python produce with crc32c", base["produce"], "msg/s", "kafka-python pure CRC",
               pure["produce"])
        figure("clients", "kafka-python consume with crc32c", base["consume"], "msg/s", "kafka-python pure CRC",
               pure["consume"])
    if base:
        for client in ("aiokafka", "confluent-kafka"):
            if client in results:
                for side in ("produce", "consume"):
                    figure("clients", f"{client} {side}", results[client][side], "msg/s",
                           f"kafka-python+crc32c {side}", base[side])


if __name__ == "__main__":
    main()
