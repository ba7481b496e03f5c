"""Processing periods (처리기간) and how the law counts them.

Act 19: a period of 5 days or less is counted in working hours (one day = 8
working hours); a period of 6 days or more is counted in working days. A period
given in hours is always counted in working time.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from shared.words import a
from shared.working_time import HOUR, WORKING_DAY_SECONDS

Unit = Literal["h", "d"]
_PERIOD = re.compile(r"^\s*([0-9]+)\s*([a-z]*)\s*$", re.IGNORECASE | re.ASCII)  # "３d" is not a period
_FORM = "a whole number of working hours or days, Nh or Nd (e.g. 3h, 7d)"
LONGEST_TIME_COUNTED_DAYS = 5  # Act 19-1; 6 days or more are counted in days (Act 19-2)


class CountingMode(str, Enum):
    WORKING_TIME = "working_time"  # Act 19-1
    WORKING_DAYS = "working_days"  # Act 19-2


@dataclass(frozen=True, order=True)
class Period:
    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        # Messages name no field: the caller knows which input this is (a CLI option, a query
        # parameter, a charter entry) and prefixes its own name.
        if self.unit not in ("h", "d"):
            raise ValueError(f"unknown unit {self.unit!r}: the law counts working hours (h) or days (d)")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount <= 0:
            raise ValueError(f"must be at least 1 working hour (1h) or 1 day (1d), not {self.amount!r}")

    @classmethod
    def parse(cls, text: str) -> "Period":
        """``Nh`` or ``Nd``; a ValueError saying what is wrong (without a field name) otherwise."""
        shown = text if len(text) <= 24 else f"{text[:20]}..."
        match = _PERIOD.match(text)
        if not match:
            if text.strip().startswith("-"):
                raise ValueError(f"{shown!r} is negative: a period is at least 1 working hour (1h) or 1 day (1d)")
            raise ValueError(f"{shown!r} is not a period: write {_FORM}")
        digits, unit = match.group(1), match.group(2).lower()
        if unit not in ("h", "d"):
            what = f"unknown unit {unit!r}" if unit else "no unit"
            raise ValueError(f"{shown!r} has {what}: the law counts working hours (h) or days (d), e.g. 3h or 7d")
        if len(digits.lstrip("0")) > 9:  # past any calendar (and int() refuses beyond 4300 digits)
            raise ValueError(f"{shown!r} is longer than any working calendar can count")
        amount = int(digits)
        if amount == 0:
            raise ValueError(f"{shown!r} is zero: a period is at least 1 working hour (1h) or 1 day (1d)")
        return cls(amount, unit)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def mode(self) -> CountingMode:
        if self.unit == "h" or self.amount <= LONGEST_TIME_COUNTED_DAYS:
            return CountingMode.WORKING_TIME
        return CountingMode.WORKING_DAYS

    @property
    def working_seconds(self) -> int:
        """Length in working time: what a time-counted period adds, and the yardstick for comparing periods."""
        return self.amount * (HOUR if self.unit == "h" else WORKING_DAY_SECONDS)

    def scaled(self, fraction: float, rounding: Literal["floor", "ceil", "nearest"]) -> "Period":
        """A fraction of this period in its own unit, rounded as stated, never below one unit.

        Used for charter targets (Dangjin: 80% of the statutory period). The
        result is a period like any other, counted by Act 19 on its own length:
        80% of 7 days is 5 days after floor rounding, and so counted in hours.
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], not {fraction}")
        exact = self.amount * fraction
        rounded = {"floor": math.floor, "ceil": math.ceil, "nearest": lambda x: math.floor(x + 0.5)}[rounding](
            round(exact, 9)  # 0.8 * 10 is 8.000000000000002 in binary floating point
        )
        return Period(max(1, int(rounded)), self.unit)


IMMEDIATELY = Period(3, "h")  # Decree 16, 19: "immediately" means within 3 working hours


class PetitionType(str, Enum):
    """Petition types (민원의 종류) with the Decree article fixing their period."""

    QUESTION_STATUTE = "question_statute"  # 질의민원 about a statute: 14 days (Decree 14)
    QUESTION_SYSTEM = "question_system"  # 질의민원 about a system or procedure: 7 days (Decree 14)
    SUGGESTION = "suggestion"  # 건의민원: 14 days (Decree 15)
    GRIEVANCE = "grievance"  # 고충민원: 7 days (Decree 17)
    OTHER = "other"  # 기타민원: immediately = 3 working hours (Decree 16, 19)
    STATUTORY = "statutory"  # 법정민원: per kind, from the agency's 민원처리기준표 (Act 17, 36)
    PRE_REVIEW = "pre_review"  # 사전심사청구: per kind, from the same table (Act 30)
    DISCLOSURE = "disclosure"  # 정보공개청구: 10 days, +10 once with notice (정보공개법 11)
    OBJECTION = "objection"  # 이의신청: 10 days, +10 (Act 35)


FIXED_PERIODS: dict[PetitionType, Period] = {
    PetitionType.QUESTION_STATUTE: Period(14, "d"),
    PetitionType.QUESTION_SYSTEM: Period(7, "d"),
    PetitionType.SUGGESTION: Period(14, "d"),
    PetitionType.GRIEVANCE: Period(7, "d"),
    PetitionType.OTHER: IMMEDIATELY,
    PetitionType.DISCLOSURE: Period(10, "d"),
    PetitionType.OBJECTION: Period(10, "d"),
}
TABLE_PERIOD_TYPES = frozenset({PetitionType.STATUTORY, PetitionType.PRE_REVIEW})


class UnknownPetitionKind(ValueError):
    pass


def statutory_period(
    petition_type: PetitionType, kind: str | None = None, table: dict[str, Period] | None = None
) -> Period:
    """The processing period the law gives a petition.

    Statutory petitions take their period from the agency's published table
    (a charter's ``statutory_periods``), keyed by petition kind.
    """
    if petition_type in TABLE_PERIOD_TYPES:
        if not kind:
            raise UnknownPetitionKind(f"petition_kind: {a(petition_type.value)} petition needs its kind")
        if not table or kind not in table:
            raise UnknownPetitionKind(
                f"petition_kind: {kind!r} is not in the agency's table of processing periods"
            )
        return table[kind]
    return FIXED_PERIODS[petition_type]
