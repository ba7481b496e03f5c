"""HTTP request and response bodies (kept apart from the ORM tables)."""
from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from shared.events.petition import RECEIPT_NUMBER_PATTERN, Channel, NoticeChannel
from shared.periods import PetitionType
from shared.phones import NotAKoreanNumber, parse

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
PHONE_HELP = ("any Korean number as written: mobile (010-1234-5678), landline (02-123-4567, 031-123-4567), "
              "070, 080, 1588-1234, or +82 10 1234 5678; stored in E.164 (+821012345678). SMS goes to mobiles only.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicantIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=30, description=PHONE_HELP, examples=["010-1234-5678"])
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, min_length=2, max_length=300)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            return parse(v).e164
        except NotAKoreanNumber as exc:  # its own error type: problem+json words it, in English or Korean
            raise PydanticCustomError("phone", "not a Korean telephone number ({reason})", {"reason": str(exc)}) from None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL.match(v):
            raise PydanticCustomError("email", "not an e-mail address")
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
    notice_channels: list[NoticeChannel] | None = Field(default=None, max_length=4, description=(
        "how the applicant is told (sms, email, inbox, post). Omitted or null: the charter's promised channels "
        "for which a contact exists (an SMS needs a mobile number, an e-mail an address; the homepage inbox "
        "always), a charter promising none read as promising sms, email and inbox. An empty list: told of "
        "nothing. The answer says which channels will be used."))
    electronic_consent: bool = False
    receipt_number: str | None = Field(default=None, max_length=40, pattern=RECEIPT_NUMBER_PATTERN, description=(
        "the agency's own receipt number (접수번호), if its system gives one: notices name the case by it"),
        examples=["2AA-2611-0001234"])


class DeadlineOut(BaseModel):
    received_at: datetime
    period: str
    counting_mode: str
    due_at: datetime | None
    paused: bool
    remaining_working_seconds: int | None = Field(default=None, description=(
        "working time left: while paused, what the pause left; in a command's answer, while the clock runs, at the "
        "answer (remaining_as_of)"))
    remaining_working_days: int | None = None
    remaining_as_of: datetime | None = None
    time_left: str | None = None
    pauses_applied: list[dict] = Field(default_factory=list)
    holidays_skipped: list[str] = Field(default_factory=list)
    calendar_version: str


CLOCK = ("the statutory clock: running, paused (a supplement or field investigation), "
         "awaiting_formal_receipt (an internet or API petition not yet formally received: it has no deadline "
         "until POST /v1/petitions/{id}/receipt, due by formal_receipt_due_at, Decree 6-7) or stopped (resolved, closed)")
FORMAL_RECEIPT_DUE = "an electronic petition awaiting formal receipt: receipt is due by then (8 working hours)"


class RecordedOut(BaseModel):
    """The answer to every command: the event it appended."""

    case_id: str
    event_id: str
    event_type: str
    case_version: int
    status: str
    occurred_at: datetime
    statutory_deadline: DeadlineOut | None = Field(default=None, description=(
        "null while the clock has not started (an electronic petition awaiting formal receipt), as in GET"))
    clock: str = Field(description=CLOCK)
    formal_receipt_due_at: datetime | None = Field(default=None, description=FORMAL_RECEIPT_DUE)


INBOX_REF = ("the applicant's reference: a citizen portal lists their notices with GET /v1/inbox?applicant_ref= "
             "on notify's API (docs/notify.md). Pseudonymous: it names no one.")


CASE_NUMBER = "the number intake gave the case: <municipality>-<year of receipt, KST>-<sequence>; GET /v1/petitions?number="
REFERENCE = ("what notices call the case (접수번호): the receipt number, else the case number; a case filed before "
             "numbers existed keeps its case id")


class Warning_(BaseModel):
    field: str
    code: str = Field(description="sms_impossible (the number is no mobile), default_channels, no_channels")
    message: str


class PetitionFiledOut(RecordedOut):
    charter_id: str
    charter_version: str
    inbox_ref: str = Field(description=INBOX_REF)
    case_number: str = Field(description=CASE_NUMBER, examples=["dangjin-2026-000123"])
    receipt_number: str | None = Field(description="the agency's receipt number, as given")
    reference: str = Field(description=REFERENCE)
    notice_channels: list[str] = Field(description="the channels the applicant will be told on, as stored on the case")
    notice_channels_chosen_by: str = Field(description="integrator (as named, less what cannot be used) or default")
    warnings: list[Warning_] = Field(default_factory=list, description="what was accepted but cannot be done as asked")


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
    remaining_working_seconds: int | None = Field(description=(
        "working time left on the statutory clock at the request (0 once overdue; standing still while paused); "
        "null before it starts and once it stopped"))
    remaining_working_days: int | None = Field(description=(
        "working days left: a period of days counts the days still to count (today while its desks are open); a "
        "period of hours the whole 8-hour working days in the time left (Act 19)"))
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
    case_number: str | None = Field(default=None, description=CASE_NUMBER)
    receipt_number: str | None = Field(default=None, description="the agency's receipt number (at filing or formal receipt)")
    reference: str = Field(default="", description=REFERENCE)
    clock: str = Field(default="", description=CLOCK)
    formal_receipt_due_at: datetime | None = Field(default=None, description=FORMAL_RECEIPT_DUE)
    remaining_as_of: datetime | None = Field(default=None, description=(
        "the instant remaining_working_* are counted at: the request (while paused, the time left stands still)"))
    time_left: str | None = Field(default=None, description="the working time left, in words")


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


class NoticeGivenOut(BaseModel):
    kind: str
    sent_at: datetime
    event_id: str = Field(description="the NoticeSent event, or an official's InterimNoticeRecorded")
    notice_id: str | None = None
    channel: str | None = Field(default=None, description="null for a notice an official recorded as given by hand")


class DischargeOut(BaseModel):
    event_id: str
    event_type: str
    occurred_at: datetime
    on_time: bool
    voided_breach: bool = Field(description="a backdated fact showed a breach already reported was met in time")


class ClockOut(BaseModel):
    obligation_id: str
    kind: str = Field(description="formal_receipt, statutory_deadline, charter_target, interim_notice, "
                                  "extension_notice, transfer, callback, opinion_acknowledgement, opinion_answer")
    rule: str = Field(description="the law or charter promise it comes from")
    citizen_facing: bool = Field(description="false for the charter's internal target: missing it is a warning")
    promise_id: str | None
    state: str = Field(description="running, paused, kept or breached")
    started_at: datetime
    due_at: datetime | None = Field(description="null while paused")
    period: str | None
    counting: str = Field(description="working_time, working_days or calendar_days")
    at_risk: bool = Field(description="75% of its time was used while it ran")
    remaining_working_seconds: int | None
    remaining_working_days: int | None
    remaining_as_of: datetime | None = Field(description="the request instant (while paused the time left stands still)")
    time_left: str | None
    discharged_by: DischargeOut | None
    breached_due_at: list[datetime] = Field(description="every due instant it was breached at (and not voided)")
    notices: list[NoticeGivenOut] = Field(description="the notices that discharged it (each channel it went out on)")


class ObligationsOut(BaseModel):
    case_id: str
    as_of: datetime
    obligations: list[ClockOut]
