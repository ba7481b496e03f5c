"""The charter data model: what a charter file may say, validated.

One charter version is one file. A promise (서비스 이행기준) is one enforceable
standard; its ``id`` is the one CHARTERS.md uses (Y1, D4, ...), so breaches and
vouchers can name the promise they come from.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from shared.periods import Period, PetitionType


def _period(value: object) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError("a period is written Nh (working hours) or Nd (days), e.g. 3h or 7d")
    return Period.parse(value)


PeriodField = Annotated[Period, BeforeValidator(_period), PlainSerializer(str, return_type=str)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Promise(_Strict):
    id: str = Field(min_length=1, max_length=16)
    text: str = Field(default="", description="the promise in the charter's own words")


class ProcessingTarget(_Promise):
    """A target shorter than the statutory period (Dangjin D4: 20% faster).

    Missing it is an internal warning, never a citizen-facing breach.
    ``rounding`` says how the scaled period is rounded in its own unit; a
    target never drops below one unit.
    """

    kind: Literal["processing_target"]
    fraction: float = Field(gt=0, le=1)
    rounding: Literal["floor", "ceil", "nearest"]
    applies_to: list[PetitionType] | Literal["all"] = "all"


class Callback(_Promise):
    """An absent official calls back within ``within`` or at the citizen's chosen time (Yeonje-gu Y1)."""

    kind: Literal["callback"]
    within: PeriodField
    citizen_may_choose_time: bool = True


class OpinionResponse(_Promise):
    """Opinions acknowledged with an expected date within ``acknowledge_within``, answered by class (Y2)."""

    kind: Literal["opinion_response"]
    acknowledge_within: PeriodField
    answer_within: dict[str, PeriodField] = Field(min_length=1, description="opinion class -> period")


class InterimNotice(_Promise):
    """Interim status and remaining days when processing runs long (Decree 23; Dangjin D5)."""

    kind: Literal["interim_notice"]
    every_days: int = Field(gt=0, le=365)
    on_extension: bool = True
    channels: list[Literal["phone", "sms", "email", "inbox", "post"]] = Field(default_factory=list)


class ResultNotice(_Promise):
    """Completion notified over these channels (D3), with a plain explanation (D2)."""

    kind: Literal["result_notice"]
    channels: list[Literal["sms", "email", "inbox", "post"]] = Field(min_length=1)
    explanation_required: bool = True


class DisclosureDecision(_Promise):
    """Information-disclosure decision within ``within`` of the request (D7; 정보공개법 11)."""

    kind: Literal["disclosure_decision"]
    within: PeriodField
    extension: PeriodField | None = None
    steps: list[str] = Field(default_factory=list)


class SatisfactionSurvey(_Promise):
    """Yearly satisfaction survey, published within ``publish_within_days`` (Y5, D13)."""

    kind: Literal["satisfaction_survey"]
    per_year: int = Field(ge=1)
    publish_within_days: int = Field(gt=0)


class RightsNotice(_Promise):
    """The receipt notice tells the applicant their rights (Uijeongbu 민원미란다)."""

    kind: Literal["rights_notice"]


class GuardianOfficial(_Promise):
    """An official accompanies each applicant (Uijeongbu 민원인 후견인제)."""

    kind: Literal["guardian_official"]


Cause = Literal[
    "statutory_deadline_missed",
    "repeat_visit",
    "administrative_error",
    "insincere_handling",
    "discourtesy",
    "second_supplement_request",
    "wrong_charge",
]


class Escalation(_Strict):
    """Amounts that grow with lateness (Namhae-gun), capped."""

    same_day_first_after_hours: int | None = Field(default=None, gt=0)
    same_day_first_amount: int | None = Field(default=None, gt=0)
    same_day_per_extra_hour: int | None = Field(default=None, ge=0)
    first_day_amount: int | None = Field(default=None, gt=0)
    per_extra_day: int | None = Field(default=None, ge=0)
    cap: int = Field(gt=0)


class Voucher(_Strict):
    amount_won: int = Field(gt=0, description="integer won; with escalation, the amount before lateness is known")
    voucher_kind: Literal["gift_certificate", "culture_voucher", "bank_transfer", "cash"] = "gift_certificate"
    escalation: Escalation | None = None
    approval: Literal["none", "department_head"] = "none"
    payment: Literal["on_issue", "monthly_batch"] = "on_issue"
    minimum_days_late: int = Field(default=0, ge=0, description="Busan Gangseo-gu: one day or more late")


class Remedy(_Promise):
    """What the citizen gets when a promise is broken (시정 및 보상조치: remedy)."""

    kind: Literal["remedy"]
    causes: list[Cause] = Field(min_length=1)
    apology: bool = True
    voucher: Voucher | None = None
    retraining: bool = False
    personnel_referral_at_strike: int | None = Field(default=None, ge=1, description="D11: 3 or more -> personnel action")
    strike_window_days: int | None = Field(default=None, gt=0, description="None: strikes accumulate without a window")
    requires_confirmation: bool = True


Promise = Annotated[
    Union[
        ProcessingTarget,
        Callback,
        OpinionResponse,
        InterimNotice,
        ResultNotice,
        DisclosureDecision,
        SatisfactionSurvey,
        RightsNotice,
        GuardianOfficial,
        Remedy,
    ],
    Field(discriminator="kind"),
]


class Charter(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    municipality: str = Field(min_length=1, description="the municipality's Korean name")
    municipality_en: str = Field(min_length=1)
    version: str = Field(min_length=1, max_length=32)
    effective_from: date = Field(description="in force from 00:00 KST of this date")
    source: str = Field(min_length=1, description="where the promises were read")
    statutory_periods: dict[str, PeriodField] = Field(
        default_factory=dict, description="the agency's 민원처리기준표: statutory petition kind -> period"
    )
    promises: list[Promise] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_promise_ids(self) -> "Charter":
        seen: set[str] = set()
        for p in self.promises:
            if p.id in seen:
                raise ValueError(f"promise id {p.id!r} is used twice")
            seen.add(p.id)
        return self

    def promises_of(self, kind: type[_Promise]) -> list:
        return [p for p in self.promises if isinstance(p, kind)]

    def promise(self, promise_id: str) -> _Promise:
        for p in self.promises:
            if p.id == promise_id:
                return p
        raise KeyError(promise_id)

    def processing_target(self, statutory: Period, petition_type: PetitionType) -> tuple[ProcessingTarget, Period] | None:
        """The charter's shorter target for this petition, if it promises one."""
        for p in self.promises_of(ProcessingTarget):
            if p.applies_to == "all" or petition_type in p.applies_to:
                return p, statutory.scaled(p.fraction, p.rounding)
        return None

    def remedies_for(self, cause: str) -> list[Remedy]:
        return [p for p in self.promises_of(Remedy) if cause in p.causes]
