"""SLA monitor figures, one run, printed side by side.

1. 1,000,000 open obligations on one worker (500,000 Yeonje-gu questions, each with a
   statutory deadline and an interim notice): memory (RSS) and build time.
2. CPU while idle: the live loop (sleep until the next due instant, at most 0.5 s)
   over that book for 10 s, as a share of one core.
3. A burst of 10,000 obligations falling due in the same second: the delay from the
   due instant until each breach is appended to the log (p50 / p99 / max).
4. Throughput over the real broker: petition events through the monitor (consume,
   derive, produce obligation events) per second, beside the bare kafka-python
   producer rate to the same broker (skipped without KAFKA_BOOTSTRAP_SERVERS).

Run: python3 bench/sla_monitor.py [--obligations 1000000]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from services.platform.log.deadletter import DeadLetters  # noqa: E402
from services.platform.log.embedded import EmbeddedLog  # noqa: E402
from services.platform.log.topics import Topics  # noqa: E402
from services.platform.logs import configure  # noqa: E402
from services.sla_monitor.runner import MonitorLoop, read_all  # noqa: E402
from shared.charters import CharterBook  # noqa: E402
from shared.events import Envelope, encode  # noqa: E402
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.holiday_source import korean_calendar  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.obligations import ObligationBook  # noqa: E402
from shared.sealing import Sealed  # noqa: E402

SEALED = Sealed(kid="k", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")


def received(at: datetime, petition_type: str, charter: CharterRef) -> Envelope:
    payload = ev.PetitionReceived(municipality_id=charter.charter_id, agency_id="bench", petition_type=petition_type,
                                  channel="visit", title="민원", applicant=SEALED, applicant_ref="r" * 32)
    return Envelope(event_id=uuid.uuid4(), case_id=str(uuid.uuid4()), case_version=1, occurred_at=at, recorded_at=at,
                    producer="bench", payload=payload, charter=charter)


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--obligations", type=int, default=1_000_000)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    configure("warning")
    calendar = korean_calendar()
    charters = CharterBook.bundled()
    yeonje = CharterRef("yeonje-gu", charters.in_force("yeonje-gu", datetime(2027, 1, 1, tzinfo=KST)).version)

    # 1. a million open obligations
    base = rss_mb()
    book = ObligationBook(calendar, charters)
    start = datetime(2027, 3, 2, 9, tzinfo=KST)
    t0 = time.perf_counter()
    for i in range(args.obligations // 2):
        env = received(start + timedelta(seconds=i % 28_800), "question_system", yeonje)
        book.observe(env, start)
    build_s = time.perf_counter() - t0
    open_count = book.open_count()
    memory = rss_mb() - base

    # 2. idle CPU: nothing is due for weeks; the loop wakes at most every 0.5 s
    stop = threading.Event()

    def idle_loop(book: ObligationBook = book) -> None:
        while not stop.is_set():
            book.due(datetime(2027, 3, 2, 9, tzinfo=KST))
            stop.wait(0.5)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    thread = threading.Thread(target=idle_loop)
    thread.start()
    time.sleep(10)
    stop.set()
    thread.join()
    idle_cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    del book

    # 3. a burst of obligations falling due in the same second, on the live loop and a real log
    tmp = Path(tempfile.mkdtemp())
    log = EmbeddedLog(tmp / "log.db")
    topics = Topics("")
    log.create_topics(topics.specs())
    at = datetime(2027, 3, 2, 10, tzinfo=KST)  # 'other' petitions: due 3 working hours later, 14:00
    due = datetime(2027, 3, 2, 14, tzinfo=KST)
    log.append_many(topics.petition_events,
                    [(e.case_id, encode(e)) for e in (received(at, "other", yeonje) for _ in range(args.burst))])
    offset = due - datetime.now(timezone.utc) - timedelta(seconds=30)  # due 30 s of wall time after the restore
    loop = MonitorLoop(log, topics, DeadLetters(log, topics.dead_letter, "bench"),
                       calendar, charters, lambda: datetime.now(timezone.utc) + offset)
    appended_at: list[float] = []
    original_emit = loop._emit

    def timed_emit(events: list[Envelope]) -> None:
        original_emit(events)
        now = (datetime.now(timezone.utc) + offset).timestamp()
        appended_at.extend(now for e in events if e.event_type == "ObligationBreached")

    loop._emit = timed_emit  # type: ignore[method-assign]
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 120
    while len(appended_at) < args.burst and time.monotonic() < deadline:
        time.sleep(0.1)
    loop.stop()
    runner.join(10)
    delays = sorted(t - due.timestamp() for t in appended_at)
    breaches = [r for r in read_all(log, topics.sla_events)[0] if b"ObligationBreached" in r.value]

    # 4. throughput over the broker
    kafka_line = "skipped (set KAFKA_BOOTSTRAP_SERVERS)"
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        from producer_rate import bare_producer_rate, events

        from services.platform.log.kafka import KafkaLog

        ktopics = Topics(f"bench{uuid.uuid4().hex[:6]}.")
        kafka = KafkaLog(servers)
        kafka.create_topics(ktopics.specs())
        n = 20_000
        batch = [(e.case_id, encode(e)) for e in (received(at, "question_system", yeonje) for _ in range(n))]
        for i in range(0, n, 1000):
            kafka.append_many(ktopics.petition_events, batch[i:i + 1000])
        kloop = MonitorLoop(kafka, ktopics,
                            DeadLetters(kafka, ktopics.dead_letter, "bench"), calendar, charters,
                            lambda: datetime(2027, 3, 2, 11, tzinfo=KST))
        t0 = time.perf_counter()
        kloop.restore()  # consume 20k petition events, derive, append 40k obligation events
        monitor_rate = n / (time.perf_counter() - t0)
        kafka.close()
        bare_topic = f"bench.bare.{uuid.uuid4().hex[:6]}"
        from services.platform.log.port import TopicSpec

        k2 = KafkaLog(servers)
        k2.create_topics([TopicSpec(bare_topic, 6, -1)])
        k2.close()
        bare = bare_producer_rate(servers, bare_topic, events(10_000))
        kafka_line = (f"{monitor_rate:,.0f} petition events/s through the monitor (each deriving 2 obligation events)"
                      f" vs bare producer {bare:,.0f} events/s: {monitor_rate / bare:.2f}x")

    print(f"open obligations: {open_count:,} ({args.obligations // 2:,} cases); built in {build_s:.1f} s "
          f"({args.obligations // 2 / build_s:,.0f} cases/s)")
    print(f"memory: {memory:,.0f} MiB for the book ({memory * 1024 * 1024 / max(open_count, 1):,.0f} bytes per obligation);"
          f" process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(f"idle CPU with {open_count:,} obligations: {idle_cpu * 100:.2f}% of one core (goal <= 5%)")
    if delays:
        print(f"burst of {args.burst:,} due in the same second: {len(breaches):,} breaches appended; delay from the due "
              f"instant p50 {delays[len(delays) // 2]:.3f} s, p99 {delays[int(len(delays) * 0.99)]:.3f} s, "
              f"max {delays[-1]:.3f} s (goal p99 <= 1 s)")
    print(f"over Kafka: {kafka_line}")


if __name__ == "__main__":
    main()
