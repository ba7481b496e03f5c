"""One case, for its page: its state, its facts in order, every obligation with its clock, the notices
sent, the vouchers and remedies owed, and its evaluations. None for a case the agency does not handle
(the same as for a case that does not exist). Free text (the title, the facts' words, the comments) comes
with contacts masked (``stats.privacy``); whose evaluations an account may read is the page's to apply
(``stats.privacy.sees_evaluation``).

After a transfer (Decree 13) the case is the receiving agency's; each fact says which agency handled the
case when it happened (``Fact.agency_id``), so the page can tell its own from the sending agency's
history. The remedies and evaluations are the agency's own (those of the agency that handled the case
before concern its officials: they are not the receiving agency's to read)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.projection.orm import (
    CaseFactRow,
    CaseRow,
    EvaluationRow,
    NoticeRow,
    ObligationRow,
    RemedyRow,
    VoucherRow,
)
from services.console.stats.common import view, working_between
from services.console.stats.privacy import masked, without_contacts
from shared.working_time import WORKING_DAY_SECONDS, WorkingCalendar

WITHHELD = ("applicant", "applicant_ref", "body")  # never stored: placeholders stand in (projection.handler.scrub)


@dataclass(frozen=True)
class CaseView:
    case_id: str
    case_number: str | None  # None: filed before case numbers existed
    receipt_number: str | None
    agency_id: str
    municipality_id: str
    charter_id: str | None
    charter_version: str | None
    petition_type: str
    petition_kind: str | None
    channel: str
    title: str
    department: str | None
    official_id: str | None
    official_name: str | None
    status: str
    arrived_at: datetime
    received_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    statutory_due_at: datetime | None
    statutory_period: str | None
    counting: str | None
    target_due_at: datetime | None
    paused: str | None
    remaining_working_seconds: int | None
    remaining_working_days: int | None
    processing_working_seconds: int | None
    extensions: int
    pauses: int
    transfers: int
    at_risk: bool
    statutory_breached: bool
    target_missed: bool
    evaluation_score: int | None
    evaluation_comment: str | None
    evaluated_at: datetime | None
    version: int
    last_event_at: datetime


@dataclass(frozen=True)
class Fact:
    version: int
    event_id: str
    agency_id: str  # the agency handling the case when it happened
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]  # as on the log, the applicant's data removed, contacts in its text masked


@dataclass(frozen=True)
class ObligationClock:
    obligation_id: str
    kind: str
    due_at: datetime | None  # None while suspended
    state: str  # open / at_risk / breached / discharged / suspended
    citizen_facing: bool
    severity: str | None  # breach / warning (a charter target missed)
    on_time: bool | None
    running: bool  # the clock runs now
    paused: bool  # suspended by a pause (Decree 20)
    remaining_working_seconds: int | None  # running: at now (negative once past); paused: what was left
    kept: bool | None  # discharged in time: True; breached or discharged late: False; still open: None


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    kind: str
    channel: str
    status: str
    at: datetime
    template_id: str
    template_version: str


@dataclass(frozen=True)
class VoucherView:
    voucher_id: str
    cause: str
    amount_won: int
    status: str
    needs_approval: bool
    official_id: str | None
    proposed_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RemedyView:
    event_id: str
    kind: str
    cause: str | None
    official_id: str | None
    at: datetime


@dataclass(frozen=True)
class EvaluationView:
    event_id: str
    score: int
    comment: str
    official_id: str | None
    official_name: str | None
    at: datetime


@dataclass(frozen=True)
class CaseDetail:
    case: CaseView
    facts: list[Fact]
    obligations: list[ObligationClock]
    notices: list[NoticeView]
    vouchers: list[VoucherView]
    remedies: list[RemedyView]
    evaluations: list[EvaluationView]


def clock_of(calendar: WorkingCalendar, now: datetime, ob: ObligationRow) -> ObligationClock:
    running, paused = ob.state in ("open", "at_risk"), ob.state == "suspended"
    if running:
        left = working_between(calendar, now, ob.due_at)
    elif paused:
        left = ob.remaining_working_seconds if ob.remaining_working_seconds is not None else (
            ob.remaining_working_days * WORKING_DAY_SECONDS if ob.remaining_working_days is not None else None)
    else:
        left = None
    kept = None if running or paused else (ob.state == "discharged" and bool(ob.on_time))
    return ObligationClock(ob.obligation_id, ob.kind, None if paused else ob.due_at, ob.state, ob.citizen_facing,
                           ob.severity, ob.on_time, running, paused, left, kept)


def case_detail(session: Session, agency_id: str, case_id: str, calendar: WorkingCalendar,
                now: datetime) -> CaseDetail | None:
    row = session.get(CaseRow, case_id)
    if row is None or row.agency_id != agency_id:
        return None

    def rows(table: Any, *order: Any, own: bool = False) -> list[Any]:
        q = select(table).where(table.case_id == case_id)
        if own:
            q = q.where(table.agency_id == agency_id)
        return list(session.execute(q.order_by(*order)).scalars())

    facts = [Fact(f.version, f.event_id, f.agency_id, f.event_type, f.occurred_at,
                  masked({k: v for k, v in json.loads(f.envelope)["payload"].items() if k not in WITHHELD}))
             for f in rows(CaseFactRow, CaseFactRow.version)]
    return CaseDetail(
        view(CaseView, row, title=without_contacts(row.title),
             evaluation_comment=without_contacts(row.evaluation_comment or "") or None), facts,
        [clock_of(calendar, now, o) for o in rows(ObligationRow, ObligationRow.due_at, ObligationRow.obligation_id)],
        [view(NoticeView, n) for n in rows(NoticeRow, NoticeRow.at, NoticeRow.notice_id)],
        [view(VoucherView, v) for v in rows(VoucherRow, VoucherRow.proposed_at, VoucherRow.voucher_id)],
        [view(RemedyView, r) for r in rows(RemedyRow, RemedyRow.at, RemedyRow.event_id, own=True)],
        [view(EvaluationView, e, comment=without_contacts(e.comment))
         for e in rows(EvaluationRow, EvaluationRow.at, EvaluationRow.event_id, own=True)])
