"""Notify over real peers: an aiosmtpd SMTP server, a local HTTP server speaking the SMS gateway
contract (with injected timeouts and 5xx), the SQL inbox. Each notice arrives once."""
from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from services import wiring
from services.notify.channels.email import SmtpChannel
from services.notify.channels.inbox import InboxChannel
from services.notify.channels.sms import SmsGateway
from services.notify.delivery import RetryPolicy
from services.notify.worker import NotifyWorker
from services.sla_monitor.runner import read_all
from shared.events import Envelope, decode, encode
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.sealing import seal
from tests.e2e.harness import free_port
from tests.integration.conftest import api_token, make_container
from tests.unit.test_obligations import OFFICIAL, kst

APPLICANT = {"name": "김민원", "phone": "010-9876-5432", "email": "minwon@example.kr", "address": "당진시 시청1로 1"}


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


class Gateway:
    """Speaks the SMS gateway contract; ``script`` decides each attempt: 'ok', 'timeout', '500', 'refuse'."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.requests: list[dict[str, str]] = []
        self.delivered: dict[str, dict[str, str]] = {}  # ref -> the request that delivered it
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                gateway.requests.append(form)
                action = gateway.script.pop(0) if gateway.script else "ok"
                if action == "timeout":
                    time.sleep(1.0)  # longer than the client waits
                    # the gateway still delivers it (the worst case): the same ref must not deliver twice
                    gateway.delivered.setdefault(form["ref"], form)
                    return self._reply(200, {"result_code": "1", "message": "success", "msg_id": "late"})
                if action == "500":
                    return self._reply(500, {"message": "internal error"})
                if action == "refuse":
                    return self._reply(200, {"result_code": "-101", "message": "인증오류입니다."})
                first = gateway.delivered.setdefault(form["ref"], form)  # idempotent on ref
                return self._reply(200, {"result_code": "1", "message": "success",
                                         "msg_id": f"m-{list(gateway.delivered).index(form['ref'])}",
                                         "msg_type": first["msg_type"]})

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def petition(c, municipality: str = "dangjin", channels: tuple[str, ...] = ("sms", "email", "inbox"),
             applicant: dict | None = None) -> tuple[str, list[Envelope]]:
    case_id = str(uuid.uuid4())
    charter = c.charters.in_force(municipality, kst(2026, 11, 2, 10))
    ref = CharterRef(charter.id, charter.version)
    version = 0

    def event(payload, at) -> Envelope:
        nonlocal version
        version += 1
        return Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=version, occurred_at=at, recorded_at=at,
                        producer="intake", payload=payload, charter=ref)

    received = event(ev.PetitionReceived(
        municipality_id=municipality, agency_id="agency-a", petition_type="grievance", channel="visit",
        title="도로 파손 신고", applicant=seal(c.keyring, applicant or APPLICANT, case_id), applicant_ref="r" * 32,
        notice_channels=channels, electronic_consent=True), kst(2026, 11, 2, 10))
    assigned = event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 11))
    extended = event(ev.ProcessingExtended(period="7d", reason="관계기관 협의", expected_completion=kst(2026, 11, 19, 18)),
                     kst(2026, 11, 9, 10))
    resolved = event(ev.PetitionResolved(outcome="accepted", explanation="보수를 마쳤습니다."), kst(2026, 11, 12, 15))
    return case_id, [received, assigned, extended, resolved]


def worker(c, channels: dict, attempts: int = 4) -> NotifyWorker:
    return wiring.notify_worker(c, channels=channels, policy=RetryPolicy(attempts, 0.01), concurrency=1,
                                decisions_topic=None)


def outcomes(c) -> list[Envelope]:
    return [decode(r.value) for r in read_all(c.log, c.topics.notice_events)[0]]


@pytest.fixture
def c(tmp_path: Path, database_url: str, log_lines: io.StringIO):
    container = make_container(tmp_path, database_url)
    yield container
    container.close()


def test_email_over_real_smtp_with_korean_subject_and_body(c, smtp, log_lines: io.StringIO) -> None:
    box, port = smtp
    case_id, events = petition(c, channels=("email",))
    for e in events:
        c.log.append(c.topics.petition_events, case_id, encode(e))
    w = worker(c, {"email": SmtpChannel("127.0.0.1", port, "당진시 <minwon@dangjin.go.kr>")})
    w.run(poll_timeout=0.2, until_caught_up=True)
    subjects = [m["Subject"] for m in box.messages]
    assert subjects == ["[당진시] 민원 접수 안내", "[당진시] 민원 처리기간 연장 안내", "[당진시] 민원 처리 완료 안내"]
    assert all(rcpts == ["minwon@example.kr"] for _, rcpts in box.envelopes)
    completion = box.messages[2]
    body = completion.get_content()
    assert "처리 결과: 수용\n처리 내용: 보수를 마쳤습니다.\n담당: 도로과 박주무관(전화 041-350-1234, 전자우편 p@x.kr)" in body
    assert completion.get_content_charset() == "utf-8"
    sent = [e for e in outcomes(c) if e.event_type == "NoticeSent"]
    assert [(e.payload.kind, e.payload.channel) for e in sent] == [("receipt", "email"), ("extension", "email"),
                                                                   ("completion", "email")]
    assert completion["Message-ID"] == f"<{sent[2].payload.notice_id}@charterwatch>"
    assert sent[2].payload.content_sha256 == hashlib.sha256(body.replace("\r\n", "\n").encode()).hexdigest()
    assert sent[2].payload.template_version == "3"  # completion v3: its date in the 공문서 form
    # a redelivery of every event sends nothing more
    again = worker(c, {"email": SmtpChannel("127.0.0.1", port, "당진시 <minwon@dangjin.go.kr>")})
    for e in events:
        c.log.append(c.topics.petition_events, case_id, encode(e))
    again.run(poll_timeout=0.2, until_caught_up=True)
    assert len(box.messages) == 3
    # our own log lines only: the SMTP server standing in for the provider logs its side ("mail.log")
    output = "\n".join(line for line in log_lines.getvalue().splitlines() if '"logger": "mail.log"' not in line)
    for secret in (*APPLICANT.values(), "보수를 마쳤습니다"):
        assert secret not in output, "a contact detail or a message body reached the logs"


def test_sms_timeouts_and_5xx_are_retried_with_the_same_reference_and_arrive_once(c) -> None:
    gateway = Gateway(["timeout", "500", "ok"])
    try:
        case_id, events = petition(c, channels=("sms",))
        c.log.append(c.topics.petition_events, case_id, encode(events[0]))
        sms = SmsGateway(gateway.url, "key", "user", "0413501234", timeout=0.3)
        worker(c, {"sms": sms}).run(poll_timeout=0.2, until_caught_up=True)
        refs = [r["ref"] for r in gateway.requests]
        assert len(refs) == 3 and len(set(refs)) == 1  # three attempts, one idempotency reference
        assert len(gateway.delivered) == 1
        request = gateway.requests[-1]
        assert request["receiver"] == "010-9876-5432" and request["sender"] == "0413501234"
        assert request["msg_type"] == "LMS"  # the receipt notice is longer than 90 EUC-KR bytes
        [sent] = [e for e in outcomes(c) if e.event_type == "NoticeSent"]
        assert (sent.payload.kind, sent.payload.channel, sent.payload.attempts) == ("receipt", "lms", 3)
    finally:
        gateway.close()


def test_a_notice_given_up_is_failed_and_parked_with_the_reason(c) -> None:
    gateway = Gateway(["500"] * 10)
    try:
        case_id, events = petition(c, channels=("sms",))
        c.log.append(c.topics.petition_events, case_id, encode(events[0]))
        worker(c, {"sms": SmsGateway(gateway.url, "k", "u", "0413501234", timeout=0.3)}, attempts=3).run(
            poll_timeout=0.2, until_caught_up=True)
        [failed] = [e for e in outcomes(c) if e.event_type == "NoticeFailed"]
        assert failed.schema_version == 2 and failed.payload.attempts == 3
        assert (failed.payload.error_class, failed.payload.code, failed.payload.retryable) == (
            "sms_server_error", "http:500", True)
        dead = [json.loads(r.value) for r in read_all(c.log, c.topics.dead_letter)[0]]
        assert len(dead) == 1 and dead[0]["service"] == "notify" and "http:500" in dead[0]["reason"]
        assert "gave up after 3 attempts" in dead[0]["reason"]
        assert "010-9876-5432" not in json.dumps(dead)
        assert len(gateway.requests) == 3
    finally:
        gateway.close()


def test_a_refusing_gateway_is_not_retried(c) -> None:
    gateway = Gateway(["refuse"])
    try:
        case_id, events = petition(c, channels=("sms",))
        c.log.append(c.topics.petition_events, case_id, encode(events[0]))
        worker(c, {"sms": SmsGateway(gateway.url, "k", "u", "0413501234")}).run(poll_timeout=0.2, until_caught_up=True)
        [failed] = [e for e in outcomes(c) if e.event_type == "NoticeFailed"]
        assert failed.payload.attempts == 1 and len(gateway.requests) == 1
        assert (failed.payload.error_class, failed.payload.code, failed.payload.retryable) == (
            "sms_auth_failed", "result:-101", False)
        assert "인증오류" not in failed.payload.reason  # the gateway's own text is never kept
    finally:
        gateway.close()


def test_inbox_serves_the_notices_to_the_portal_and_no_contact_means_unreachable(c) -> None:
    case_id, events = petition(c, channels=("inbox", "sms"), applicant={"name": "김민원", "email": "a@b.kr"})
    for e in events:
        c.log.append(c.topics.petition_events, case_id, encode(e))
    worker(c, {"inbox": InboxChannel(c.database("notify").sessions, c.clock)}).run(poll_timeout=0.2, until_caught_up=True)
    client = TestClient(wiring.notify_app(c))
    client.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    page = client.get("/v1/inbox", params={"applicant_ref": "r" * 32}).json()
    assert [m["kind"] for m in page["items"]] and {m["kind"] for m in page["items"]} == {"receipt", "extension",
                                                                                       "completion"}
    assert all(m["case_id"] == case_id for m in page["items"])
    other = TestClient(client.app)
    other.headers["Authorization"] = f"Bearer {api_token(c, 'agency-b')}"
    assert other.get("/v1/inbox", params={"applicant_ref": "r" * 32}).json()["items"] == []
    assert client.get("/v1/inbox", params={"applicant_ref": "short"}).json()["field"] == "applicant_ref"
    deliveries = client.get("/v1/notices", params={"case_id": case_id}).json()
    sms = [d for d in deliveries if d["channel"] == "sms"]
    assert {d["status"] for d in sms} == {"unreachable"} and "phone" in sms[0]["last_error"]
    assert sms[0]["error"] == {"error_class": "no_phone", "provider": "notify", "code": None, "retryable": False,
                               "description": "the applicant gave no phone"}
    assert "a@b.kr" not in json.dumps(deliveries)  # delivery records never show a contact
    failed = {(e.payload.channel, e.payload.reason) for e in outcomes(c) if e.event_type == "NoticeFailed"}
    # D3 adds e-mail to the completion notice (consent given); no e-mail channel runs in this test
    assert failed == {("lms", "the applicant gave no phone"), ("email", "no provider is configured for this channel")}


def test_positions_commit_with_the_decisions_and_a_kill_repeats_only_the_notice_in_flight(c, smtp) -> None:
    from services.notify.schema import RUNTIME

    box, port = smtp
    case_id, events = petition(c, channels=("email",))
    for e in (events[0], events[2], events[3]):  # receipt, extension, completion: three notices, in order
        c.log.append(c.topics.petition_events, case_id, encode(e))

    class Killed(BaseException):
        pass

    settled: list[str] = []

    def die_at_the_second(notice_id: str) -> None:
        settled.append(notice_id)
        if len(settled) == 2:
            raise Killed  # the second notice was sent; the process dies before it is settled

    smtp_channel = SmtpChannel("127.0.0.1", port, "x@y.kr")
    dying = worker(c, {"email": smtp_channel})
    dying.deliverer._before_settle = die_at_the_second
    with pytest.raises(Killed):
        dying.run(poll_timeout=0.2, until_caught_up=True)
    with c.database("notify").sessions() as s:  # the decisions and the positions committed together before any send
        assert s.query(RUNTIME.position).filter_by(consumer="notify").count() > 0
    assert len(box.messages) == 2
    worker(c, {"email": smtp_channel}).run(poll_timeout=0.2, until_caught_up=True)
    ids = [m["Message-ID"] for m in box.messages]
    assert len(ids) == 4 and len(set(ids)) == 3  # the one in flight again, with its reference; nothing else
    assert ids[1] == ids[2]
    sent = [e for e in outcomes(c) if e.event_type == "NoticeSent"]
    assert [e.payload.kind for e in sent] == ["receipt", "extension", "completion"]


def test_derived_events_read_before_the_petition_facts_wait_for_them(c, smtp) -> None:
    """Notify's topics are read independently: an apology owed can be read before the receipt it
    concerns. It waits, durably, and is acted on once the facts arrive: never dropped."""
    from shared.events import compensation as comp

    box, port = smtp
    case_id, events = petition(c, channels=("email",))
    owed = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=2, occurred_at=kst(2026, 11, 20, 18),
                    recorded_at=kst(2026, 11, 20, 18), producer="compensation", charter=events[0].charter,
                    payload=comp.ApologyOwed(apology_id="a-1", cause="statutory_deadline_missed",
                                             cause_event_id=str(uuid.uuid4()), promise_id="D10"))
    c.log.append(c.topics.compensation_events, case_id, encode(owed))
    w = worker(c, {"email": SmtpChannel("127.0.0.1", port, "x@y.kr")})
    w.run(poll_timeout=0.2, until_caught_up=True)
    assert box.messages == []  # nothing known of the case yet: the apology waits
    with c.database("notify").sessions() as s:
        from services.notify.schema import RUNTIME
        assert [h.state for h in s.query(RUNTIME.held).filter_by(consumer="notify")] == ["waiting"]
    c.log.append(c.topics.petition_events, case_id, encode(events[0]))
    worker(c, {"email": SmtpChannel("127.0.0.1", port, "x@y.kr")}).run(poll_timeout=0.2, until_caught_up=True)
    assert len(box.messages) == 1  # the receipt; the apology still waits for version 2
    c.log.append(c.topics.petition_events, case_id, encode(events[1]))
    worker(c, {"email": SmtpChannel("127.0.0.1", port, "x@y.kr")}).run(poll_timeout=0.2, until_caught_up=True)
    assert [m["Subject"] for m in box.messages] == ["[당진시] 민원 접수 안내", "[당진시] 민원 처리 사과 안내"]  # no voucher
    with c.database("notify").sessions() as s:
        assert s.query(RUNTIME.held).count() == 0


def test_a_redelivered_event_is_judged_as_the_case_was_then(c, smtp) -> None:
    """An internet petition waits for formal receipt: its PetitionReceived owes no receipt notice, even
    when it is read again after the ReceiptRecorded that followed it."""
    box, port = smtp
    case_id, events = petition(c, channels=("email",))
    received = events[0]
    internet = Envelope(event_id=received.event_id, case_id=case_id, case_version=1, occurred_at=received.occurred_at,
                        recorded_at=received.recorded_at, producer="intake", charter=received.charter,
                        payload=received.payload.model_copy(update={"channel": ev.Channel.INTERNET}))
    receipt = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=2, occurred_at=kst(2026, 11, 2, 13),
                       recorded_at=kst(2026, 11, 2, 13), producer="intake", charter=received.charter,
                       payload=ev.ReceiptRecorded())
    for e in (internet, receipt):
        c.log.append(c.topics.petition_events, case_id, encode(e))
    worker(c, {"email": SmtpChannel("127.0.0.1", port, "x@y.kr")}).run(poll_timeout=0.2, until_caught_up=True)
    c.log.append(c.topics.petition_events, case_id, encode(internet))  # read again, after the receipt
    worker(c, {"email": SmtpChannel("127.0.0.1", port, "x@y.kr")}).run(poll_timeout=0.2, until_caught_up=True)
    assert len(box.messages) == 1  # the formal receipt's notice, once


def test_an_interim_notice_states_its_figures_as_of_the_sending_instant(c) -> None:
    """Decided when the warning fired (day 24), sent on day 31 after notify was down in between: the
    notice counts the days to the instant it is sent, and the audit replay renders the same text."""
    from sqlalchemy import select

    from services.audit.replay import CaseLog, Replay, check_notices
    from services.notify.store.orm import InboxMessageRow
    from services.notify.worker import Deliverer
    from shared.events import sla
    from shared.notices.render import Renderer

    case_id, events = petition(c, channels=("inbox",))
    received, assigned = events[:2]
    warning = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=2, occurred_at=kst(2026, 11, 24, 16),
                       recorded_at=kst(2026, 11, 24, 16), producer="sla_monitor", charter=received.charter,
                       payload=sla.ObligationAtRisk(obligation_id="interim_notice:1", kind="interim_notice",
                                                    due_at=kst(2026, 12, 2, 10), citizen_facing=True, threshold=0.75))
    for e in (received, assigned):
        c.log.append(c.topics.petition_events, case_id, encode(e))
    c.log.append(c.topics.sla_events, case_id, encode(warning))
    c.clock = lambda: kst(2026, 11, 24, 16, 1)
    with mock.patch.object(Deliverer, "deliver_pending", lambda self: 0):  # killed after deciding, before sending
        worker(c, {"inbox": InboxChannel(c.database("notify").sessions, c.clock)}).run(poll_timeout=0.2,
                                                                                       until_caught_up=True)

    c.clock = lambda: kst(2026, 12, 2, 11)  # back on day 31
    up = worker(c, {"inbox": InboxChannel(c.database("notify").sessions, c.clock)})
    up.deliverer.deliver_pending()
    with c.database("notify").sessions() as s:
        bodies = {r.kind: r.body for r in s.execute(select(InboxMessageRow)).scalars()}
    # 11/2 10:00 -> 12/2 11:00 is 30 days and an hour: the 31st day; the deadline (7 days, 11/10 18:00) passed
    assert "접수 후 31일째 처리 중입니다." in bodies["interim"], bodies["interim"]
    assert "처리기한: 2026. 11. 10.(화) 18:00\n처리기한을 지키지 못해 죄송합니다." in bodies["interim"]
    sent = [e for e in outcomes(c) if e.event_type == "NoticeSent" and e.payload.kind == "interim"]
    assert len(sent) == 1 and sent[0].payload.figures_as_of == kst(2026, 12, 2, 11)
    assert sent[0].payload.content_sha256 == hashlib.sha256(bodies["interim"].encode()).hexdigest()

    log = CaseLog(case_id, petition=[received, assigned], sla_wire=[encode(warning)], notices=outcomes(c))
    report = Replay(case_id, None, None, c.calendar.version)
    check_notices(log, c.calendar, c.charters, Renderer(), report)
    assert report.differences == [] and report.agreed.get("notice", 0) >= 2


def test_an_sms_to_a_landline_is_unreachable_not_parked(c) -> None:
    """A landline given as the phone (intake accepts every Korean number): no SMS is attempted, the notice
    is unreachable like one with no phone, and nothing waits for an operator."""
    case_id, events = petition(c, channels=("sms",), applicant={"name": "김민원", "phone": "+82413501234"})
    gateway = Gateway([])
    try:
        for e in events:
            c.log.append(c.topics.petition_events, case_id, encode(e))
        worker(c, {"sms": SmsGateway(gateway.url, "k", "charterwatch", "0413501234")}).run(poll_timeout=0.2,
                                                                                          until_caught_up=True)
    finally:
        gateway.close()
    assert gateway.requests == []
    failed = [e for e in outcomes(c) if e.event_type == "NoticeFailed" and e.payload.channel in ("sms", "lms")]
    assert failed and {e.payload.error_class for e in failed} == {"no_mobile"}
    assert read_all(c.log, c.topics.dead_letter)[0] == []


def test_many_cases_at_once_are_settled_in_shared_transactions_each_case_in_order(c, smtp) -> None:
    """Sending 8 cases at a time, the outcomes that arrive while a settlement commits are settled together
    (group commit): fewer transactions than notices, every notice settled once, each case's in order."""
    box, port = smtp
    cases = [petition(c, channels=("email",)) for _ in range(12)]
    for case_id, events in cases:
        for e in events:
            c.log.append(c.topics.petition_events, case_id, encode(e))
    w = wiring.notify_worker(c, channels={"email": SmtpChannel("127.0.0.1", port, "x@y.kr")},
                             policy=RetryPolicy(2, 0.01), concurrency=8, decisions_topic=None)
    deliverer = w.deliverer
    batches: list[int] = []
    settle = deliverer._settle_many

    def counted(outcomes):  # type: ignore[no-untyped-def]
        batches.append(len(outcomes))
        settle(outcomes)

    deliverer._settle_many = counted  # type: ignore[method-assign]
    w.run(poll_timeout=0.2, until_caught_up=True)
    settled = outcomes(c)  # the e-mails sent, and what the charter sends by other channels (the inbox)
    assert len(box.messages) == 12 * 3 and sum(batches) == len(settled)
    assert len(batches) < len(settled) and max(batches) > 1
    assert len({e.payload.notice_id for e in settled}) == len(settled)
    sent = [e for e in settled if e.event_type == "NoticeSent" and e.payload.channel == "email"]
    assert len(sent) == 12 * 3
    for case_id, _ in cases:
        assert [e.payload.kind for e in sent if e.case_id == case_id] == ["receipt", "extension", "completion"]
