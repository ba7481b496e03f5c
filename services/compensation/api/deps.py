"""What compensation's routes use, handed over by the composition root: its database, the ledger,
the outbox it shares with its worker and relay, and the clock officials' actions are stamped with."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.compensation.ledger.book import Ledger
from services.platform.db.database import Database
from services.platform.outbox.publisher import Outbox


@dataclass(frozen=True)
class Compensation:
    db: Database
    ledger: Ledger
    outbox: Outbox
    clock: Callable[[], datetime]


def compensation(request: Request) -> Compensation:
    return request.app.state.compensation  # type: ignore[no-any-return]


Deps = Annotated[Compensation, Depends(compensation)]
