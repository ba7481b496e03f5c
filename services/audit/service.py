"""Audit use-cases on the log alone: replay one case or all, verify the chains."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.audit.deps import Audit
from services.audit.replay import CaseLog, officials_found, replay_case
from services.audit.report import as_json
from services.audit.shards import Scope, replay_everything
from services.audit.source import read_case, read_log
from services.audit.summary import Summary
from services.audit.verify import ChainReport, verify_chains
from services.platform.log.reading import read_all
from shared.notices.render import Renderer
from shared.petition_case import fold


def visible_to(case: CaseLog, agency_id: str) -> bool:
    """The same rule intake's read model applies (the agency that filed it, or one it was transferred to),
    decided by the core's fold of the case's own events."""
    return fold(case.case_id, case.petition).can_be_seen_by(agency_id)


def case_report(a: Audit, case_id: str, as_of: datetime | None = None,
                agency_id: str | None = None) -> dict[str, Any] | None:
    """None when the log has no such case, or (``agency_id``) the agency may not see it: the two are
    told apart nowhere."""
    case = read_case(a.log, a.topics, case_id).cases.get(case_id)
    if case is None or not case.petition or (agency_id is not None and not visible_to(case, agency_id)):
        return None
    related: list[CaseLog] = []
    officials = officials_found(case)
    if officials:  # their strikes in other cases decide this case's referrals: read those cases too
        related = [other for other in read_log(a.log, a.topics).cases.values()
                   if other.case_id != case_id and officials_found(other) & officials]
    replay = replay_case(case, a.calendar, a.charters, Renderer(), as_of=as_of, related=related)
    return as_json(replay, case, a.calendar, a.charters)


def replay_all(a: Audit, received_from: datetime | None = None, received_to: datetime | None = None,
               progress: Callable[[int], None] | None = None, workers: int = 1) -> Summary:
    """Every case received in [received_from, received_to), over ``workers`` processes."""
    scope = Scope(a.log, a.topics, a.calendar, a.charters, received_from, received_to)
    return replay_everything(scope, workers, progress)


def verify(a: Audit, stored: Callable[[str], str | None]) -> ChainReport:
    """Every case's chain on the petition topic; ``stored(case_id)``: the chain hash of the case's last
    event in intake's command store (the composition root passes intake's lookup in)."""
    return verify_chains(read_all(a.log, a.topics.petition_events)[0], stored)
