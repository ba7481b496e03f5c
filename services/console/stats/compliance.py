"""Compliance per department and month: petitions received and completed, on time against the statutory
deadline (Act 19) and against the charter's target, processing time in working days by petition type
against the statutory period, breaches and warnings by obligation, vouchers by cause, extensions
(Decree 21), pauses (Act 22, Decree 17) and transfers (Decree 13).

A case counts under the department handling it now; a petition fact (extension, pause, transfer), a
breach and a voucher count in the month they happened, for the agency that handled the case then (a
transfer to another agency is the sending agency's; projection.orm's docstring): for the agency handling
the case now, under the case's department; for one that has handed it on, under the department that last
handled it there. A completion counts for the agency handling the case (the one that resolved it).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.projection.orm import BreachRow, CaseFactRow, CaseRow, VoucherRow
from services.console.stats.common import (
    COMPLETED,
    csv_text,
    days,
    month_of,
    period,
    rate,
)
from shared.events import petition as ev
from shared.periods import Period

PAUSES = ("SupplementRequested", "FieldInvestigationStarted")
RECEIPTS = ("PetitionReceived", "ReceiptRecorded")
ELECTRONIC = tuple(c.value for c in ev.ELECTRONIC_CHANNELS)


@dataclass
class Processing:
    """Completed cases of one petition type: their average processing time against their period."""

    cases: int = 0
    average_working_days: float = 0.0
    average_statutory_days: float | None = None  # the period, in working days (Act 19: 8 working hours a day)


@dataclass
class VoucherTotal:
    count: int = 0
    amount_won: int = 0


@dataclass
class Compliance:
    department: str | None  # None: not assigned to a department yet
    month: str  # YYYY-MM
    received: int = 0
    completed: int = 0
    on_time_statutory: int = 0
    completed_with_target: int = 0  # completed cases whose charter promises a shorter target
    on_time_target: int = 0
    on_time_rate_statutory: float | None = None
    on_time_rate_target: float | None = None
    processing: dict[str, Processing] = field(default_factory=dict)  # by petition type
    breaches: dict[str, int] = field(default_factory=dict)  # by obligation kind (citizen-facing breaches)
    warnings: dict[str, int] = field(default_factory=dict)  # charter targets missed
    vouchers: dict[str, VoucherTotal] = field(default_factory=dict)  # by cause, cancelled ones left out
    extensions: int = 0
    pauses: int = 0
    transfers: int = 0


def compliance(session: Session, agency_id: str, year: int, month: int | None = None) -> list[Compliance]:
    """One entry per department and month of the period with anything to count, by department then month."""
    start, end = period(year, month)
    out: dict[tuple[str | None, str], Compliance] = {}
    spent: dict[tuple[str | None, str], dict[str, list[tuple[int, int | None]]]] = defaultdict(lambda: defaultdict(list))

    def entry(department: str | None, at: datetime) -> Compliance:
        key = (department, month_of(at))
        if key not in out:
            out[key] = Compliance(*key)
        return out[key]

    for c in session.execute(select(CaseRow).where(CaseRow.agency_id == agency_id, CaseRow.status.in_(COMPLETED),
                                                   CaseRow.resolved_at >= start, CaseRow.resolved_at < end)).scalars():
        assert c.resolved_at is not None
        e = entry(c.department, c.resolved_at)
        e.completed += 1
        e.on_time_statutory += c.statutory_due_at is not None and c.resolved_at <= c.statutory_due_at
        if c.target_due_at is not None:
            e.completed_with_target += 1
            e.on_time_target += c.resolved_at <= c.target_due_at
        if c.processing_working_seconds is not None:
            period_seconds = Period.parse(c.statutory_period).working_seconds if c.statutory_period else None
            spent[(e.department, e.month)][c.petition_type].append((c.processing_working_seconds, period_seconds))
    for kind, at, handed_on, handling, now_department, channel in session.execute(
            select(CaseFactRow.event_type, CaseFactRow.occurred_at, CaseFactRow.department, CaseRow.agency_id,
                   CaseRow.department, CaseRow.channel)
            .join(CaseRow, CaseRow.case_id == CaseFactRow.case_id)
            .where(CaseFactRow.agency_id == agency_id,
                   CaseFactRow.event_type.in_((*RECEIPTS, "ProcessingExtended", "PetitionTransferred", *PAUSES)),
                   CaseFactRow.occurred_at >= start, CaseFactRow.occurred_at < end)):
        if kind in RECEIPTS and kind != ("ReceiptRecorded" if channel in ELECTRONIC else "PetitionReceived"):
            continue  # received when the statutory clock first starts: on arrival, or for an electronic
            # petition at its formal receipt (Decree 6-7); an objection's review (Act 35) is no new petition
        e = entry(now_department if handling == agency_id else handed_on, at)
        e.received += kind in RECEIPTS
        e.extensions += kind == "ProcessingExtended"
        e.transfers += kind == "PetitionTransferred"
        e.pauses += kind in PAUSES
    # A breach and a voucher stay with the agency that handled the case when they happened (a transfer moves
    # neither: projection.handler._hand_on).
    for b, handling, now_department in session.execute(
            select(BreachRow, CaseRow.agency_id, CaseRow.department).join(CaseRow, CaseRow.case_id == BreachRow.case_id)
            .where(BreachRow.agency_id == agency_id, BreachRow.voided.is_(False), BreachRow.due_at >= start,
                   BreachRow.due_at < end)):
        e = entry(now_department if handling == agency_id else b.department, b.due_at)
        counts = e.breaches if b.severity == "breach" else e.warnings
        counts[b.kind] = counts.get(b.kind, 0) + 1
    for v, handling, now_department in session.execute(
            select(VoucherRow, CaseRow.agency_id, CaseRow.department)
            .join(CaseRow, CaseRow.case_id == VoucherRow.case_id)
            .where(VoucherRow.agency_id == agency_id, VoucherRow.status != "cancelled",
                   VoucherRow.proposed_at >= start, VoucherRow.proposed_at < end)):
        department = now_department if handling == agency_id else v.department
        total = entry(department, v.proposed_at).vouchers.setdefault(v.cause, VoucherTotal())
        total.count += 1
        total.amount_won += v.amount_won
    for key, by_type in spent.items():
        for petition_type, pairs in by_type.items():
            periods = [p for _, p in pairs if p is not None]
            out[key].processing[petition_type] = Processing(
                len(pairs), days(sum(s for s, _ in pairs) / len(pairs)),
                days(sum(periods) / len(periods)) if periods else None)
    for e in out.values():
        e.on_time_rate_statutory = rate(e.on_time_statutory, e.completed)
        e.on_time_rate_target = rate(e.on_time_target, e.completed_with_target)
    return sorted(out.values(), key=lambda e: (e.department is None, e.department or "", e.month))


def compliance_csv(entries: list[Compliance]) -> str:
    """Long form (one figure a row: department, month, measure, breakdown, value), for the agencies' own
    reporting tools."""
    rows: list[list[object]] = []
    for e in entries:
        def put(measure: str, value: object, breakdown: str = "") -> None:
            rows.append([e.department or "(미배정)", e.month, measure, breakdown, value])

        for name in ("received", "completed", "on_time_statutory", "on_time_rate_statutory", "completed_with_target",
                     "on_time_target", "on_time_rate_target", "extensions", "pauses", "transfers"):
            put(name, getattr(e, name))
        for t, p in sorted(e.processing.items()):
            put("processing_cases", p.cases, t)
            put("processing_average_working_days", round(p.average_working_days, 3), t)
            put("statutory_period_average_working_days",
                None if p.average_statutory_days is None else round(p.average_statutory_days, 3), t)
        for kind, n in sorted(e.breaches.items()):
            put("breaches", n, kind)
        for kind, n in sorted(e.warnings.items()):
            put("warnings", n, kind)
        for cause, v in sorted(e.vouchers.items()):
            put("vouchers", v.count, cause)
            put("vouchers_amount_won", v.amount_won, cause)
    return csv_text(["부서", "월", "지표", "구분", "값"], rows)

