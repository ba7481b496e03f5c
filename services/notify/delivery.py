"""Delivering one message: a transient failure is retried with the same reference and exponential
backoff, then given up; a permanent one (SMTP 5xx, an invalid number) is not tried again."""
from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.notify.channels.port import Channel, DeliveryError, Message
from services.notify.failures import Failure


@dataclass(frozen=True)
class Outcome:
    sent: bool
    attempts: int
    provider_reference: str | None = None
    failure: Failure | None = None

    @property
    def gave_up(self) -> bool:
        """Every attempt failed with an error that was worth retrying."""
        return not self.sent and self.failure is not None and self.failure.retryable and self.attempts > 0

    def reason(self) -> str:
        """For operators (dead letters, logs): the classified failure, never the provider's text."""
        if self.failure is None:
            return "failed"
        tail = f"; gave up after {self.attempts} attempts" if self.gave_up else ""
        return self.failure.summary() + tail


class ChannelCrashed(RuntimeError):
    """A channel raised something it does not classify: a bug, or its database down (the inbox). Not the
    notice's fault, so the loop fails and the supervisor restarts it with the notice still pending, as
    before; but the supervisor logs the error, and its text may quote the contact: only its type and
    where it was raised are kept."""

    def __init__(self, provider: str, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
        super().__init__(f"the {provider} channel raised {type(exc).__name__}{where} (its text is withheld)")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5  # 0.5 s, 1 s, 2 s between the four attempts
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


async def deliver(channel: Channel, message: Message, policy: RetryPolicy,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Outcome:
    last: Failure | None = None
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        try:
            return Outcome(True, attempt, await channel.send(message))
        except DeliveryError as exc:
            last = exc.failure
            if not last.retryable:
                return Outcome(False, attempt, failure=last)
        except Exception as exc:
            raise ChannelCrashed(getattr(channel, "provider", "unknown"), exc) from None
        if attempt < attempts:
            await sleep(policy.delay(attempt))
    return Outcome(False, attempts, failure=last)
