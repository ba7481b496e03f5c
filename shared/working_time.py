"""The working-time calendar (근무시간 / 근무일: working time / working day).

Working time is 09:00-12:00 and 13:00-18:00 (Decree 8-3: desks open 09:00-18:00
with the lunch hour) on working days: days that are not a Saturday, a Sunday or
a public holiday (관공서의 공휴일에 관한 규정: public holiday, including
substitute holidays 대체공휴일 and temporary holidays 임시공휴일).

The calendar precomputes, for every day in its range, how many working days
come before it. The working time elapsed between any two instants is then a
subtraction, and the instant at which a count is used up is a division plus
one list lookup: O(1) per deadline, which is what lets the SLA monitor hold a
million obligations.

The calendar is data: built from a set of holiday dates (see
``shared.holiday_source``), and identified by a version that hashes those
dates, so a decision stamped with a calendar version can be recomputed with the
very same holidays years later.
"""
from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from shared.instants import KST, KST_OFFSET_SECONDS, require_aware

HOUR = 3600
MORNING_START = 9 * HOUR
MORNING_END = 12 * HOUR
AFTERNOON_START = 13 * HOUR
AFTERNOON_END = 18 * HOUR
MORNING_SECONDS = MORNING_END - MORNING_START
WORKING_DAY_SECONDS = MORNING_SECONDS + (AFTERNOON_END - AFTERNOON_START)  # 8 h (Act 19: one day = 8 working hours)
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class CalendarRangeError(ValueError):
    """An instant outside the years the calendar was built for, or a count that runs past them.

    Its message states dates and years, never the calendar's internal ranks or epoch seconds: it
    reaches people (the CLI, problem+json, dead letters).
    """


def _epoch_text(epoch: int) -> str:
    """An epoch second as a KST instant, for messages; the raw number only if no date can show it."""
    try:
        return datetime.fromtimestamp(epoch, KST).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"an instant beyond the years any calendar covers (Unix time {epoch})"


def _working_seconds_into_day(second_of_day: int) -> int:
    """Working seconds elapsed on a working day by a local clock time."""
    if second_of_day <= MORNING_START:
        return 0
    if second_of_day <= MORNING_END:
        return second_of_day - MORNING_START
    if second_of_day <= AFTERNOON_START:
        return MORNING_SECONDS
    if second_of_day <= AFTERNOON_END:
        return MORNING_SECONDS + second_of_day - AFTERNOON_START
    return WORKING_DAY_SECONDS


