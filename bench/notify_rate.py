"""Notify figures, one run, printed side by side, against one local SMTP server (aiosmtpd):

1. raw: aiosmtplib sending N small prepared messages, one connection per message, 16 at a time;
2. notify: N/2 cases filed and resolved, each owing a receipt and a completion notice by e-mail:
   N notices decided, rendered from the Korean templates, recorded as sealed deliveries, handed
   to the same SMTP server through the e-mail channel (same concurrency), settled with a
   NoticeSent in the outbox and published to the log.

Run: python3 bench/notify_rate.py [--notices 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from services import wiring  # noqa: E402
from services.bootstrap import bootstrap  # noqa: E402
from services.notify.channels.email import SmtpChannel  # noqa: E402
from services.notify.delivery import RetryPolicy  # noqa: E402
from services.platform.log.embedded import EmbeddedLog  # noqa: E402
from services.platform.logs import configure  # noqa: E402
from services.platform.settings import Settings  # noqa: E402
from shared.events import Envelope, encode  # noqa: E402
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.sealing import seal  # noqa: E402

CONCURRENCY = 16


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.count += 1
        return "250 OK"


async def raw_rate(port: int, n: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@x.kr", "b@x.kr", f"민원 {i}"
        msg.set_content("처리가 완료되었습니다.", charset="utf-8")
        async with gate:
            await aiosmtplib.send(msg, hostname="127.0.0.1", port=port)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=2000)
    args = parser.parse_args()
    configure("warning")
    sink = Sink()
    with socket.socket() as probe:  # aiosmtpd's controller needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    raw = asyncio.run(raw_rate(port, args.notices))

    tmp = Path(tempfile.mkdtemp())
    import base64

    keys = "bench:" + base64.b64encode(b"k" * 32).decode()
    c = bootstrap(Settings(data_dir=tmp, pii_keys=keys), log=EmbeddedLog(tmp / "log.db"),
                  clock=lambda: datetime(2026, 11, 25, tzinfo=timezone.utc))
    c.log.create_topics(c.topics.specs())
    charter = c.charters.in_force("dangjin", datetime(2026, 11, 2, tzinfo=KST))
    items = []
    for _ in range(args.notices // 2):
        case_id = str(uuid.uuid4())
        at = datetime(2026, 11, 2, 10, tzinfo=KST)
        common = dict(case_id=case_id, recorded_at=at, producer="bench", charter=CharterRef(charter.id, charter.version))
        received = Envelope(event_id=uuid.uuid4(), case_version=1, occurred_at=at, **common, payload=ev.PetitionReceived(
            municipality_id="dangjin", agency_id="bench", petition_type="grievance", channel="visit", title="민원",
            applicant=seal(c.keyring, {"name": "김", "email": "citizen@example.kr"}, case_id), applicant_ref="r" * 32,
            notice_channels=("email",), electronic_consent=False))
        resolved = Envelope(event_id=uuid.uuid4(), case_version=2, occurred_at=at.replace(hour=15), **common,
                            payload=ev.PetitionResolved(outcome="accepted", explanation="처리를 마쳤습니다."))
        items += [(case_id, encode(received)), (case_id, encode(resolved))]
    c.log.append_many(c.topics.petition_events, items)
    worker = wiring.notify_worker(c, channels={"email": SmtpChannel("127.0.0.1", port, "noreply@x.kr")},
                                  policy=RetryPolicy(), concurrency=CONCURRENCY)
    before = sink.count
    t0 = time.perf_counter()
    worker.run(poll_timeout=0.2, until_caught_up=True)
    elapsed = time.perf_counter() - t0
    delivered = sink.count - before
    rate = worker.sent / elapsed
    print(f"raw aiosmtplib to a local aiosmtpd, {CONCURRENCY} at a time: {raw:,.0f} messages/s")
    print(f"notify: {worker.sent:,} receipt and completion notices decided, rendered, sealed, sent and settled in {elapsed:.1f} s: "
          f"{rate:,.0f} notices/s ({delivered:,} received by the server); {rate / raw:.2f}x the raw send rate")
    controller.stop()
    c.close()


if __name__ == "__main__":
    main()
