"""Events appended per second: the Kafka adapter vs a bare kafka-python producer, same broker, one run.

Both sides send the same encoded PetitionReceived envelopes (about 700 bytes),
keyed by case id, acks=all. Three figures:
  - bare kafka-python: send everything, flush once (the broker's ceiling here);
  - adapter append_many: batches of 500, each acknowledged before returning;
  - adapter append: one event per call, acknowledged before returning (what intake does per request).

Run: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python3 bench/producer_rate.py [--events N]
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

from services.platform.log.kafka import KafkaLog  # noqa: E402
from services.platform.log.port import TopicSpec  # noqa: E402
from shared.events import Envelope, encode  # noqa: E402
from shared.events.petition import PetitionReceived  # noqa: E402
from shared.sealing import Keyring, seal  # noqa: E402


def events(n: int) -> list[tuple[str, bytes]]:
    ring = Keyring.parse("b:" + base64.b64encode(os.urandom(32)).decode())
    now = datetime.now(timezone.utc)
    out = []
    for _ in range(n):
        case = str(uuid.uuid4())
        payload = PetitionReceived(
            municipality_id="dangjin", agency_id="bench", petition_type="grievance", channel="internet",
            title="가로등 고장 신고", body="시청 앞 가로등이 꺼져 있습니다." * 3,
            applicant=seal(ring, {"name": "홍길동", "phone": "010-1234-5678"}, case), applicant_ref="r" * 32)
        env = Envelope(event_id=uuid.uuid4(), case_id=case, occurred_at=now, recorded_at=now, producer="bench",
                       payload=payload)
        out.append((case, encode(env)))
    return out


def bare_producer_rate(servers: str, topic: str, batch: list[tuple[str, bytes]]) -> float:
    """Events/s of a bare kafka-python producer: send everything, flush once."""
    bare = KafkaProducer(bootstrap_servers=servers.split(","), acks="all", enable_idempotence=True, linger_ms=2)
    bare.send(topic, key=b"warm", value=b"up").get(10)
    t0 = time.perf_counter()
    for key, value in batch:
        bare.send(topic, key=key.encode(), value=value)
    bare.flush()
    rate = len(batch) / (time.perf_counter() - t0)
    bare.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=2_000, help="events for the one-at-a-time figure")
    args = parser.parse_args()
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    topic = f"bench.producer.{uuid.uuid4().hex[:8]}"
    log = KafkaLog(servers)
    log.create_topics([TopicSpec(topic, 6, -1)])
    batch = events(args.events)
    size = sum(len(v) for _, v in batch) / len(batch)

    bare_rate = bare_producer_rate(servers, topic, batch)

    log.append(topic, "warm", b"up")
    t0 = time.perf_counter()
    for i in range(0, len(batch), 500):
        log.append_many(topic, batch[i:i + 500])
    many_rate = len(batch) / (time.perf_counter() - t0)

    single = batch[: args.single]
    t0 = time.perf_counter()
    for key, value in single:
        log.append(topic, key, value)
    single_rate = len(single) / (time.perf_counter() - t0)
    log.close()

    print(f"broker {servers}, topic {topic} (6 partitions), {len(batch)} events of ~{size:.0f} bytes, acks=all")
    print(f"bare kafka-python send+flush:        {bare_rate:10,.0f} events/s  (baseline)")
    print(f"adapter append_many (500/batch):     {many_rate:10,.0f} events/s  {many_rate / bare_rate:6.2f}x bare")
    print(f"adapter append, one per call (ack):  {single_rate:10,.0f} events/s  {single_rate / bare_rate:6.2f}x bare")
    figure("producer_rate", "adapter append_many (500/batch)", many_rate, "events/s", "bare kafka-python producer",
           bare_rate)
    figure("producer_rate", "adapter append, one acknowledged per call", single_rate, "events/s",
           "bare kafka-python producer", bare_rate)


if __name__ == "__main__":
    main()