class WorkingCalendar:
    """Working days and working time over [first_year, last_year]."""

    def __init__(self, holidays: Iterable[date], first_year: int, last_year: int, source: str) -> None:
        if last_year < first_year:
            raise ValueError("last_year must not be before first_year")
        self.first_year = first_year
        self.last_year = last_year
        first = date(first_year, 1, 1)
        self._origin = first.toordinal()
        days = date(last_year, 12, 31).toordinal() - self._origin + 1
        self.holidays: frozenset[date] = frozenset(
            d for d in holidays if first_year <= d.year <= last_year
        )
        before = array("l", [0]) * (days + 1)
        working: array[int] = array("l")
        count = 0
        for i in range(days):
            before[i] = count
            d = date.fromordinal(self._origin + i)
            if d.weekday() < 5 and d not in self.holidays:
                working.append(i)
                count += 1
        before[days] = count
        self._weekday_holidays = sorted(d for d in self.holidays if d.weekday() < 5)
        # Epoch second of local midnight of each working day, by rank: turns a working-time
        # count back into an instant with one lookup and one addition.
        midnight0 = (self._origin - _UNIX_EPOCH_ORDINAL) * 86400 - KST_OFFSET_SECONDS
        self._midnight_by_rank = array("q", (midnight0 + i * 86400 for i in working))
        self._before = before
        self._working = working
        self._days = days
        digest = hashlib.sha256(
            ",".join(sorted(d.isoformat() for d in self.holidays)).encode()
        ).hexdigest()[:12]
        self.version = f"{source}@{first_year}-{last_year}#{digest}"

    # -- days -------------------------------------------------------------
    def _index(self, d: date) -> int:
        i = d.toordinal() - self._origin
        if not 0 <= i < self._days:
            raise CalendarRangeError(f"{d.isoformat()} is {self._outside}")
        return i

    def is_working_day(self, d: date) -> bool:
        i = self._index(d)
        return self._before[i + 1] != self._before[i]

    def working_days_before(self, d: date) -> int:
        """Rank of ``d`` among working days: how many working days precede it."""
        return self._before[self._index(d)]

    def working_day_at_rank(self, rank: int) -> date:
        if not 0 <= rank < len(self._working):
            raise self._count_outside(rank)
        return date.fromordinal(self._origin + self._working[rank])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start <= d < end."""
        return self._before[self._index(end)] - self._before[self._index(start)]

    def holidays_between(self, start: date, end: date) -> list[date]:
        """Public holidays on weekdays with start <= d <= end: the days a count skipped besides weekends."""
        lo = bisect_left(self._weekday_holidays, start)
        hi = bisect_right(self._weekday_holidays, end)
        return self._weekday_holidays[lo:hi]

    # -- working time -------------------------------------------------------
    def working_seconds_until(self, instant: datetime) -> int:
        """Working seconds from the calendar's origin to ``instant`` (sub-second parts dropped)."""
        try:
            return self.working_seconds_at_epoch(int(require_aware(instant).timestamp()))
        except CalendarRangeError:
            raise CalendarRangeError(f"{instant.isoformat()} is {self._outside}") from None

    def working_seconds_at_epoch(self, epoch: int) -> int:
        """As ``working_seconds_until``, for a Unix epoch second: the hot path of the SLA monitor."""
        day, second = divmod(epoch + KST_OFFSET_SECONDS, 86400)
        i = day + _UNIX_EPOCH_ORDINAL - self._origin
        if not 0 <= i < self._days:
            raise CalendarRangeError(f"{_epoch_text(epoch)} is {self._outside}")
        base = self._before[i]
        if self._before[i + 1] == base:
            return base * WORKING_DAY_SECONDS
        return base * WORKING_DAY_SECONDS + _working_seconds_into_day(second)

    def epoch_at(self, working_seconds: int) -> int:
        """The earliest epoch second by which ``working_seconds`` of working time have elapsed.

        A count used up exactly at 12:00 or 18:00 ends there, not after lunch
        or on the next morning (Act 19 counts the working time, nothing more).
        """
        rank, into = divmod(working_seconds, WORKING_DAY_SECONDS)
        if into == 0:
            if rank == 0:
                return self._midnight_at(0) + MORNING_START
            return self._midnight_at(rank - 1) + AFTERNOON_END
        if into <= MORNING_SECONDS:
            return self._midnight_at(rank) + MORNING_START + into
        return self._midnight_at(rank) + AFTERNOON_START + into - MORNING_SECONDS

    def instant_at(self, working_seconds: int) -> datetime:
        return datetime.fromtimestamp(self.epoch_at(working_seconds), KST)

    def end_of_day_epoch_at_rank(self, rank: int) -> int:
        """18:00 of the working day with this rank, as an epoch second."""
        return self._midnight_at(rank) + AFTERNOON_END

    def working_days_before_epoch(self, epoch: int) -> int:
        day = (epoch + KST_OFFSET_SECONDS) // 86400
        i = day + _UNIX_EPOCH_ORDINAL - self._origin
        if not 0 <= i < self._days:
            raise CalendarRangeError(f"{_epoch_text(epoch)} is {self._outside}")
        return self._before[i]

    def _midnight_at(self, rank: int) -> int:
        if not 0 <= rank < len(self._midnight_by_rank):
            raise self._count_outside(rank)
        return self._midnight_by_rank[rank]

    @property
    def _outside(self) -> str:
        return f"outside the working calendar, which covers the years {self.first_year}-{self.last_year}"

    def _count_outside(self, rank: int) -> CalendarRangeError:
        if rank < 0:
            return CalendarRangeError(f"the count runs before the working calendar's first year ({self.first_year})")
        return CalendarRangeError(f"the count runs past the working calendar's last year ({self.last_year})")

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        return self.working_seconds_until(end) - self.working_seconds_until(start)

    def end_of_working_day(self, d: date) -> datetime:
        return self._local(d.toordinal(), AFTERNOON_END)

    @staticmethod
    def _local(ordinal: int, second_of_day: int) -> datetime:
        d = date.fromordinal(ordinal)
        return datetime(d.year, d.month, d.day, tzinfo=KST) + timedelta(seconds=second_of_day)
