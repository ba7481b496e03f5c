"""The overdue review (Decree 18: cases past their processing period are reviewed at least monthly):
open cases past their statutory deadline, and cases completed late within the last month; how late in
working days, and what the petitioner was told (the notices sent)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.console.projection.orm import BreachRow, CaseRow, NoticeRow
from services.console.stats.common import (
    COMPLETED,
    OPEN,
    csv_text,
    days_started,
    month_before,
    working_between,
)
from services.console.stats.privacy import without_contacts
from shared.working_time import WorkingCalendar


@dataclass(frozen=True)
class Told:
    kind: str  # shared.events.notice.NoticeKind
    channel: str
    at: datetime


@dataclass(frozen=True)
class OverdueCase:
    case_id: str
    case_number: str | None  # None: filed before case numbers existed
    receipt_number: str | None
    title: str
    petition_type: str
    department: str | None
    official_id: str | None
    official_name: str | None
    received_at: datetime | None
    statutory_due_at: datetime
    state: Literal["open", "completed_late"]
    resolved_at: datetime | None
    working_seconds_overdue: int
    days_overdue: int  # working days begun past the deadline (as compensation counts lateness)
    told: tuple[Told, ...]


def _deadline(session: Session, case: CaseRow) -> datetime | None:
    """The statutory deadline; while paused (no deadline, Decree 20) the one already breached, if any."""
    if case.statutory_due_at is not None:
        return case.statutory_due_at
    if not case.statutory_breached:
        return None
    return session.execute(select(BreachRow.due_at).where(
        BreachRow.case_id == case.case_id, BreachRow.kind == "statutory_deadline", BreachRow.voided.is_(False))
        .order_by(BreachRow.due_at.desc())).scalars().first()


def overdue_cases(session: Session, agency_id: str, calendar: WorkingCalendar, now: datetime) -> list[OverdueCase]:
    since = month_before(now)
    candidates = session.execute(select(CaseRow).where(CaseRow.agency_id == agency_id, or_(
        CaseRow.status.in_(OPEN), (CaseRow.status.in_(COMPLETED) & (CaseRow.resolved_at >= since))))).scalars()
    out = []
    for c in candidates:
        due = _deadline(session, c)
        if due is None:
            continue
        end = now if c.status in OPEN else c.resolved_at
        assert end is not None
        if end <= due:
            continue
        late = working_between(calendar, due, end) or 0
        told = tuple(Told(n.kind, n.channel, n.at) for n in session.execute(
            select(NoticeRow).where(NoticeRow.case_id == c.case_id, NoticeRow.status == "sent")
            .order_by(NoticeRow.at, NoticeRow.notice_id)).scalars())
        out.append(OverdueCase(c.case_id, c.case_number, c.receipt_number, without_contacts(c.title),
                               c.petition_type, c.department, c.official_id, c.official_name, c.received_at, due,
                               "open" if c.status in OPEN else "completed_late", c.resolved_at, late,
                               days_started(late), told))
    out.sort(key=lambda o: (-o.working_seconds_overdue, o.statutory_due_at, o.case_id))
    return out


NOTICE_LABELS = {"receipt": "접수", "transfer": "이송", "extension": "연장", "interim": "중간", "completion": "완료",
                 "refusal": "거부", "apology": "사과", "supplement_request": "보완 요청"}
STATE_LABELS = {"open": "처리중", "completed_late": "지연처리"}


def overdue_csv(items: list[OverdueCase]) -> str:
    """The monthly review's export. 민원번호 is the case number the pages show (the case id for a case filed
    before numbers existed); the case id, which the statistics API answers with, is the last column."""
    return csv_text(["민원번호", "제목", "민원유형", "부서", "담당자", "접수일시", "처리기한", "상태", "처리일시",
                     "지연 근무일수", "지연 근무시간(초)", "민원인 통지 내역", "접수번호", "사건 ID"],
                    [[o.case_number or o.case_id, o.title, o.petition_type, o.department, o.official_name,
                      o.received_at.isoformat() if o.received_at else None, o.statutory_due_at.isoformat(),
                      STATE_LABELS[o.state], o.resolved_at.isoformat() if o.resolved_at else None, o.days_overdue,
                      o.working_seconds_overdue,
                      "; ".join(f"{NOTICE_LABELS.get(t.kind, t.kind)}({t.channel}) {t.at.isoformat()}" for t in o.told),
                      o.receipt_number, o.case_id]
                     for o in items])
