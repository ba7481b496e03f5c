"""Delivering one message: retried with the same reference and exponential backoff, then given up."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.notify.channels.port import Channel, DeliveryError, Message


@dataclass(frozen=True)
class Outcome:
    sent: bool
    attempts: int
    provider_reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5  # 0.5 s, 1 s, 2 s between the four attempts
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


async def deliver(channel: Channel, message: Message, policy: RetryPolicy,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Outcome:
    reason = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            return Outcome(True, attempt, await channel.send(message))
        except DeliveryError as exc:
            reason = exc.reason
            if not exc.transient:
                return Outcome(False, attempt, reason=reason)
        if attempt < policy.attempts:
            await sleep(policy.delay(attempt))
    return Outcome(False, policy.attempts, reason=f"gave up after {policy.attempts} attempts: {reason}")
