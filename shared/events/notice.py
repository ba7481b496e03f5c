"""Payloads of notice (통지) events: what notify told a petitioner, or failed to.

A notice is given only when a channel accepted it (NoticeSent). The SLA monitor
reads these: an extension notice (Decree 21) or an interim notice (Decree 23)
discharges its obligation only when sent. Contact details and message bodies are
never in these events: the hash of the rendered text and the template version
are enough to prove what was said (the body is re-rendered from them).
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.registry import event, upcaster

NoticeKind = Literal[
    "receipt",  # Act 9 / Decree 6; Uijeongbu's 민원미란다 (rights told on receipt)
    "transfer",  # Decree 13
    "extension",  # Decree 21: reason and new date, in writing, without delay
    "interim",  # Decree 23: every 30 days while open
    "completion",  # Act 27; Decree 29
    "refusal",  # Act 27: reasons and remedies
    "apology",  # the charter's corrective measure when a voucher is owed
    "supplement_request",  # Act 22; Decree 24-25: what is missing, by when, and what follows if nothing comes
]
Channel = Literal["sms", "lms", "email", "inbox"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Notice(_Payload):
    notice_id: str = Field(min_length=1, max_length=64, description="derived from the cause, stable across redeliveries")
    kind: NoticeKind
    channel: Channel
    cause_event_id: str = Field(description="the event the notice answers")
    template_id: str
    template_version: str


@event("NoticeSent", 1)
class NoticeSentV1(_Notice):
    """A channel accepted the notice (SMTP 250, gateway success, inbox row written)."""

    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider_reference: str | None = None
    attempts: int = Field(ge=1)


@event("NoticeSent", 2)
class NoticeSent(_Notice):
    """A channel accepted the notice (SMTP 250, gateway success, inbox row written). Its figures (days since
    receipt, working days left) are as of ``figures_as_of``, the instant it was rendered for sending; a v1
    notice's were as of its cause (``None``)."""

    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider_reference: str | None = None
    attempts: int = Field(ge=1)
    figures_as_of: AwareDatetime | None = Field(
        default=None, description="the instant the notice's figures were computed for: when it was rendered to be "
                                  "sent; null for a v1 notice (its figures were as of its cause event)")


@event("NoticeFailed", 1)
class NoticeFailedV1(_Notice):
    """Every attempt failed; the notice is parked on the dead-letter topic for an operator."""

    reason: str
    attempts: int = Field(ge=1)
    failed_at: AwareDatetime


@event("NoticeFailed", 2)
class NoticeFailed(_Notice):
    """The notice was not delivered: no contact or channel for it, refused for good, or given up on after
    every attempt (those two are parked on the dead-letter topic for an operator). The error is classified:
    providers echo the recipient in their errors, so their text is never kept (v1 kept it in ``reason``)."""

    reason: str = Field(max_length=200, description="the error class's fixed description; never the provider's text")
    error_class: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$",
                             description="e.g. smtp_recipient_refused, sms_invalid_number, sms_timeout, no_phone")
    provider: str = Field(pattern=r"^[a-z]{1,16}$",
                          description="smtp, sms, inbox or file; notify when no provider was asked (no contact, no "
                                      "channel); unknown for a v1 event that did not say")
    code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 .:_-]{1,40}$",
                             description="the provider's code: SMTP reply and enhanced status (550 5.1.1), gateway "
                                         "result (result:-201), HTTP status (http:503), or the transport error's type")
    retryable: bool = Field(description="whether the error was worth another try (a transient one, given up on)")
    attempts: int = Field(ge=1)
    failed_at: AwareDatetime


# -- v1 -> v2 -------------------------------------------------------------------------------------
# A v1 reason is the provider's text, which may name the contact: it is read for what it says about
# the provider and its code, then dropped. Notify's own fixed v1 texts are kept (they name no one).
WITHHELD = "recorded before errors were classified; the provider's text is withheld"
_V1_FIXED = {"the applicant gave no phone": "no_phone", "the applicant gave no email": "no_email",
             "no phone number": "no_phone", "no e-mail address": "no_email"}
_V1_PATTERNS: tuple[tuple[re.Pattern[str], str, bool | None, str], ...] = (
    # (v1 text, provider, retryable (None: by the SMTP code), v2's prefix of the code); the groups are
    # ASCII and short, so what they capture always fits v2's code
    (re.compile(r"^smtp ([0-9]{3}):"), "smtp", None, ""),
    (re.compile(r"^smtp: ([A-Za-z0-9_]{1,40})"), "smtp", True, ""),
    (re.compile(r"^sms gateway result (-?[0-9]{1,9})"), "sms", False, "result:"),
    (re.compile(r"^sms gateway answered ([0-9]{3})"), "sms", True, "http:"),
    (re.compile(r"^sms gateway refused the request: ([0-9]{3})"), "sms", False, "http:"),
    (re.compile(r"^sms gateway (?:timed out|unreachable) \(([A-Za-z0-9_]{1,40})\)"), "sms", True, ""),
    (re.compile(r"^sms gateway answered something"), "sms", True, ""),
)


def classify_v1_reason(reason: str) -> dict[str, Any]:
    """A v1 ``reason`` as v2's error fields; also used to clean delivery records written before v2."""
    text = re.sub(r"^gave up after \d+ attempts: ", "", reason or "")
    if text in _V1_FIXED:
        return {"reason": text, "error_class": _V1_FIXED[text], "provider": "notify", "code": None, "retryable": False}
    if re.fullmatch(r"no (sms|email|inbox) channel configured", text):
        return {"reason": text, "error_class": "no_channel", "provider": "notify", "code": None, "retryable": False}
    for pattern, provider, retryable, prefix in _V1_PATTERNS:
        found = pattern.match(text)
        if found:
            code = found.group(1) if found.groups() else None
            if retryable is None:  # SMTP: 4xx was worth another try, 5xx was not
                retryable = code is not None and code.startswith("4")
            return {"reason": WITHHELD, "error_class": "unclassified", "provider": provider,
                    "code": prefix + code if code else None, "retryable": retryable}
    return {"reason": WITHHELD, "error_class": "unclassified", "provider": "unknown", "code": None, "retryable": False}


@upcaster("NoticeFailed", 1)
def _notice_failed_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in payload.items() if k != "reason"}
    return {**rest, **classify_v1_reason(str(payload.get("reason", "")))}


@upcaster("NoticeSent", 1)
def _notice_sent_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "figures_as_of": None}
