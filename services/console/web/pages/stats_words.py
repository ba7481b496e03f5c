"""What the statistics pages (처리 현황, 만족도, 연간 보고서) share: Korean names of the codes they count,
numbers as a person reads them, the period chosen in the page's form, and the data of a chart.

The names are GLOSSARY.md's Korean side, as the audit report words them (``services.audit.labels``, which
the console may not import: services are independent). A charter target missed is a warning, never a
breach.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.console.stats.common import year_bounds
from shared.bounds import OutOfBounds
from shared.instants import to_kst
from shared.working_time import WorkingCalendar

PETITION_TYPES = {
    "question_statute": "질의민원(법령)", "question_system": "질의민원(제도·절차)", "suggestion": "건의민원",
    "grievance": "고충민원", "other": "기타민원", "statutory": "법정민원", "pre_review": "사전심사청구",
    "disclosure": "정보공개청구", "objection": "이의신청",
}
OBLIGATIONS = {  # shared.events.sla.ObligationKind
    "statutory_deadline": "법정 처리기한", "charter_target": "헌장 목표기한", "formal_receipt": "전자민원 정식 접수 기한",
    "interim_notice": "중간통지", "extension_notice": "연장통지", "transfer": "이송 기한", "callback": "회신 약속",
    "opinion_acknowledgement": "의견 답변예정일 안내", "opinion_answer": "의견 답변",
}
CAUSES = {  # shared.events.compensation.Cause
    "statutory_deadline_missed": "법정 처리기한 위반", "repeat_visit": "재방문", "administrative_error": "행정착오",
    "insincere_handling": "불성실 처리", "discourtesy": "불친절",
}
PUBLICATION = {  # services.console.stats.reports.PublicationStatus: (words, KRDS badge colour)
    "not_promised": ("공표 약속 없음", "gray"), "survey_running": ("조사 기간 중", "information"),
    "open": ("공표 기한 진행 중", "warning"), "published_on_time": ("기한 내 공표", "success"),
    "published_late": ("기한 후 공표", "warning"), "breached": ("공표 기한 위반", "danger"),
}
UNASSIGNED = "(미배정)"
MONTHS = tuple(range(1, 13))


def ko(table: dict[str, str], code: str | None) -> str:
    """The Korean name of a code; the code itself when the table has none; 미배정 for none."""
    return UNASSIGNED if code is None else table.get(code, code)


def department(name: str | None) -> str:
    return name or UNASSIGNED


# -- numbers as a person reads them ------------------------------------------------------------------------
def count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def percent_value(rate: float | None) -> float | None:
    """A rate as the number a chart draws (percent, one decimal)."""
    return None if rate is None else round(rate * 100, 1)


def working_days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}일"


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}점"


def won(amount: int) -> str:
    return f"{amount:,}원"


def signed(value: float | None, fmt: str = "{:+.2f}", unit: str = "") -> str:
    return "-" if value is None else fmt.format(value) + unit


def month_words(month: str) -> str:
    """2026-11 -> 2026년 11월."""
    year, _, m = month.partition("-")
    return f"{year}년 {int(m)}월" if m else month


def date_words(at: datetime | None) -> str:
    """A date in Korean time: 2027년 1월 31일."""
    if at is None:
        return "-"
    local = to_kst(at)
    return f"{local.year}년 {local.month}월 {local.day}일"


def instant_words(at: datetime | None) -> str:
    if at is None:
        return "-"
    local = to_kst(at)
    return f"{local.year}년 {local.month}월 {local.day}일 {local:%H:%M}"


def last_day_words(end: datetime) -> str:
    """The last day of a period that ends (exclusive) at ``end``: the period 2026 ends 2026년 12월 31일."""
    return date_words(end - timedelta(microseconds=1))


def until_words(due: datetime | None) -> str:
    """A due instant as the last day it leaves: due at 2027-01-31 00:00 -> 2027년 1월 30일까지."""
    return "-" if due is None else last_day_words(due) + "까지"


# What the templates call to write numbers and dates (passed in each page's context).
FORMATS = {"count": count, "pct": percent, "days": working_days, "score": score, "won": won, "signed": signed,
           "month_words": month_words, "date": date_words, "instant": instant_words, "until": until_words}


# -- the period of the page's form -------------------------------------------------------------------------
@dataclass(frozen=True)
class Chosen:
    """The year and month the page shows (month None: the whole year) and the choices of its form."""

    year: int
    month: int | None
    years: tuple[int, ...]

    @property
    def words(self) -> str:
        return f"{self.year}년" + (f" {self.month}월" if self.month else " 전체")

    @property
    def query(self) -> str:
        return f"year={self.year}" + (f"&month={self.month}" if self.month else "")

    @property
    def suffix(self) -> str:
        return f"{self.year}" + (f"-{self.month:02d}" if self.month else "")


def chosen_period(calendar: WorkingCalendar, now: datetime, year: int | None, month: int | None) -> Chosen:
    """The period asked for (default: this year), within the years the working calendar counts (otherwise
    ``OutOfBounds`` naming the field: a browser gets the Korean 400 page, a script 422 problem+json, as the
    statistics API answers; the statistics count working time). The form offers the last ten years up to
    this one."""
    this_year = to_kst(now).year
    chosen = this_year if year is None else year
    year_bounds(calendar, chosen)
    if month is not None and not 1 <= month <= 12:
        raise OutOfBounds("month", "must be 1-12")
    top = min(max(this_year, chosen), calendar.last_year)
    years = tuple(y for y in range(top, top - 10, -1) if y >= calendar.first_year)
    return Chosen(chosen, month, years if chosen in years else (*years, chosen))


# -- charts --------------------------------------------------------------------------------------------------
# KRDS colours (primary-50, a warning orange, success-60, gray-70, danger-50) that keep a 3:1 contrast
# against white and apart from each other in lightness as well as hue; lines also differ in dash and point.
COLOURS = ("#256ef4", "#c25400", "#1f7a32", "#464c53", "#d63d4a")


@dataclass
class Chart:
    """One chart.js chart: ``kind`` bar or line; each dataset a label and one number per label (None: none).
    ``unit`` is shown on the axis and the tooltips; the page's table beside it holds the same numbers."""

    id: str
    kind: str
    labels: list[str]
    unit: str
    datasets: list[dict[str, Any]] = field(default_factory=list)
    horizontal: bool = False
    max: float | None = None

    def add(self, label: str, data: list[float | int | None]) -> Chart:
        colour = COLOURS[len(self.datasets) % len(COLOURS)]
        self.datasets.append({"label": label, "data": data, "color": colour,
                              "dashed": self.kind == "line" and len(self.datasets) % 2 == 1})
        return self

    @property
    def empty(self) -> bool:
        return not self.labels or not any(v for d in self.datasets for v in d["data"])

    def as_json(self) -> dict[str, Any]:
        return {"type": self.kind, "labels": self.labels, "unit": self.unit, "datasets": self.datasets,
                "horizontal": self.horizontal, "max": self.max}


def charts_json(*charts: Chart) -> dict[str, Any]:
    """What the page's ``<script type="application/json" id="cw-charts">`` holds (static/stats-charts.js)."""
    return {c.id: c.as_json() for c in charts if not c.empty}
