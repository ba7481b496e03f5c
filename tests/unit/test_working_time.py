"""The working-time calendar: working days, working seconds, and where a count ends."""
from datetime import date, datetime

import pytest

from shared.holiday_source import HolidayOverrides, korean_calendar
from shared.instants import KST
from shared.working_time import CalendarRangeError, WorkingCalendar


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


@pytest.mark.parametrize("day", [
    date(2026, 1, 1),  # New Year
    date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18),  # Seollal
    date(2026, 3, 2),  # substitute for 3/1 on a Sunday
    date(2026, 5, 1),  # Labour day, a public holiday from 2026
    date(2026, 5, 25),  # substitute for Buddha's birthday
    date(2026, 6, 3),  # 2026 local election day
    date(2026, 7, 17),  # Constitution day, a holiday again from 2026
    date(2026, 9, 24), date(2026, 9, 25),  # Chuseok
    date(2026, 10, 5),  # substitute for 10/3 on a Saturday
    date(2026, 12, 25),
])
def test_public_holidays_are_not_working_days(calendar: WorkingCalendar, day: date) -> None:
    assert not calendar.is_working_day(day)


def test_weekends_are_not_and_weekdays_are_working_days(calendar: WorkingCalendar) -> None:
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # Sunday
    assert calendar.is_working_day(date(2026, 11, 25))


def test_working_seconds_skip_lunch_and_nights(calendar: WorkingCalendar) -> None:
    assert calendar.working_seconds_between(kst(2026, 11, 25, 9), kst(2026, 11, 25, 18)) == 8 * 3600
    assert calendar.working_seconds_between(kst(2026, 11, 25, 11), kst(2026, 11, 25, 14)) == 2 * 3600
    assert calendar.working_seconds_between(kst(2026, 11, 25, 12, 10), kst(2026, 11, 25, 12, 50)) == 0
    assert calendar.working_seconds_between(kst(2026, 11, 25, 17), kst(2026, 11, 26, 10)) == 2 * 3600
    assert calendar.working_seconds_between(kst(2026, 11, 27, 17), kst(2026, 11, 30, 10)) == 2 * 3600


def test_a_count_ending_at_noon_or_evening_ends_there(calendar: WorkingCalendar) -> None:
    start = calendar.working_seconds_until(kst(2026, 11, 25, 9))
    assert calendar.instant_at(start + 3 * 3600) == kst(2026, 11, 25, 12)
    assert calendar.instant_at(start + 8 * 3600) == kst(2026, 11, 25, 18)
    assert calendar.instant_at(start + 3 * 3600 + 1) == kst(2026, 11, 25, 13, 0, 1)


def test_instants_with_other_offsets_are_converted(calendar: WorkingCalendar) -> None:
    utc = datetime.fromisoformat("2026-11-25T01:00:00+00:00")  # 10:00 KST
    assert calendar.working_seconds_between(utc, kst(2026, 11, 25, 11)) == 3600


def test_overrides_add_and_remove_temporary_holidays() -> None:
    overrides = HolidayOverrides(version="2026-10", add=frozenset({date(2026, 10, 2)}),
                                 remove=frozenset({date(2026, 5, 1)}))
    cal = korean_calendar(overrides, 2026, 2026)
    assert not cal.is_working_day(date(2026, 10, 2))
    assert cal.is_working_day(date(2026, 5, 1))
    assert "overrides-2026-10" in cal.version
    assert cal.version != korean_calendar(first_year=2026, last_year=2026).version


def test_overrides_reject_bad_dates_with_their_place() -> None:
    with pytest.raises(ValueError, match=r"add\[1\]"):
        HolidayOverrides.from_mapping({"version": "x", "add": ["2026-10-02", "not a date"]})
    with pytest.raises(ValueError, match="version"):
        HolidayOverrides.from_mapping({"add": []})


def test_version_names_the_holiday_set() -> None:
    a = WorkingCalendar([date(2026, 1, 1)], 2026, 2026, source="t")
    b = WorkingCalendar([date(2026, 1, 2)], 2026, 2026, source="t")
    assert a.version != b.version


def test_outside_the_range_is_an_error() -> None:
    cal = WorkingCalendar([], 2026, 2026, source="t")
    with pytest.raises(CalendarRangeError):
        cal.working_seconds_until(kst(2027, 1, 5, 10))
