"""Why a notice was not delivered, as a class from a fixed table: never the provider's own words.

Providers echo the recipient in their errors (an SMTP ``550 <minwon@example.kr>: user unknown``, a
gateway's ``수신번호 010-... 오류``), and a failure is written where nothing can be erased: the
notice-events and dead-letter topics are kept forever. So the provider's text is read only to pick a
class and then dropped; what is stored, logged and served is the class, the provider, its code and
whether trying again can help, plus the class's fixed description.

The SMS gateway's result codes are this system's contract with the gateway (docs/notify.md); an
unlisted negative code is a refusal, not retried.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    provider: str  # smtp, sms, inbox, file; notify when no provider was asked
    retryable: bool
    description: str  # fixed: no contact, no provider text


CLASSES: dict[str, Known] = {
    # SMTP: a 5xx reply is a refusal for good, a 4xx one "try again later" (RFC 5321 4.2.1)
    "smtp_recipient_refused": Known("smtp", False, "the mail server refused the recipient address"),
    "smtp_recipient_deferred": Known("smtp", True, "the mail server deferred the recipient address"),
    "smtp_sender_refused": Known("smtp", False, "the mail server refused our sender address"),
    "smtp_sender_deferred": Known("smtp", True, "the mail server deferred our sender address"),
    "smtp_message_refused": Known("smtp", False, "the mail server refused the message"),
    "smtp_message_deferred": Known("smtp", True, "the mail server deferred the message"),
    "smtp_auth_refused": Known("smtp", False, "the mail server refused our credentials"),
    "smtp_auth_deferred": Known("smtp", True, "the mail server could not check our credentials now"),
    "smtp_session_refused": Known("smtp", False, "the mail server refused the session"),
    "smtp_session_deferred": Known("smtp", True, "the mail server is busy or unavailable"),
    "smtp_not_supported": Known("smtp", False, "the mail server lacks a feature we are set to use (STARTTLS, AUTH)"),
    "smtp_bad_address": Known("smtp", False, "the e-mail address cannot be written into a message"),
    "smtp_unreachable": Known("smtp", True, "the mail server could not be reached"),
    "smtp_timeout": Known("smtp", True, "the mail server did not answer in time"),
    "smtp_disconnected": Known("smtp", True, "the mail server closed the connection"),
    "smtp_error": Known("smtp", True, "the SMTP conversation failed"),
    # SMS gateway: its result codes (GATEWAY_RESULTS), its HTTP status, the transport
    "sms_auth_failed": Known("sms", False, "the gateway refused our credentials"),
    "sms_sender_not_registered": Known("sms", False, "the sender number is not registered with the gateway"),
    "sms_insufficient_balance": Known("sms", False, "the gateway account has no balance left"),
    "sms_invalid_number": Known("sms", False, "the gateway refused the phone number as invalid"),
    "sms_recipient_blocked": Known("sms", False, "the recipient does not accept messages (blocked or opted out)"),
    "sms_message_refused": Known("sms", False, "the gateway refused the message text"),
    "sms_throttled": Known("sms", True, "the gateway asked us to slow down"),
    "sms_refused": Known("sms", False, "the gateway refused the message (an unlisted result code)"),
    "sms_request_rejected": Known("sms", False, "the gateway rejected the request (HTTP 4xx)"),
    "sms_server_error": Known("sms", True, "the gateway failed (HTTP 5xx)"),
    "sms_bad_answer": Known("sms", True, "the gateway answered something that is not its JSON"),
    "sms_unreachable": Known("sms", True, "the gateway could not be reached"),
    "sms_timeout": Known("sms", True, "the gateway did not answer in time"),
    # the stand-in channels and notify itself
    "file_write_failed": Known("file", True, "the outgoing message could not be written to its file"),
    "no_phone": Known("notify", False, "the applicant gave no phone"),
    "no_mobile": Known("notify", False, "the applicant's phone is not a mobile: it cannot receive SMS"),
    "no_email": Known("notify", False, "the applicant gave no email"),
    "no_channel": Known("notify", False, "no provider is configured for this channel"),
    "erased": Known("notify", False, "the applicant's personal data was erased"),
}

# Result codes of the SMS gateway contract (negative = refused); 1 is accepted.
GATEWAY_RESULTS: dict[int, str] = {
    -101: "sms_auth_failed",
    -102: "sms_sender_not_registered",  # 발신번호 사전등록: a sender number must be registered in advance
    -103: "sms_insufficient_balance",
    -201: "sms_invalid_number",
    -202: "sms_recipient_blocked",  # 수신거부: the recipient opted out
    -203: "sms_message_refused",
    -301: "sms_throttled",
}

_CODE = re.compile(r"[A-Za-z0-9 .:_-]{1,40}")
_LONG_NUMBER = re.compile(r"\d{5,}")  # no provider code is that long; a phone number is
_ENHANCED = re.compile(r"^\s*([245]\.[0-9]{1,3}\.[0-9]{1,3})(?![0-9.])")  # RFC 3463, at the start of the reply text


@dataclass(frozen=True)
class Failure:
    """A classified delivery error: what may be stored, logged and shown."""

    error_class: str
    provider: str
    retryable: bool
    description: str
    code: str | None = None  # SMTP reply (and enhanced status), gateway result, HTTP status, or an error type

    def summary(self) -> str:
        code = f" {self.code}" if self.code else ""
        kind = "retryable" if self.retryable else "permanent"
        return f"{self.provider}{code} {self.error_class} ({kind}): {self.description}"


def failure(error_class: str, code: object = None) -> Failure:
    known = CLASSES[error_class]
    # callers pass numbers and type names only; anything else is dropped, not trimmed, as a last guard
    text = str(code).strip() if code is not None else ""
    if not _CODE.fullmatch(text) or _LONG_NUMBER.search(text):
        text = ""
    return Failure(error_class, known.provider, known.retryable, known.description, text or None)


def smtp_reply(stage: str, code: int, text: str) -> Failure:
    """An SMTP error reply at ``stage`` (recipient, sender, message, auth, session). Of the text only
    the enhanced status code is kept (``5.1.1``): the rest may echo the address."""
    enhanced = _ENHANCED.match(text or "")
    outcome = "refused" if 500 <= code < 600 else "deferred"
    return failure(f"smtp_{stage}_{outcome}", f"{code} {enhanced.group(1)}" if enhanced else code)


def gateway_result(code: int) -> Failure:
    return failure(GATEWAY_RESULTS.get(code, "sms_refused"), f"result:{code}")


def gateway_status(status: int) -> Failure:
    """The gateway's HTTP status: 5xx, 408 and 429 are worth another try; any other 4xx is our request's fault."""
    if status == 429:
        return failure("sms_throttled", f"http:{status}")
    if status == 408:
        return failure("sms_timeout", f"http:{status}")
    return failure("sms_server_error" if status >= 500 else "sms_request_rejected", f"http:{status}")
