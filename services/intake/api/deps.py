"""What intake's routes use, handed over by the composition root: the command rules, intake's own
database, the log (readiness only) and the outbox that publishes what a command committed."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from services.intake.commands import Rules
from services.intake.metrics import IntakeMetrics
from services.platform.db.database import Database
from services.platform.log.port import EventLog
from services.platform.outbox.publisher import Outbox
from shared.sealing import MadeKeys


@dataclass(frozen=True)
class Intake:
    rules: Rules
    db: Database
    log: EventLog
    petition_topic: str
    outbox: Outbox
    metrics: IntakeMetrics
    duplicate_window: timedelta = timedelta(days=30)  # D14: how far apart two filings may be and still be one
    prepare_case_key: Callable[[str], None] = lambda case_id: None  # the vault makes a new case's data key
    # many at once (bulk), returning the keys made; default: one by one
    prepare_case_keys: Callable[[list[str]], dict[str, bytes]] | None = None
    bulk_max_items: int = 1000  # commands per bulk request (POST /v1/petitions:bulk)
    bulk_max_bytes: int = 8 * 1024 * 1024  # bytes per bulk request

    def prepare_keys(self, case_ids: list[str]) -> dict[str, bytes]:
        """New cases' data keys, committed; those it knows without reading them back (maybe none)."""
        if self.prepare_case_keys is not None:
            return self.prepare_case_keys(case_ids)
        for case_id in case_ids:
            self.prepare_case_key(case_id)
        return {}

    def sealing_rules(self, case_ids: list[str]) -> Rules:
        """New cases' data keys made and committed, and the rules that seal under them as made (read back
        from the vault only where it could not say what it made)."""
        return replace(self.rules, keyring=MadeKeys(self.prepare_keys(case_ids), self.rules.keyring))


async def intake(request: Request) -> Intake:  # async: reading app.state needs no thread
    return request.app.state.intake  # type: ignore[no-any-return]


Deps = Annotated[Intake, Depends(intake)]
