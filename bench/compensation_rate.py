"""Compensation figures, one run, printed side by side.

A topic preloaded with 100,000 breach events (Dangjin statutory deadlines missed: each decides a
voucher proposed, approved and issued, and an apology). Their cases' receipts are read first, untimed,
as in service, where a petition is received days before its deadline passes. Beside each other:
1. the raw consume rate of the breach topic (kafka-python reader, decode nothing);
2. decisions/s: the compensation consumer over the same topic into the ledger (one transaction per
   batch, outbox published, offsets committed after), on SQLite by default or --database-url.

Needs KAFKA_BOOTSTRAP_SERVERS (a real broker); without it, both run on the embedded log.
Run: python3 bench/compensation_rate.py [--breaches 100000] [--database-url postgresql://...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from services.compensation import worker  # noqa: E402
from services.compensation.ledger.book import Ledger  # noqa: E402
from services.compensation.schema import CHAIN, OutboxRow  # noqa: E402
from services.platform.db.engine import make_engine, make_sessionmaker, migrate  # noqa: E402
from services.platform.log.embedded import EmbeddedLog  # noqa: E402
from services.platform.log.port import EventLog  # noqa: E402
from services.platform.log.topics import Topics  # noqa: E402
from services.platform.logs import configure  # noqa: E402
from services.platform.outbox.publisher import Outbox  # noqa: E402
from shared.charters import CharterBook  # noqa: E402
from shared.events import (  # noqa: E402
    Envelope,
    encode,
    sla,  # noqa: E402
)
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.holiday_source import korean_calendar  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.sealing import Sealed  # noqa: E402


def receipt(case_id: str, at: datetime) -> bytes:
    """The case's receipt: compensation waits for it before it decides on a breach."""
    return encode(Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=1, occurred_at=at, recorded_at=at,
                           producer="intake", charter=CharterRef("dangjin", "2024.1"), payload=ev.PetitionReceived(
                               municipality_id="dangjin", agency_id="bench", petition_type="grievance",
                               channel="visit", title="민원", applicant=Sealed(kid="k", nonce="n", ciphertext="c"),
                               applicant_ref="r" * 32, notice_channels=(), electronic_consent=False)))


def breaches(n: int, calendar_version: str) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(receipts, breaches), one of each per case."""
    due = datetime(2027, 3, 11, 18, tzinfo=KST)
    out, receipts = [], []
    for i in range(n):
        case_id = str(uuid.uuid4())
        receipts.append((case_id, receipt(case_id, due - timedelta(days=9))))
        proof = sla.Proof(rule="Act 19; Decree 17", started_at=due - timedelta(days=9), period="7d",
                          counting="working_days", calendar_version=calendar_version, basis_event_id=str(uuid.uuid4()))
        env = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=1, occurred_at=due + timedelta(seconds=i % 60),
                       recorded_at=due, producer="bench", charter=CharterRef("dangjin", "2024.1"),
                       payload=sla.ObligationBreached(obligation_id="statutory_deadline", kind="statutory_deadline",
                                                      due_at=due, citizen_facing=True, severity="breach", proof=proof))
        out.append((case_id, encode(env)))
    return receipts, out


def raw_rate(log: EventLog, topic: str, n: int) -> float:
    reader = log.reader(topic)
    t0 = time.perf_counter()
    seen = 0
    while seen < n:
        seen += len(reader.poll(max_records=2000, timeout=1.0))
    rate = n / (time.perf_counter() - t0)
    reader.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--breaches", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    configure("warning")
    calendar = korean_calendar()
    tmp = Path(tempfile.mkdtemp())
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        from services.platform.log.kafka import KafkaLog

        log: EventLog = KafkaLog(servers)
        where = f"Kafka at {servers}"
    else:
        log = EmbeddedLog(tmp / "log.db")
        where = "the embedded log (set KAFKA_BOOTSTRAP_SERVERS for a real broker)"
    topics = Topics(f"bench{uuid.uuid4().hex[:6]}.")
    log.create_topics(topics.specs())
    receipts, items = breaches(args.breaches, calendar.version)
    for i in range(0, len(receipts), 2000):
        log.append_many(topics.petition_events, receipts[i:i + 2000])

    url = args.database_url or f"sqlite:///{tmp / 'ledger.db'}"
    engine = make_engine(url)
    migrate(engine, CHAIN)
    sessions = make_sessionmaker(engine)

    def make_consumer() -> worker.Consumer:
        return worker.consumer(log, topics, sessions, Ledger(CharterBook.bundled(), calendar),
                               Outbox(log, topics.compensation_events, sessions, OutboxRow, "compensation"),
                               lambda: datetime.now(KST))

    t0 = time.perf_counter()
    make_consumer().run(poll_timeout=1.0, until_caught_up=True)
    received = args.breaches / (time.perf_counter() - t0)

    for i in range(0, len(items), 2000):
        log.append_many(topics.sla_events, items[i:i + 2000])
    raw = raw_rate(log, topics.sla_events, args.breaches)

    consumer = make_consumer()
    t0 = time.perf_counter()
    consumer.run(poll_timeout=1.0, until_caught_up=True)
    elapsed = time.perf_counter() - t0
    decided = args.breaches / elapsed
    print(f"log: {where}; ledger: {engine.dialect.name}")
    print(f"receipts read first (untimed in the figure): {received:,.0f}/s")
    print(f"raw consume of {args.breaches:,} breaches: {raw:,.0f} events/s")
    print(f"compensation: {args.breaches:,} breaches decided in {elapsed:.1f} s: {decided:,.0f} breaches/s "
          f"({consumer._handler.decided:,} ledger events); "
          f"{decided / raw:.3f}x the raw consume rate")
    figure("compensation_rate", f"compensation, breaches decided ({engine.dialect.name})", decided, "breaches/s",
           "raw consume", raw, goal_ratio=0.5)
    engine.dispose()
    log.close()


if __name__ == "__main__":
    main()
