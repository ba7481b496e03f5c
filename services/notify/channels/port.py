"""The one interface every channel implements."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.notify.failures import Failure


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
    figures_as_of: datetime | None = None  # when its figures were computed: rendered for sending


class DeliveryError(Exception):
    """The provider did not take the message. Carries only the classified failure, never the provider's
    text (which may echo the contact): raise it ``from None`` so no chained exception carries it either."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.summary())
        self.failure = failure

    @property
    def transient(self) -> bool:
        """Worth retrying with the same reference."""
        return self.failure.retryable


class Channel(Protocol):
    provider: str  # smtp, sms, inbox, file: named in a failure the channel did not classify itself

    async def send(self, message: Message) -> str | None:
        """Hand the message over; return the provider's reference. Raise DeliveryError otherwise."""
        ...

    # Optional: ``async def aclose(self) -> None``, called at the end of each batch of deliveries (in the
    # event loop that sent it) to release what the channel kept open for it, e.g. SMTP connections.
