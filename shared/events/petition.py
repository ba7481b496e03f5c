"""Payloads of petition (민원) events: facts recorded through intake, in the past tense.

Each payload is the data of one fact; the envelope carries the case id, the
instant it occurred and the case version. Officials are named by id in events;
their display names and contacts (for the real-name rule, Decree 31) are
public-service data, not applicant personal data.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from shared.events.ids import Id, LooseId
from shared.events.registry import event, upcaster
from shared.periods import Period, PetitionType
from shared.sealing import Sealed


class Channel(str, Enum):
    """How the petition reached the agency (D1)."""

    VISIT = "visit"
    PHONE = "phone"
    POST = "post"
    FAX = "fax"
    INTERNET = "internet"
    API = "api"


ELECTRONIC_CHANNELS = frozenset({Channel.INTERNET, Channel.API})  # Decree 6-7: formal receipt follows


class NoticeChannel(str, Enum):
    SMS = "sms"
    EMAIL = "email"
    INBOX = "inbox"  # the municipality's homepage inbox
    POST = "post"


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Text = Field(min_length=1, max_length=4000)


class Official(Payload):
    """A public official as notices name them (real-name rule, Decree 31)."""

    official_id: Id
    name: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=4, max_length=30)
    email: str = Field(min_length=3, max_length=254)


class _PetitionReceived(Payload):
    municipality_id: str = Field(min_length=1, max_length=64, description="charter id of the receiving municipality")
    agency_id: str = Field(min_length=1, max_length=64, description="the integrating agency that filed it")
    petition_type: PetitionType
    petition_kind: str | None = Field(default=None, max_length=120, description="statutory petitions: kind in the agency's table")
    channel: Channel
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20_000)
    applicant: Sealed = Field(description="applicant name, phone, e-mail and address, encrypted")
    applicant_ref: str = Field(min_length=16, max_length=64, description="keyed hash of the applicant, for duplicate detection")
    notice_channels: tuple[NoticeChannel, ...] = ()
    electronic_consent: bool = False


@event("PetitionReceived", 1)
class PetitionReceivedV1(_PetitionReceived):
    """A petition reached the agency (v1: before receipt and case numbers; upcast to v2 with both null)."""


# The agency's own receipt number (접수번호) as its system writes it: letters, digits, Hangul and a few
# separators, at most 40 characters; it is printed in every notice, so nothing else gets through.
RECEIPT_NUMBER_PATTERN = r"^[0-9A-Za-z가-힣][0-9A-Za-z가-힣._:/()-]{0,39}$"
# A case number intake assigns: municipality, year of receipt (KST) and a sequence, e.g. dangjin-2026-000123.
CASE_NUMBER_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}-[0-9]{4}-[0-9]{6,9}$"


@event("PetitionReceived", 2)
class PetitionReceived(_PetitionReceived):
    """A petition reached the agency.

    Visits, phone calls, post and fax are received (접수) on arrival and the
    statutory clock starts at occurred_at. Internet and API petitions arrive
    first and are formally received later (ReceiptRecorded, within 8 working
    hours: Decree 6-7); their clock starts at that receipt.

    v2 names the case for people: ``receipt_number``, the agency's own 접수번호 when its system gave one,
    and ``case_number``, the short unique number intake assigns (municipality, year, sequence). Notices
    call the case by the first of the two that exists (``CaseState.reference``).
    """

    receipt_number: str | None = Field(default=None, max_length=40, pattern=RECEIPT_NUMBER_PATTERN,
                                       description="the agency's receipt number (접수번호), as its system gave it")
    case_number: str | None = Field(default=None, max_length=80, pattern=CASE_NUMBER_PATTERN,
                                    description="assigned by intake: <municipality>-<year of receipt, KST>-<sequence>")


@upcaster("PetitionReceived", 1)
def _petition_received_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """A case filed before numbers existed has neither: its notices keep calling it by its case id."""
    return {**payload, "receipt_number": None, "case_number": None}


@event("ReceiptRecorded", 1)
class ReceiptRecorded(Payload):
    """An electronic petition was formally received (접수); its statutory clock starts now."""

    receipt_number: str | None = Field(default=None, max_length=64)


@event("OfficialAssigned", 1)
class OfficialAssigned(Payload):
    """The petition was assigned to a department and official, optionally with a guardian official (후견인)."""

    official: Official
    guardian: Official | None = None


@event("PetitionTransferred", 1)
class PetitionTransferred(Payload):
    """Transferred (이송) within the agency or to another agency (Decree 13)."""

    scope: Literal["within_agency", "other_agency"]
    to_department: str | None = Field(default=None, max_length=100)
    to_agency_id: LooseId | None = None
    reason: str = Text
    misrouted: bool = Field(default=False, description="misrouted inside the agency: 3 working hours (Decree 13)")

    @model_validator(mode="after")
    def _target(self) -> "PetitionTransferred":
        if self.scope == "within_agency" and not self.to_department:
            raise ValueError("to_department: required for a transfer within the agency")
        if self.scope == "within_agency" and self.to_agency_id:
            raise ValueError("to_agency_id: a transfer within the agency names no other agency")
        if self.scope == "other_agency" and not self.to_agency_id:
            raise ValueError("to_agency_id: required for a transfer to another agency")
        return self


@event("SupplementRequested", 1)
class SupplementRequested(Payload):
    """Missing material was requested (보완 요청, Act 22): the clock pauses."""

    items: str = Text
    respond_by: AwareDatetime | None = None


@event("SupplementReceived", 1)
class SupplementReceived(Payload):
    """The requested supplement arrived: the clock resumes."""

    note: str = Field(default="", max_length=4000)


@event("FieldInvestigationStarted", 1)
class FieldInvestigationStarted(Payload):
    """A field investigation (현장조사) of a grievance began: not counted (Decree 17)."""

    note: str = Field(default="", max_length=4000)


@event("FieldInvestigationEnded", 1)
class FieldInvestigationEnded(Payload):
    note: str = Field(default="", max_length=4000)


@event("ProcessingExtended", 1)
class ProcessingExtended(Payload):
    """The processing period was extended (Decree 21)."""

    period: str = Field(pattern=r"^[0-9]+[hd]$", max_length=6,
                        description="the extension, Nh or Nd, no longer than the original period")
    reason: str = Text
    expected_completion: AwareDatetime
    petitioner_consent: bool = False

    @field_validator("period")
    @classmethod
    def _a_period(cls, value: str) -> str:
        Period.parse(value)  # a ValueError (0d) is a validation error naming the field, not a crash later
        return value

    def parsed_period(self) -> Period:
        return Period.parse(self.period)


@event("InterimNoticeRecorded", 1)
class InterimNoticeRecorded(Payload):
    """An interim notice (중간통지) with progress and the expected date was given (Decree 23)."""

    progress: str = Text
    expected_completion: AwareDatetime


class Outcome(str, Enum):
    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly_accepted"
    REFUSED = "refused"
    TRANSFERRED = "transferred"


@event("PetitionResolved", 1)
class PetitionResolved(Payload):
    """A result was reached, with a plain explanation (D2); a refusal states reasons and remedies (Act 27)."""

    outcome: Outcome
    explanation: str = Text
    refusal_reasons: str | None = Field(default=None, max_length=4000)
    remedies: str | None = Field(default=None, max_length=4000, description="how to object or appeal")

    @model_validator(mode="after")
    def _refusal(self) -> "PetitionResolved":
        if self.outcome in (Outcome.REFUSED, Outcome.PARTLY_ACCEPTED) and not (self.refusal_reasons and self.remedies):
            raise ValueError("refusal_reasons: a refusal must state its reasons and the remedies (Act 27; Decree 29)")
        return self


@event("PetitionClosed", 1)
class PetitionClosed(Payload):
    note: str = Field(default="", max_length=4000)


@event("ObjectionFiled", 1)
class ObjectionFiled(Payload):
    """The applicant objected to the result (이의신청, Act 35): the case reopens for review."""

    reason: str = Text


@event("ResultEvaluated", 1)
class ResultEvaluated(Payload):
    """The applicant scored one result (D12)."""

    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


@event("CallbackPromised", 1)
class CallbackPromised(Payload):
    """The official was absent; a callback was promised (Yeonje-gu Y1)."""

    callback_id: Id
    requested_at: AwareDatetime | None = Field(default=None, description="the time the citizen chose, if any")


@event("CallbackMade", 1)
class CallbackMade(Payload):
    callback_id: Id


class OpinionClass(str, Enum):
    SIMPLE = "simple"
    ORDINARY = "ordinary"
    COMPLEX = "complex"


@event("OpinionRecorded", 1)
class OpinionRecorded(Payload):
    """An opinion, complaint or suggestion about the service (Yeonje-gu Y2), with its answer class."""

    opinion_id: Id
    kind: Literal["opinion", "complaint", "suggestion"]
    opinion_class: OpinionClass


@event("OpinionAcknowledged", 1)
class OpinionAcknowledged(Payload):
    """The citizen was told the expected answer date."""

    opinion_id: Id
    expected_answer_at: AwareDatetime


@event("OpinionAnswered", 1)
class OpinionAnswered(Payload):
    opinion_id: Id
    answer: str = Text


@event("RepeatVisitRecorded", 1)
class RepeatVisitRecorded(Payload):
    """The applicant had to come again because of an official's fault (재방문; Y3, D10)."""

    official_id: Id
    cause: str = Text


