"""The work queue: an agency's open cases, the most urgent first.

Urgent means an obligation warned at risk, or the statutory deadline passed; then the least working time
left on the case's nearest clock: among its running obligations (statutory deadline, charter target,
formal receipt, callback, opinion answers, interim notice, transfer, extension notice) the one due first,
counted in working time at ``now`` (a suspended one keeps what was left when its pause began, Decree 20).

A search by number (``QueueFilter.number``: a case number or the agency's receipt number, exact) finds the
agency's cases of that number whatever their status: an official looking a case up by the number the
petitioner quotes must find it, open or done. Another agency's case is not found, as a missing one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.console.projection.orm import CaseRow, ObligationRow
from services.console.stats.common import OPEN, working_between
from services.console.stats.privacy import without_contacts
from shared.working_time import WORKING_DAY_SECONDS, WorkingCalendar

RUNNING = ("open", "at_risk", "suspended")


@dataclass(frozen=True)
class NearestClock:
    obligation_id: str
    kind: str
    due_at: datetime | None  # None: suspended (its due instant is fixed again when the pause ends)
    remaining_working_seconds: int | None  # negative once past; None outside the calendar
    paused: bool
    breached: bool


@dataclass(frozen=True)
class QueueItem:
    case_id: str
    case_number: str | None  # None: filed before case numbers existed (PetitionReceived v1)
    receipt_number: str | None
    title: str
    petition_type: str
    channel: str
    status: str
    department: str | None
    official_id: str | None
    official_name: str | None
    received_at: datetime | None
    statutory_due_at: datetime | None
    target_due_at: datetime | None
    paused: str | None
    at_risk: bool  # an obligation warned
    overdue: bool  # past its statutory deadline
    nearest: NearestClock | None


@dataclass(frozen=True)
class QueueFilter:
    department: str | None = None
    official_id: str | None = None
    petition_type: str | None = None
    channel: str | None = None
    mine: str | None = None  # "my cases": the signed-in official's id
    number: str | None = None  # a case number or receipt number: any status (the module's docstring)


def _clock(calendar: WorkingCalendar, now: datetime, ob: ObligationRow) -> NearestClock:
    if ob.state == "suspended":
        left = ob.remaining_working_seconds if ob.remaining_working_seconds is not None else (
            ob.remaining_working_days * WORKING_DAY_SECONDS if ob.remaining_working_days is not None else None)
        return NearestClock(ob.obligation_id, ob.kind, None, left, True, False)
    return NearestClock(ob.obligation_id, ob.kind, ob.due_at, working_between(calendar, now, ob.due_at), False,
                        ob.state == "breached")


def _nearest(calendar: WorkingCalendar, now: datetime, case: CaseRow, obs: list[ObligationRow]) -> NearestClock | None:
    # A breached obligation no longer runs, but a statutory deadline passed is the clock that matters most.
    clocks = [_clock(calendar, now, o) for o in obs
              if o.state in RUNNING or (o.state == "breached" and o.kind == "statutory_deadline")]
    if not clocks and case.statutory_due_at is not None:  # the monitor has not spoken yet: the case's own deadline
        clocks = [NearestClock("statutory_deadline", "statutory_deadline", case.statutory_due_at,
                               working_between(calendar, now, case.statutory_due_at), False, False)]
    known = [c for c in clocks if c.remaining_working_seconds is not None]
    return min(known, key=lambda c: c.remaining_working_seconds) if known else (clocks[0] if clocks else None)  # type: ignore[arg-type,return-value]


def work_queue(session: Session, agency_id: str, calendar: WorkingCalendar, now: datetime,
               filters: QueueFilter = QueueFilter(), limit: int | None = None) -> list[QueueItem]:
    q = select(CaseRow).where(CaseRow.agency_id == agency_id)
    number = (filters.number or "").strip()
    if number:
        q = q.where(or_(CaseRow.case_number == number, CaseRow.receipt_number == number))
    else:
        q = q.where(CaseRow.status.in_(OPEN))
    for column, value in ((CaseRow.department, filters.department), (CaseRow.official_id, filters.official_id),
                          (CaseRow.petition_type, filters.petition_type), (CaseRow.channel, filters.channel),
                          (CaseRow.official_id, filters.mine)):
        if value is not None:
            q = q.where(column == value)
    cases = list(session.execute(q).scalars())
    obligations: dict[str, list[ObligationRow]] = {}
    ids = [c.case_id for c in cases]
    for i in range(0, len(ids), 500):  # bounded IN lists
        for ob in session.execute(select(ObligationRow).where(ObligationRow.case_id.in_(ids[i:i + 500]))).scalars():
            obligations.setdefault(ob.case_id, []).append(ob)
    items = []
    for c in cases:
        running = c.status in OPEN  # a case found by number may be done: no clock of it runs
        overdue = running and (c.statutory_breached or (c.statutory_due_at is not None and c.statutory_due_at < now))
        items.append(QueueItem(c.case_id, c.case_number, c.receipt_number, without_contacts(c.title),
                               c.petition_type, c.channel, c.status, c.department, c.official_id, c.official_name,
                               c.received_at, c.statutory_due_at, c.target_due_at, c.paused, running and c.at_risk,
                               overdue, _nearest(calendar, now, c, obligations.get(c.case_id, [])) if running else None))

    def urgency(i: QueueItem) -> tuple[bool, bool, int, datetime, str]:
        left = i.nearest.remaining_working_seconds if i.nearest else None
        return (not (i.at_risk or i.overdue), left is None, left or 0, i.received_at or i.statutory_due_at or now,
                i.case_id)

    items.sort(key=urgency)
    return items[:limit] if limit is not None else items
