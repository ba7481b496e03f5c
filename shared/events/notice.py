"""Payloads of notice (통지) events: what notify told a petitioner, or failed to.

A notice is given only when a channel accepted it (NoticeSent). The SLA monitor
reads these: an extension notice (Decree 21) or an interim notice (Decree 23)
discharges its obligation only when sent. Contact details and message bodies are
never in these events: the hash of the rendered text and the template version
are enough to prove what was said (the body is re-rendered from them).
"""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.registry import event

NoticeKind = Literal[
    "receipt",  # Act 9 / Decree 6; Uijeongbu's 민원미란다 (rights told on receipt)
    "transfer",  # Decree 13
    "extension",  # Decree 21: reason and new date, in writing, without delay
    "interim",  # Decree 23: every 30 days while open
    "completion",  # Act 27; Decree 29
    "refusal",  # Act 27: reasons and remedies
    "apology",  # the charter's corrective measure when a voucher is owed
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
class NoticeSent(_Notice):
    """A channel accepted the notice (SMTP 250, gateway success, inbox row written)."""

    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider_reference: str | None = None
    attempts: int = Field(ge=1)


@event("NoticeFailed", 1)
class NoticeFailed(_Notice):
    """Every attempt failed; the notice is parked on the dead-letter topic for an operator."""

    reason: str
    attempts: int = Field(ge=1)
    failed_at: AwareDatetime
