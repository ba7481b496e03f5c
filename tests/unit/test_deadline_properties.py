"""Properties of the legal clock that must hold for every input (hypothesis)."""
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.deadline import Pause, compute_deadline, due_epoch
from shared.instants import KST
from shared.periods import Period
from shared.working_time import (
    AFTERNOON_END,
    AFTERNOON_START,
    MORNING_END,
    MORNING_START,
    WorkingCalendar,
)

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=KST))
hour_periods = st.one_of(st.integers(1, 200).map(lambda n: Period(n, "h")), st.integers(1, 5).map(lambda n: Period(n, "d")))
any_periods = st.one_of(hour_periods, st.integers(6, 60).map(lambda n: Period(n, "d")))


def _in_working_time(cal: WorkingCalendar, t: datetime) -> bool:
    local = t.astimezone(KST)
    second = local.hour * 3600 + local.minute * 60 + local.second
    in_block = MORNING_START < second <= MORNING_END or AFTERNOON_START < second <= AFTERNOON_END
    return cal.is_working_day(local.date()) and in_block


@settings(max_examples=400, deadline=None)
@given(received=instants, period=hour_periods)
def test_hour_counted_deadline_lies_in_working_time(calendar: WorkingCalendar, received: datetime, period: Period) -> None:
    d = compute_deadline(calendar, received, period).due_at
    assert d is not None and _in_working_time(calendar, d)
    assert calendar.working_seconds_between(received, d) == period.working_seconds


@settings(max_examples=400, deadline=None)
@given(received=instants, period=any_periods)
def test_deadline_never_before_receipt(calendar: WorkingCalendar, received: datetime, period: Period) -> None:
    d = compute_deadline(calendar, received, period).due_at
    assert d is not None and d > received


@settings(max_examples=300, deadline=None)
@given(received=instants, a=st.integers(1, 40), b=st.integers(1, 40))
def test_monotonic_in_the_period(calendar: WorkingCalendar, received: datetime, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    for unit in ("h", "d"):
        assert compute_deadline(calendar, received, Period(lo, unit)).due_at <= \
            compute_deadline(calendar, received, Period(hi, unit)).due_at


@settings(max_examples=400, deadline=None)
@given(received=instants, period=any_periods, offset_h=st.integers(0, 400), length_h=st.integers(0, 400))
def test_a_pause_never_makes_it_earlier(calendar: WorkingCalendar, received: datetime, period: Period,
                                        offset_h: int, length_h: int) -> None:
    start = received + timedelta(hours=offset_h)
    pause = Pause(start, start + timedelta(hours=length_h))
    assert compute_deadline(calendar, received, period, [pause]).due_at >= \
        compute_deadline(calendar, received, period).due_at


@settings(max_examples=400, deadline=None)
@given(received=instants, period=any_periods)
def test_the_fast_path_agrees_with_the_full_computation(calendar: WorkingCalendar, received: datetime,
                                                        period: Period) -> None:
    full = compute_deadline(calendar, received, period).due_at
    assert due_epoch(calendar, int(received.timestamp()), period) == int(full.timestamp())


pause_spans = st.tuples(st.integers(0, 24 * 40), st.integers(0, 24 * 20))  # hours after receipt, length in hours


@settings(max_examples=500, deadline=None)
@given(received=instants, period=any_periods, spans=st.lists(pause_spans, max_size=3))
def test_the_deadline_never_falls_inside_a_pause(calendar: WorkingCalendar, received: datetime, period: Period,
                                                  spans: list[tuple[int, int]]) -> None:
    pauses = [Pause(received + timedelta(hours=a), received + timedelta(hours=a + n)) for a, n in spans]
    d = compute_deadline(calendar, received, period, pauses).due_at
    assert d is not None
    assert not any(p.start < d < p.end for p in pauses)


@settings(max_examples=500, deadline=None)
@given(received=instants, period=any_periods, after_h=st.integers(0, 24 * 10), length_h=st.integers(0, 24 * 10))
def test_a_pause_begun_once_the_count_ran_out_changes_nothing(calendar: WorkingCalendar, received: datetime,
                                                               period: Period, after_h: int, length_h: int) -> None:
    base = compute_deadline(calendar, received, period).due_at
    start = base + timedelta(hours=after_h)
    assert compute_deadline(calendar, received, period, [Pause(start, start + timedelta(hours=length_h))]).due_at == base
