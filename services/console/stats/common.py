"""What the statistics share: periods in Korean time, working time, and the case states."""
from __future__ import annotations

import calendar as months
import csv
import io
import math
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from shared.bounds import OutOfBounds
from shared.instants import KST, to_kst
from shared.working_time import WORKING_DAY_SECONDS, CalendarRangeError, WorkingCalendar

OPEN = ("filed", "received", "reopened")  # shared.petition_case: the clock runs (or receipt is awaited)
COMPLETED = ("resolved", "closed")
T = TypeVar("T")


def period(year: int, month: int | None = None) -> tuple[datetime, datetime]:
    """[start, end) of a calendar year or month, in Korean time."""
    if month is None:
        return datetime(year, 1, 1, tzinfo=KST), datetime(year + 1, 1, 1, tzinfo=KST)
    end = datetime(year + 1, 1, 1, tzinfo=KST) if month == 12 else datetime(year, month + 1, 1, tzinfo=KST)
    return datetime(year, month, 1, tzinfo=KST), end


def month_of(at: datetime) -> str:
    return to_kst(at).strftime("%Y-%m")


def month_before(now: datetime) -> datetime:
    """The same instant a calendar month earlier (the 31st becomes the previous month's last day)."""
    local = to_kst(now)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return local.replace(year=year, month=month, day=min(local.day, months.monthrange(year, month)[1]))


def within(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def working_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> int | None:
    """Working seconds from ``start`` to ``end`` (negative when ``end`` is earlier); None outside the calendar."""
    try:
        return calendar.working_seconds_between(start, end)
    except CalendarRangeError:
        return None


def days(working_seconds: int | float) -> float:
    """Working time in working days (Act 19: one day is 8 working hours)."""
    return working_seconds / WORKING_DAY_SECONDS


def days_started(working_seconds: int) -> int:
    """Working days begun: how compensation counts lateness (shared.events.compensation.Lateness.days_late)."""
    return math.ceil(working_seconds / WORKING_DAY_SECONDS) if working_seconds > 0 else 0


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def view(cls: type[T], row: Any, **extra: Any) -> T:
    """A dataclass of the row's columns of the same names (the pages get values, not ORM objects)."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{n: getattr(row, n) for n in names if n not in extra}, **extra)


def year_bounds(calendar: WorkingCalendar, year: int) -> None:
    """A year the working calendar counts: statistics outside it could not be computed."""
    if not calendar.first_year <= year <= calendar.last_year:
        raise OutOfBounds("year", f"must be within the working calendar ({calendar.first_year}-{calendar.last_year})")


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """CSV in UTF-8 with a BOM (Korean Excel opens it as such), CRLF lines. A text cell that a spreadsheet
    would run as a formula (a citizen's title may begin with "=") is prefixed with a quote (OWASP)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else
                    "" if v is None else v for v in row])
    return "\ufeff" + out.getvalue()
