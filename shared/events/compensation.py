"""Payloads of compensation events: remedies (시정 및 보상조치) decided under a charter's policy.

A voucher (상품권 등) moves proposed -> approved -> issued -> delivered, or is
cancelled with a reason (never deleted). Each transition is one event; each
carries the voucher id, derived from (case, cause), so a redelivered breach can
never propose a second voucher. Amounts are integers in won.
"""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.registry import event

Cause = Literal["statutory_deadline_missed", "repeat_visit", "administrative_error", "insincere_handling", "discourtesy"]
VoucherKind = Literal["gift_certificate", "culture_voucher", "bank_transfer", "cash"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyRef(_Payload):
    """Where the decision comes from: the charter promise and the calendar used to count lateness."""

    promise_id: str
    calendar_version: str | None = None


class _Voucher(_Payload):
    voucher_id: str
    cause: Cause


class Lateness(_Payload):
    due_at: AwareDatetime
    completed_at: AwareDatetime
    working_seconds_late: int = Field(ge=0)
    hours_late: int = Field(ge=0, description="started working hours late (ceil)")
    days_late: int = Field(ge=0, description="started working days late (ceil of 8-hour days)")
    same_day: bool = Field(description="the petition's period is counted in hours (a same-day petition)")


@event("VoucherProposed", 1)
class VoucherProposed(_Voucher):
    """A voucher is owed for this cause. With an escalating policy the amount is provisional until settled."""

    cause_event_id: str = Field(description="the breach or confirmed fact that caused it")
    amount_won: int = Field(ge=0)
    voucher_kind: VoucherKind
    settled: bool = Field(description="false: the amount waits for the case's resolution (escalating policy)")
    approval: Literal["none", "department_head"]
    payment: Literal["on_issue", "monthly_batch"]
    policy: PolicyRef
    official_id: str | None = None


@event("VoucherSettled", 1)
class VoucherSettled(_Voucher):
    """The escalating amount was fixed from the lateness at resolution, capped by the policy."""

    amount_won: int = Field(ge=0)
    lateness: Lateness
    policy: PolicyRef


@event("VoucherApproved", 1)
class VoucherApproved(_Voucher):
    approved_by: str = Field(description="the approving official's id, or 'policy' when none is required")
    amount_won: int = Field(ge=0)


@event("VoucherIssued", 1)
class VoucherIssued(_Voucher):
    amount_won: int = Field(ge=0)
    voucher_kind: VoucherKind
    batch_month: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="monthly-batch payment")


@event("VoucherDelivered", 1)
class VoucherDelivered(_Voucher):
    delivered_by: str


@event("VoucherCancelled", 1)
class VoucherCancelled(_Voucher):
    reason: str
    cancelled_by: str = Field(description="an official's id, or the event that voided the cause")


@event("ApologyOwed", 1)
class ApologyOwed(_Payload):
    """The charter promises an apology for this cause; notify sends it."""

    apology_id: str
    cause: Cause
    cause_event_id: str
    promise_id: str


@event("RetrainingOrdered", 1)
class RetrainingOrdered(_Payload):
    order_id: str
    official_id: str
    cause_event_id: str
    promise_id: str


@event("PersonnelActionReferred", 1)
class PersonnelActionReferred(_Payload):
    """The official reached the charter's strike threshold (D11: 3 or more confirmed discourtesies)."""

    referral_id: str
    official_id: str
    strikes: int = Field(ge=1)
    window_days: int | None
    strike_event_ids: tuple[str, ...]
    promise_id: str
