"""Who may read a case's notices: the rule intake's read model and the audit apply (the agency that
filed the case, or one it was transferred to), decided by the core's fold of the petition facts notify
has stored for the case (``notify_case_events``). Inbox rows are no evidence: a case notified only by
SMS or e-mail has none."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.store.orm import NotifyCaseEventRow
from shared.events import decode
from shared.petition_case import fold


def case_visible(session: Session, case_id: str, agency_id: str) -> bool:
    """False for a case notify has no petition facts of, and for another agency's case: the callers answer
    both alike, so an agency cannot learn that a case it may not see exists."""
    stored = session.execute(select(NotifyCaseEventRow.envelope).where(NotifyCaseEventRow.case_id == case_id)
                             .order_by(NotifyCaseEventRow.seq)).scalars()
    facts = sorted((e for e in (decode(raw.encode()) for raw in stored) if e.producer == "intake"),
                   key=lambda e: e.case_version)  # derived events (SLA, compensation) are no petition facts
    state = fold(case_id, facts)
    return state.exists and state.can_be_seen_by(agency_id)
