"""A charter's remedy policy applied to one cause: voucher amount, approval, payment, strikes.

Policy is data (``shared.charters.model.Remedy`` / ``Voucher`` / ``Escalation``); this
module only reads it. Amounts are integers in won. Lateness is counted in working
time on the calendar the breach was decided with (Act 19's hours and days).
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.charters.model import Charter, Remedy, Voucher
from shared.events.compensation import Lateness
from shared.working_time import WorkingCalendar

NAMESPACE = uuid.UUID("0b8c9d1e-6f3a-4c2b-9e7d-5a4f3c2b1a09")
HOUR = 3600
WORKING_DAY = 8 * HOUR  # Act 19 item 3: a day counts as 8 working hours


def voucher_id(case_id: str, cause: str) -> str:
    """One voucher per (case, cause): the id is the uniqueness rule."""
    return str(uuid.uuid5(NAMESPACE, f"voucher|{case_id}|{cause}"))


def remedy_id(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join((kind, *parts))))


@dataclass(frozen=True)
class VoucherPlan:
    promise_id: str
    voucher: Voucher

    @property
    def waits_for_resolution(self) -> bool:
        """The amount depends on how late the case finished: settled at its resolution."""
        return self.voucher.escalation is not None or self.voucher.minimum_days_late > 0


@dataclass(frozen=True)
class Plan:
    voucher: VoucherPlan | None = None
    apology_promise: str | None = None
    retraining_promise: str | None = None
    referral: Remedy | None = None  # the remedy whose strike threshold applies


def plan(charter: Charter | None, cause: str) -> Plan:
    """Everything the charter promises for this cause, merged over its remedy promises."""
    voucher: VoucherPlan | None = None
    apology = retraining = None
    referral = None
    for r in (charter.remedies_for(cause) if charter else []):
        if r.voucher is not None and voucher is None:
            voucher = VoucherPlan(r.id, r.voucher)
        if r.apology and apology is None:
            apology = r.id
        if r.retraining and retraining is None:
            retraining = r.id
        if r.personnel_referral_at_strike is not None and referral is None:
            referral = r
    return Plan(voucher, apology, retraining, referral)


def lateness(cal: WorkingCalendar, due_at: datetime, completed_at: datetime, same_day: bool) -> Lateness:
    late = max(0, cal.working_seconds_until(completed_at) - cal.working_seconds_until(due_at))
    return Lateness(due_at=due_at, completed_at=completed_at, working_seconds_late=late,
                    hours_late=math.ceil(late / HOUR), days_late=math.ceil(late / WORKING_DAY), same_day=same_day)


def amount(v: Voucher, late: Lateness | None) -> int:
    """The voucher's amount in won. Without lateness (a confirmed fault) it is the flat amount.

    Busan Gangseo-gu: nothing unless a full working day late. Namhae-gun: same-day petitions
    5,000 won at one hour late and 1,000 per further started hour; others 10,000 on the first
    started day late and 5,000 per further started day; capped.
    """
    if late is None:
        return v.amount_won
    if late.working_seconds_late // WORKING_DAY < v.minimum_days_late or late.working_seconds_late == 0:
        return 0
    e = v.escalation
    if e is None:
        return v.amount_won
    if late.same_day and e.same_day_first_amount is not None:
        first_after = e.same_day_first_after_hours or 1
        if late.working_seconds_late < first_after * HOUR:
            return 0
        total = e.same_day_first_amount + (late.hours_late - first_after) * (e.same_day_per_extra_hour or 0)
    else:
        total = (e.first_day_amount or v.amount_won) + (late.days_late - 1) * (e.per_extra_day or 0)
    return min(total, e.cap)


def referral_due(remedy: Remedy, strikes_in_window: int) -> bool:
    """D11: three or more confirmed strikes raise a personnel-action referral (each strike from the third)."""
    threshold = remedy.personnel_referral_at_strike
    return threshold is not None and strikes_in_window >= threshold
