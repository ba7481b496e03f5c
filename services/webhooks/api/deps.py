"""What the webhooks API uses, handed over by the composition root: its database, the keyring the secrets are
sealed with, the clock, the target policy, and a way to wake the sender (a redelivery is due at once)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.platform.db.database import Database
from shared.sealing import KeySource


@dataclass(frozen=True)
class Webhooks:
    db: Database
    keys: KeySource
    clock: Callable[[], datetime]
    allow_private: bool = False
    resolver: Callable[[str, int], list[str]] | None = None  # default: services.webhooks.targets.resolve
    wake: Callable[[], None] = field(default=lambda: None)
    max_subscriptions: int = 50  # per agency


def webhooks(request: Request) -> Webhooks:
    return request.app.state.webhooks  # type: ignore[no-any-return]


Deps = Annotated[Webhooks, Depends(webhooks)]
