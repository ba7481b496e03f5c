"""The one interface every channel implements."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    notice_id: str  # also the idempotency reference handed to the provider
    channel: str
    to: str | None  # phone or e-mail address; None for the inbox
    subject: str
    text: str
    case_id: str
    kind: str
    applicant_ref: str
    agency_id: str


class DeliveryError(Exception):
    """The provider did not take the message. ``transient``: worth retrying with the same reference."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class Channel(Protocol):
    async def send(self, message: Message) -> str | None:
        """Hand the message over; return the provider's reference. Raise DeliveryError otherwise."""
        ...
