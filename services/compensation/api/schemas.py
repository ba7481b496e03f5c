"""Request and response bodies of the compensation API (kept apart from the ledger's ORM rows)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.ids import ID_PATTERN

OfficialId = Field(min_length=1, max_length=64, pattern=ID_PATTERN,
                   description="the acting official's id (approver, clerk): a letter or digit, then letters, digits, "
                               "'.', '_', ':' or '-'")


class OfficialAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    official_id: str = OfficialId


class Rejection(OfficialAction):
    reason: str = Field(min_length=1, max_length=2000)


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    event_id: str
    status: str
    at: datetime
    actor: str
    amount_won: int
    reason: str | None


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    voucher_id: str
    case_id: str
    cause: str
    cause_event_id: str
    charter_id: str
    charter_version: str
    promise_id: str
    amount_won: int = Field(description="integer won")
    voucher_kind: str
    approval: str
    payment: str
    settled: bool
    status: str
    official_id: str | None
    batch_month: str | None
    proposed_at: datetime
    approved_at: datetime | None
    approved_by: str | None
    issued_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class VoucherDetail(VoucherOut):
    transitions: list[TransitionOut]


class VoucherPage(BaseModel):
    items: list[VoucherOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class StrikeCount(BaseModel):
    official_id: str
    strikes: int = Field(description="confirmed, not withdrawn")
    withdrawn: int