@event("AdministrativeErrorConfirmed", 1)
class AdministrativeErrorConfirmed(Payload):
    """An administrative error (행정착오) in any channel was confirmed (Y3)."""

    description: str = Text
    official_id: LooseId | None = None


class _Finding(Payload):
    official_id: Id
    finding: str = Text


@event("DiscourtesyConfirmed", 1)
class DiscourtesyConfirmed(_Finding):
    """Discourtesy (불친절) by an official was confirmed (D9, D11, Y4)."""


@event("InsincereHandlingConfirmed", 1)
class InsincereHandlingConfirmed(_Finding):
    """Insincere handling (불성실) was confirmed after a complaint (D10)."""


FINDING_EVENTS = {
    "repeat_visit": "RepeatVisitRecorded",
    "administrative_error": "AdministrativeErrorConfirmed",
    "discourtesy": "DiscourtesyConfirmed",
    "insincere_handling": "InsincereHandlingConfirmed",
}


@event("FindingWithdrawn", 1)
class FindingWithdrawn(Payload):
    """A confirmed fault was withdrawn (on review or objection): its remedies are cancelled, never deleted."""

    finding: Literal["repeat_visit", "administrative_error", "discourtesy", "insincere_handling"]
    reason: str = Text


@event("PersonalDataErased", 1)
class PersonalDataErased(Payload):
    """The applicant's personal data was erased (개인정보 보호법 Art. 21: destroyed when its purpose ends):
    the case's data key was destroyed, so every sealed copy, on the log included, is unreadable. The case's
    deadlines, breaches and remedies stay: they never needed who the applicant was."""

    reason: str = Field(min_length=1, max_length=200, description="why: a request, or the retention rule applied")


DISCLOSURE_STEPS = ("submit", "receive", "route", "decide", "notify_decision", "applicant_confirms", "fee", "disclose")


@event("DisclosureStepRecorded", 1)
class DisclosureStepRecorded(Payload):
    """One of the eight steps of an information-disclosure request (Dangjin D7)."""

    step: Literal["route", "decide", "notify_decision", "applicant_confirms", "fee", "disclose"]
    decision: Literal["disclose", "partial", "refuse"] | None = None
    note: str = Field(default="", max_length=4000)


