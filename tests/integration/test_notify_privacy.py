"""Providers that echo the contact in their errors: an aiosmtpd server answering RCPT with the address in
its reply, and an SMS gateway quoting the number. The contact must reach none of what notify writes (the
notice-events and dead-letter topics, kept forever; notice_deliveries; its outbox; its JSON logs; the
delivery records it serves). A permanent refusal is tried once; a transient error is retried."""
from __future__ import annotations

import io
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from services import wiring
from services.notify.channels.email import SmtpChannel
from services.notify.channels.sms import SmsGateway
from services.notify.schema import CHAIN
from services.platform.db.engine import alembic_config, make_engine, migrate
from services.sla_monitor.runner import read_all
from shared.events import Envelope, decode, encode
from shared.events import notice as nv
from tests.e2e.harness import free_port
from tests.integration.conftest import api_token, make_container
from tests.integration.test_notify import outcomes, petition, worker

PHONE = "010-2468-1357"
EMAIL = "hong.gildong@example.kr"
APPLICANT = {"name": "홍길동", "phone": PHONE, "email": EMAIL, "address": "당진시 시청1로 1"}
# the contact in every form a provider might echo it
SECRETS = (PHONE, PHONE.replace("-", ""), EMAIL, EMAIL.split("@")[0], "홍길동")
ATTEMPTS = 3


