"""Audit use-cases over a container: replay one case or all, verify the chains, rebuild projections."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.audit.replay import CaseLog, officials_found, replay_case
from services.audit.report import as_json
from services.audit.shards import Scope, replay_everything
from services.audit.source import read_case, read_log
from services.audit.summary import Summary
from services.audit.verify import ChainReport, verify_chains
from services.bootstrap import Container
from services.intake.store.orm import StreamEventRow
from services.platform.log.reading import read_all
from shared.events.envelope import chain_hash
from shared.notices.render import Renderer


def case_report(c: Container, case_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
    case = read_case(c.log, c.topics, case_id).cases.get(case_id)
    if case is None:
        return None
    related: list[CaseLog] = []
    officials = officials_found(case)
    if officials:  # their strikes in other cases decide this case's referrals: read those cases too
        related = [other for other in read_log(c.log, c.topics).cases.values()
                   if other.case_id != case_id and officials_found(other) & officials]
    replay = replay_case(case, c.calendar, c.charters, Renderer(), as_of=as_of, related=related)
    return as_json(replay, case, c.calendar, c.charters)


def replay_all(c: Container, received_from: datetime | None = None, received_to: datetime | None = None,
               progress: Callable[[int], None] | None = None, workers: int = 1) -> Summary:
    """Every case received in [received_from, received_to), over ``workers`` processes."""
    scope = Scope(c.log, c.topics, c.calendar, c.charters, received_from, received_to)
    return replay_everything(scope, workers, progress)


def verify(c: Container) -> ChainReport:
    """Every case's chain on the petition topic, each case's last event checked against the command store."""
    def stored(case_id: str) -> str | None:
        with c.readers() as session:
            raw = session.execute(select(StreamEventRow.envelope).where(StreamEventRow.case_id == case_id)
                                  .order_by(StreamEventRow.version.desc()).limit(1)).scalar_one_or_none()
        return chain_hash(raw.encode()) if raw is not None else None

    return verify_chains(read_all(c.log, c.topics.petition_events)[0], stored)
