"""The unpaused shortcut of compute_deadline (epoch seconds, no pause or extension) gives the very value the
general count gives: every field, its repr and its hash."""
from dataclasses import fields
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import deadline
from shared.instants import KST
from shared.periods import Period
from shared.working_time import CalendarRangeError, WorkingCalendar

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=KST))  # sub-second parts kept: both paths must drop them alike
periods = st.one_of(st.integers(1, 400).map(lambda n: Period(n, "h")), st.integers(1, 120).map(lambda n: Period(n, "d")))


def general(calendar: WorkingCalendar, received: datetime, period: Period) -> deadline.Deadline:
    shortcut = deadline._unpaused
    deadline._unpaused = lambda *args: None  # type: ignore[assignment]
    try:
        return deadline._compute_deadline.__wrapped__(calendar, received, period, (), ())
    finally:
        deadline._unpaused = shortcut


@settings(max_examples=600, deadline=None)
@given(received=instants, period=periods)
def test_shortcut_equals_general_count(calendar: WorkingCalendar, received: datetime, period: Period) -> None:
    fast = deadline._unpaused(calendar, received, period)
    slow = general(calendar, received, period)
    assert fast is not None
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)
    assert {f.name: getattr(fast, f.name) for f in fields(fast)} == {f.name: getattr(slow, f.name) for f in fields(slow)}
    assert set(vars(fast)) == {f.name for f in fields(fast)}


def test_count_past_the_calendar_raises_as_before(calendar: WorkingCalendar) -> None:
    received = datetime(calendar.last_year, 12, 30, 10, tzinfo=KST)
    assert deadline._unpaused(calendar, received, Period(40, "d")) is None
    with pytest.raises(CalendarRangeError, match="last year"):
        deadline.compute_deadline(calendar, received, Period(40, "d"))