@dataclass
class EchoingSmtp:
    """Answers every RCPT with ``reply`` (which quotes the address); records what it answered."""

    reply: str
    answered: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802 (aiosmtpd's hook)
        self.answered.append(self.reply.format(address=address))
        return self.answered[-1]


@pytest.fixture
def smtp_peer(request: pytest.FixtureRequest) -> Iterator[tuple[EchoingSmtp, int]]:
    peer = EchoingSmtp(request.param)
    port = free_port()
    controller = Controller(peer, hostname="127.0.0.1", port=port)
    controller.start()
    yield peer, port
    controller.stop()


class EchoingGateway:
    """Speaks the SMS gateway contract and refuses every message with ``status`` and ``result_code``,
    its message quoting the receiver's number (as gateways do)."""

    def __init__(self, status: int, result_code: str) -> None:
        self.answered: list[str] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                body = json.dumps({"result_code": result_code, "message": f"수신번호 {form['receiver']} 오류 "
                                   f"({form['receiver'].replace('-', '')})"}, ensure_ascii=False).encode()
                gateway.answered.append(body.decode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def c(tmp_path: Path, database_url: str, log_lines: io.StringIO):
    container = make_container(tmp_path, database_url)
    yield container
    container.close()


def assert_no_contact_anywhere(c, log_lines: io.StringIO, case_id: str) -> None:
    notify = c.database("notify")
    with notify.sessions() as s:
        deliveries = [tuple(r) for r in s.execute(text("SELECT * FROM notice_deliveries"))]
        outbox = [bytes(v).decode() for v in s.execute(text("SELECT value FROM notify_outbox")).scalars()]
    notices = [r.value.decode() for r in read_all(c.log, c.topics.notice_events)[0]]
    dead = [r.value.decode() for r in read_all(c.log, c.topics.dead_letter)[0]]
    client = TestClient(wiring.notify_app(c))
    client.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    served = client.get("/v1/notices", params={"case_id": case_id})
    assert served.status_code == 200 and served.json()
    # our lines only: the SMTP server standing in for the provider logs its own side ("mail.log")
    logs = [line for line in log_lines.getvalue().splitlines() if '"logger": "mail.log"' not in line]
    assert notices and dead and deliveries and logs
    places = {"notice-events topic": notices, "dead-letter topic": dead, "notice_deliveries": deliveries,
              "notify_outbox": outbox, "JSON logs": logs, "GET /v1/notices": [served.text]}
    for place, contents in places.items():
        blob = json.dumps([str(x) for x in contents], ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in blob, f"the contact reached the {place}"


def failure_of(c):
    [failed] = [e for e in outcomes(c) if e.event_type == "NoticeFailed"]
    return failed


@pytest.mark.parametrize(("smtp_peer", "error_class", "code", "attempts"), [
    ("550 5.1.1 <{address}>: Recipient address rejected: User unknown", "smtp_recipient_refused", "550 5.1.1", 1),
    ("450 4.2.0 <{address}>: Recipient address rejected: Greylisted", "smtp_recipient_deferred", "450 4.2.0", ATTEMPTS),
], indirect=["smtp_peer"], ids=["550-permanent", "450-transient"])
def test_an_smtp_error_echoing_the_address_is_classified_and_the_address_kept_nowhere(
        c, smtp_peer, log_lines: io.StringIO, error_class: str, code: str, attempts: int) -> None:
    peer, port = smtp_peer
    case_id, events = petition(c, channels=("email",), applicant=APPLICANT)
    c.log.append(c.topics.petition_events, case_id, encode(events[0]))
    worker(c, {"email": SmtpChannel("127.0.0.1", port, "minwon@dangjin.go.kr")}, attempts=ATTEMPTS).run(
        poll_timeout=0.2, until_caught_up=True)
    assert len(peer.answered) == attempts and EMAIL in peer.answered[0]  # the peer did echo the address
    failed = failure_of(c)
    p = failed.payload
    assert failed.schema_version == 2 and p.attempts == attempts
    assert (p.error_class, p.provider, p.code, p.retryable) == (error_class, "smtp", code, attempts > 1)
    with c.database("notify").sessions() as s:
        row = s.execute(text("SELECT status, attempts, error_class, error_code, error_retryable, last_error "
                             "FROM notice_deliveries")).one()
    assert (row.status, row.attempts, row.error_class, row.error_code) == ("failed", attempts, error_class, code)
    assert bool(row.error_retryable) is (attempts > 1) and row.last_error == p.reason
    [dead] = [json.loads(r.value) for r in read_all(c.log, c.topics.dead_letter)[0]]
    assert error_class in dead["reason"] and ("gave up" in dead["reason"]) is (attempts > 1)
    assert_no_contact_anywhere(c, log_lines, case_id)


@pytest.mark.parametrize(("status", "result_code", "error_class", "code", "attempts"), [
    (200, "-201", "sms_invalid_number", "result:-201", 1),
    (200, "-202", "sms_recipient_blocked", "result:-202", 1),
    (200, "-999", "sms_refused", "result:-999", 1),  # an unlisted refusal: not retried either
    (503, "-1", "sms_server_error", "http:503", ATTEMPTS),
    (429, "-1", "sms_throttled", "http:429", ATTEMPTS),
    (200, "-301", "sms_throttled", "result:-301", ATTEMPTS),
])
def test_a_gateway_error_echoing_the_number_is_classified_and_the_number_kept_nowhere(
        c, log_lines: io.StringIO, status: int, result_code: str, error_class: str, code: str, attempts: int) -> None:
    gateway = EchoingGateway(status, result_code)
    try:
        case_id, events = petition(c, channels=("sms",), applicant=APPLICANT)
        c.log.append(c.topics.petition_events, case_id, encode(events[0]))
        worker(c, {"sms": SmsGateway(gateway.url, "k", "u", "0413501234", timeout=2)}, attempts=ATTEMPTS).run(
            poll_timeout=0.2, until_caught_up=True)
        assert len(gateway.answered) == attempts and PHONE in gateway.answered[0]  # the peer did echo the number
        p = failure_of(c).payload
        assert (p.error_class, p.provider, p.code, p.retryable, p.attempts) == (
            error_class, "sms", code, attempts > 1, attempts)
        assert_no_contact_anywhere(c, log_lines, case_id)
    finally:
        gateway.close()


def test_an_unreachable_mail_server_is_retried(c, log_lines: io.StringIO) -> None:
    case_id, events = petition(c, channels=("email",), applicant=APPLICANT)
    c.log.append(c.topics.petition_events, case_id, encode(events[0]))
    closed = free_port()  # nothing listens: connection refused
    worker(c, {"email": SmtpChannel("127.0.0.1", closed, "minwon@dangjin.go.kr", timeout=2)}, attempts=ATTEMPTS).run(
        poll_timeout=0.2, until_caught_up=True)
    p = failure_of(c).payload
    assert (p.error_class, p.provider, p.retryable, p.attempts) == ("smtp_unreachable", "smtp", True, ATTEMPTS)
    assert_no_contact_anywhere(c, log_lines, case_id)


def test_the_upgrade_withholds_the_provider_texts_earlier_releases_stored(tmp_path: Path) -> None:
    """Delivery records and not yet published NoticeFailed v1 events of before hold the provider's text."""
    engine = make_engine(f"sqlite:///{tmp_path / 'notify.db'}")
    cfg = alembic_config(str(engine.url), CHAIN.location)
    cfg.attributes["version_table"] = CHAIN.version_table
    with engine.begin() as conn:  # the schema of the release before
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    at = datetime(2026, 11, 2, 1, tzinfo=timezone.utc)
    leaked = f"gave up after 4 attempts: sms gateway result -201: 수신번호 {PHONE} 오류"
    notice_id = str(uuid.uuid4())
    v1 = Envelope(event_id=uuid.uuid4(), case_id="case-1", occurred_at=at, recorded_at=at, producer="notify",
                  payload=nv.NoticeFailedV1(notice_id=notice_id, kind="receipt", channel="sms",
                                            cause_event_id=str(uuid.uuid4()), template_id="receipt",
                                            template_version="1", reason=leaked, attempts=1, failed_at=at))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO notice_deliveries (notice_id, case_id, kind, channel, cause_event_id, template_id, "
            "template_version, content_sha256, message_sealed, status, attempts, last_error, created_at, updated_at) "
            "VALUES (:id, 'case-1', 'receipt', 'sms', 'c', 'receipt', '1', :sha, '{}', 'failed', 1, :err, :at, :at)"),
            {"id": notice_id, "sha": "0" * 64, "err": leaked, "at": at})
        conn.execute(text("INSERT INTO notify_outbox (event_id, case_id, value, published, created_at) "
                          "VALUES (:e, 'case-1', :v, :p, :at)"), {"e": str(v1.event_id), "v": encode(v1), "p": False,
                                                                 "at": at})
    migrate(engine, CHAIN)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT last_error, error_class, error_provider, error_code, error_retryable "
                                "FROM notice_deliveries")).one()
        [value] = conn.execute(text("SELECT value FROM notify_outbox")).scalars()
    assert tuple(row) == (nv.WITHHELD, "unclassified", "sms", "result:-201", False)
    rewritten = decode(bytes(value))
    assert b'"schema_version":2' in bytes(value) and rewritten.event_id == v1.event_id
    assert rewritten.payload.code == "result:-201"
    for secret in SECRETS:
        assert secret not in bytes(value).decode()
    engine.dispose()
