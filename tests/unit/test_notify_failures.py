"""Delivery errors classified from a fixed table: the provider's text never kept; permanent refusals
tried once, transient errors retried; NoticeFailed v1 (the provider's text in ``reason``) read as v2."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timezone

import aiosmtplib
import pytest

from services.notify.channels.email import classify
from services.notify.channels.port import DeliveryError, Message
from services.notify.delivery import ChannelCrashed, RetryPolicy, deliver
from services.notify.failures import (
    CLASSES,
    GATEWAY_RESULTS,
    failure,
    gateway_result,
    gateway_status,
    smtp_reply,
)
from shared.events import Envelope, decode, encode
from shared.events import notice as nv

EMAIL, PHONE = "hong.gildong@example.kr", "010-2468-1357"
CONTACT_LIKE = re.compile(r"@|\d{3,}[- ]?\d{3,4}[- ]?\d{4}")


def test_every_class_has_a_fixed_description_that_names_no_one() -> None:
    for name, known in CLASSES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name)
        assert known.provider in {"smtp", "sms", "inbox", "file", "notify"}
        assert not CONTACT_LIKE.search(known.description) and len(known.description) <= 200
    assert set(GATEWAY_RESULTS.values()) <= set(CLASSES)


@pytest.mark.parametrize(("exc", "error_class", "code", "retryable"), [
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, f"5.1.1 <{EMAIL}>: User unknown", EMAIL)]),
     "smtp_recipient_refused", "550 5.1.1", False),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(452, f"<{EMAIL}> mailbox full", EMAIL)]),
     "smtp_recipient_deferred", "452", True),
    (aiosmtplib.SMTPSenderRefused(553, "5.7.1 sender rejected", "x@y.kr"), "smtp_sender_refused", "553 5.7.1", False),
    (aiosmtplib.SMTPDataError(554, f"5.7.1 message to {EMAIL} refused as spam"), "smtp_message_refused", "554 5.7.1",
     False),
    (aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad credentials"), "smtp_auth_refused", "535 5.7.8", False),
    (aiosmtplib.SMTPResponseException(421, "4.3.2 shutting down"), "smtp_session_deferred", "421 4.3.2", True),
    (aiosmtplib.SMTPConnectError("refused"), "smtp_unreachable", "SMTPConnectError", True),
    (aiosmtplib.SMTPReadTimeoutError("timed out"), "smtp_timeout", "SMTPReadTimeoutError", True),
    (aiosmtplib.SMTPServerDisconnected("gone"), "smtp_disconnected", "SMTPServerDisconnected", True),
    (ConnectionRefusedError(111, "refused"), "smtp_unreachable", "ConnectionRefusedError", True),
])
def test_smtp_errors_by_stage_and_reply_class(exc: BaseException, error_class: str, code: str, retryable: bool) -> None:
    f = classify(exc)
    assert (f.error_class, f.provider, f.code, f.retryable) == (error_class, "smtp", code, retryable)
    assert EMAIL not in f.summary()


def test_gateway_codes_and_statuses() -> None:
    assert (gateway_result(-201).error_class, gateway_result(-201).retryable) == ("sms_invalid_number", False)
    assert (gateway_result(-301).error_class, gateway_result(-301).retryable) == ("sms_throttled", True)
    assert (gateway_result(-777).error_class, gateway_result(-777).code) == ("sms_refused", "result:-777")
    assert [(gateway_status(s).error_class, gateway_status(s).retryable) for s in (500, 503, 429, 408, 400, 404)] == [
        ("sms_server_error", True), ("sms_server_error", True), ("sms_throttled", True), ("sms_timeout", True),
        ("sms_request_rejected", False), ("sms_request_rejected", False)]


def test_a_code_keeps_nothing_but_a_code() -> None:
    assert smtp_reply("recipient", 550, f"<{EMAIL}> 5.1.1 unknown").code == "550"  # no enhanced code at the start
    # callers pass only numbers and type names; anything else is dropped as a last guard
    assert [failure("smtp_error", bad).code for bad in (f"<{EMAIL}>", "01024681357", "X" * 41, "")] == [None] * 4


class Scripted:
    """A channel failing with the scripted failures, then accepting."""

    provider = "test"

    def __init__(self, *failures: str) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def send(self, m: Message) -> str | None:
        self.calls += 1
        if self.failures:
            raise DeliveryError(failure(self.failures.pop(0)))
        return "ok"


MESSAGE = Message(str(uuid.uuid4()), "email", EMAIL, "s", "t", "case", "receipt", "r" * 32, "agency-a")


def run(channel: object, attempts: int = 4):
    async def no_sleep(_: float) -> None:
        pass

    return asyncio.run(deliver(channel, MESSAGE, RetryPolicy(attempts, 0.01), sleep=no_sleep))  # type: ignore[arg-type]


def test_a_permanent_refusal_is_tried_once() -> None:
    channel = Scripted("smtp_recipient_refused", "smtp_recipient_refused")
    outcome = run(channel)
    assert (outcome.sent, outcome.attempts, channel.calls, outcome.gave_up) == (False, 1, 1, False)
    assert "gave up" not in outcome.reason() and "smtp_recipient_refused" in outcome.reason()


def test_a_transient_error_is_retried_then_given_up() -> None:
    assert run(Scripted("smtp_timeout", "sms_server_error")).attempts == 3  # sent on the third
    channel = Scripted(*["smtp_session_deferred"] * 9)
    outcome = run(channel, attempts=3)
    assert (outcome.sent, outcome.attempts, channel.calls, outcome.gave_up) == (False, 3, 3, True)
    assert outcome.reason().endswith("gave up after 3 attempts")


def test_a_channel_crash_keeps_only_the_errors_type() -> None:
    class Crashing:
        provider = "inbox"

        async def send(self, m: Message) -> str | None:
            raise ValueError(f"cannot write {EMAIL} / {PHONE}")

    with pytest.raises(ChannelCrashed) as crashed:
        run(Crashing())
    assert "ValueError" in str(crashed.value) and EMAIL not in str(crashed.value) and PHONE not in str(crashed.value)
    assert crashed.value.__cause__ is None and crashed.value.__suppress_context__


def test_notice_failed_v1_with_the_providers_text_is_read_as_v2_without_it() -> None:
    at = datetime(2026, 11, 2, 1, tzinfo=timezone.utc)
    common = dict(notice_id=str(uuid.uuid4()), kind="receipt", channel="email", cause_event_id=str(uuid.uuid4()),
                  template_id="receipt", template_version="1", attempts=4, failed_at=at)
    cases = [
        (f"gave up after 4 attempts: smtp: SMTPRecipientsRefused: [SMTPRecipientRefused(450, '<{EMAIL}> greylisted')]",
         ("unclassified", "smtp", "SMTPRecipientsRefused", True)),
        (f"smtp 550: 5.1.1 <{EMAIL}>: User unknown", ("unclassified", "smtp", "550", False)),
        (f"sms gateway result -201: 수신번호 {PHONE} 오류", ("unclassified", "sms", "result:-201", False)),
        ("gave up after 4 attempts: sms gateway answered 503", ("unclassified", "sms", "http:503", True)),
        ("the applicant gave no phone", ("no_phone", "notify", None, False)),
        (f"something else entirely about {EMAIL}", ("unclassified", "unknown", None, False)),
    ]
    for reason, expected in cases:
        v1 = Envelope(event_id=uuid.uuid4(), case_id="case", occurred_at=at, recorded_at=at, producer="notify",
                      payload=nv.NoticeFailedV1(reason=reason, **common))
        raw = encode(v1)
        assert b'"schema_version":1' in raw
        read = decode(raw)
        p = read.payload
        assert isinstance(p, nv.NoticeFailed) and read.schema_version == 2
        assert (p.error_class, p.provider, p.code, p.retryable) == expected
        assert EMAIL not in p.model_dump_json() and PHONE not in p.model_dump_json()
        assert p.reason == (reason if expected[0] == "no_phone" else nv.WITHHELD)
