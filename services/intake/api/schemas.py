"""HTTP request and response bodies (kept apart from the ORM tables)."""
from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.events.petition import Channel, NoticeChannel
from shared.periods import PetitionType

# Korean mobile numbers: 010, 011, 016, 017, 018, 019, with or without dashes (Y6: accurate contact data).
MOBILE = re.compile(r"^01[016789]-?[0-9]{3,4}-?[0-9]{4}$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, description="Korean mobile number, e.g. 010-1234-5678")
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, min_length=2, max_length=300)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not MOBILE.match(v):
            raise ValueError("not a Korean mobile number (01X-XXXX-XXXX)")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL.match(v):
            raise ValueError("not an e-mail address")
        return v


class PetitionIn(Strict):
    municipality_id: str = Field(min_length=1, max_length=64, examples=["dangjin"])
    petition_type: PetitionType
    petition_kind: str | None = Field(default=None, max_length=120)
    channel: Channel
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20_000)
    received_at: AwareDatetime = Field(description="the instant of receipt (접수), with its UTC offset")
    applicant: ApplicantIn
    notice_channels: list[NoticeChannel] = Field(default_factory=list)
    electronic_consent: bool = False


class DeadlineOut(BaseModel):
    received_at: datetime
    period: str
    counting_mode: str
    due_at: datetime | None
    paused: bool
    remaining_working_seconds: int | None = None
    remaining_working_days: int | None = None
    pauses_applied: list[dict] = Field(default_factory=list)
    holidays_skipped: list[str] = Field(default_factory=list)
    calendar_version: str


class RecordedOut(BaseModel):
    """The answer to every command: the event it appended."""

    case_id: str
    event_id: str
    event_type: str
    case_version: int
    status: str
    occurred_at: datetime
    statutory_deadline: DeadlineOut | None = None


INBOX_REF = ("the applicant's reference: a citizen portal lists their notices with GET /v1/inbox?applicant_ref= "
             "on notify's API (docs/notify.md). Pseudonymous: it names no one.")


class PetitionFiledOut(RecordedOut):
    charter_id: str
    charter_version: str
    inbox_ref: str = Field(description=INBOX_REF)


class OfficialOut(BaseModel):
    official_id: str
    name: str
    department: str
    phone: str
    email: str


class PetitionOut(BaseModel):
    case_id: str
    version: int
    status: str
    municipality_id: str
    agency_id: str
    charter_id: str | None
    charter_version: str | None
    petition_type: str
    petition_kind: str | None
    channel: str
    title: str
    arrived_at: datetime
    received_at: datetime | None
    department: str | None
    official: OfficialOut | None
    guardian: OfficialOut | None
    paused: bool
    extensions: int
    statutory_due_at: datetime | None
    target_due_at: datetime | None
    remaining_working_seconds: int | None
    remaining_working_days: int | None
    outcome: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    inbox_ref: str = Field(validation_alias="applicant_ref", description=INBOX_REF)
    duplicate_of: str | None = Field(description="the earliest similar petition of the same applicant with this agency (D14)")
    similar_elsewhere: list[str] = Field(default_factory=list, description=(
        "municipalities where the same applicant filed a near-identical petition with another agency "
        "(D14); their cases are never named. Only on a single case's read."))
    calendar_version: str | None
    notice_channels: list[str]
    updated_at: datetime


class PetitionPage(BaseModel):
    items: list[PetitionOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class ApplicantOut(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class TimelineEntryOut(BaseModel):
    version: int
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    producer: str
    summary: str
