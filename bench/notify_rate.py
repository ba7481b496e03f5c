"""Notify figures, one run, printed side by side, against one local SMTP server (aiosmtpd) in a process of its
own (sharing the GIL with the sender would slow both sides unevenly):

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
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from figures import figure, free_port  # noqa: E402

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


def serve(port: int) -> None:
    """The SMTP server's own process: counts what it accepts, says the count when told to stop."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM})
    controller.stop()
    print(sink.count, flush=True)


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # inherited: the child waits for it
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(self.port)], stdout=subprocess.PIPE,
                                     text=True)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(30)
        return int(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=2000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    configure("warning")
    server = Server()
    port = server.port
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
        common = dict(case_id=case_id, recorded_at=at, producer="intake",  # notify takes petition facts from intake only
                      charter=CharterRef(charter.id, charter.version))
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
    t0 = time.perf_counter()
    worker.run(poll_timeout=0.2, until_caught_up=True)
    elapsed = time.perf_counter() - t0
    rate = worker.sent / elapsed
    delivered = server.stop() - args.notices
    print(f"raw aiosmtplib to a local aiosmtpd in its own process, {CONCURRENCY} at a time: {raw:,.0f} messages/s")
    print(f"notify: {worker.sent:,} receipt and completion notices decided, rendered, sealed, sent and settled in {elapsed:.1f} s: "
          f"{rate:,.0f} notices/s ({delivered:,} received by the server); {rate / raw:.2f}x the raw send rate")
    figure("notify_rate", "notify, notices/s (SMTP)", rate, "notices/s", "raw aiosmtplib, server in its own process",
           raw, goal_ratio=0.8, note=f"{delivered:,} received by the server" if worker.sent else
           "NOTHING SENT: the worker decided no notice for these cases; the figure is void")
    c.close()


if __name__ == "__main__":
    main()
