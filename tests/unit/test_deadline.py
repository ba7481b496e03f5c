"""Hand-checked deadlines (Act 19; Decree 20, 21, 23). Each case's arithmetic is in its comment."""
from datetime import date, datetime

import pytest

from shared.deadline import (
    DeadlineInputError,
    Extension,
    Pause,
    compute_deadline,
    interim_notice_due_dates,
    next_interim_notice_due,
)
from shared.instants import KST
from shared.periods import CountingMode, Period
from shared.working_time import WorkingCalendar


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


def due(cal: WorkingCalendar, received: datetime, period: str, pauses=(), extensions=()) -> datetime | None:
    return compute_deadline(cal, received, Period.parse(period), pauses, extensions).due_at


@pytest.mark.parametrize("received, period, expected", [
    # Seollal: Fri 16:00 +24h: Fri 2h, Mon-Wed holidays, Thu 8h, Fri 8h, Mon 6h -> Mon 16:00
    (kst(2026, 2, 13, 16), "3d", kst(2026, 2, 23, 16)),
    # Chuseok: Wed 10:00 +16h: Wed 7h, Thu-Fri holidays, Mon 8h, Tue 1h -> Tue 10:00
    (kst(2026, 9, 23, 10), "2d", kst(2026, 9, 29, 10)),
    # Substitute holiday Mon 3/2: Fri 17:00 +8h: Fri 1h, Tue 7h -> Tue 17:00
    (kst(2026, 2, 27, 17), "1d", kst(2026, 3, 3, 17)),
    # Election day Wed 6/3: Tue 15:00 +3h ends exactly at 18:00 Tue
    (kst(2026, 6, 2, 15), "3h", kst(2026, 6, 2, 18)),
    # ...and +4h skips election day: Tue 3h, Thu 1h -> Thu 10:00
    (kst(2026, 6, 2, 15), "4h", kst(2026, 6, 4, 10)),
    # Year end: Thu 12/31 17:30 +8h: 0.5h, 1/1 holiday, weekend, Mon 7.5h -> 2027-01-04 17:30
    (kst(2026, 12, 31, 17, 30), "1d", kst(2027, 1, 4, 17, 30)),
    # Received at night: the count starts at 09:00 and ends at 12:00, not after lunch
    (kst(2026, 11, 24, 23), "3h", kst(2026, 11, 25, 12)),
    # Received on a Saturday: Monday 09:00-12:00
    (kst(2026, 11, 28, 10), "3h", kst(2026, 11, 30, 12)),
    # Received at lunch: the count starts at 13:00
    (kst(2026, 11, 25, 12, 30), "2h", kst(2026, 11, 25, 15)),
    # Lunch boundary: 11:00 +1h is 12:00; +2h is 14:00
    (kst(2026, 11, 25, 11), "1h", kst(2026, 11, 25, 12)),
    (kst(2026, 11, 25, 11), "2h", kst(2026, 11, 25, 14)),
    # Seconds are kept: 10:15:30 +1h
    (kst(2026, 11, 25, 10, 15, 30), "1h", kst(2026, 11, 25, 11, 15, 30)),
    # 5 days is counted in hours: Mon 15:00 +40h -> next Mon 15:00
    (kst(2026, 11, 23, 15), "5d", kst(2026, 11, 30, 15)),
    # 6 days is counted in days, receipt day = day 1: Mon..Fri, Mon -> Mon 18:00
    (kst(2026, 11, 23, 15), "6d", kst(2026, 11, 30, 18)),
    # Day-counted, received Saturday: day 1 is the next working day (after Seollal)
    (kst(2026, 2, 14, 10), "7d", kst(2026, 2, 27, 18)),
    # Day-counted, received 23:00 on a working day: that day is day 1 "at whatever hour"
    (kst(2026, 2, 13, 23), "7d", kst(2026, 2, 26, 18)),
    # 14 days across Chuseok, its eve, the 10/5 substitute and Hangul day -> Wed 10/14
    (kst(2026, 9, 21, 9), "14d", kst(2026, 10, 14, 18)),
])
def test_hand_checked(calendar: WorkingCalendar, received: datetime, period: str, expected: datetime) -> None:
    assert due(calendar, received, period) == expected


def test_counting_mode_follows_act_19(calendar: WorkingCalendar) -> None:
    assert compute_deadline(calendar, kst(2026, 11, 23, 9), Period(5, "d")).mode is CountingMode.WORKING_TIME
    assert compute_deadline(calendar, kst(2026, 11, 23, 9), Period(6, "d")).mode is CountingMode.WORKING_DAYS
    assert compute_deadline(calendar, kst(2026, 11, 23, 9), Period(100, "h")).mode is CountingMode.WORKING_TIME


def test_holidays_skipped_are_reported(calendar: WorkingCalendar) -> None:
    d = compute_deadline(calendar, kst(2026, 2, 13, 16), Period(3, "d"))
    assert d.holidays_skipped == (date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18))
    assert d.calendar_version == calendar.version


def test_pause_in_working_time(calendar: WorkingCalendar) -> None:
    # Wed 09:00 +24h; paused Thu 14:00 -> Mon 11:00 = Thu 4h + Fri 8h + Mon 2h = 14h not counted.
    # 38h from Wed 09:00: Wed, Thu, Fri, Mon 8h each, Tue 6h -> Tue 12/1 16:00.
    pause = Pause(kst(2026, 11, 26, 14), kst(2026, 11, 30, 11))
    d = compute_deadline(calendar, kst(2026, 11, 25, 9), Period(3, "d"), [pause])
    assert d.due_at == kst(2026, 12, 1, 16)
    assert d.pauses_applied[0].working_seconds == 14 * 3600


def test_pause_after_the_deadline_changes_nothing(calendar: WorkingCalendar) -> None:
    pause = Pause(kst(2026, 11, 25, 18), kst(2026, 11, 27, 10))
    assert due(calendar, kst(2026, 11, 25, 15), "3h", [pause]) == kst(2026, 11, 25, 18)


def test_pause_in_working_days(calendar: WorkingCalendar) -> None:
    # 7d from Tue 3/3: 3, 4 count; paused 3/5 -> 3/9: 3/5 and 3/6 do not count, 3/9 does;
    # then 9, 10, 11, 12, 13 -> Fri 3/13.
    pause = Pause(kst(2026, 3, 5, 10), kst(2026, 3, 9, 15))
    d = compute_deadline(calendar, kst(2026, 3, 3, 10), Period(7, "d"), [pause])
    assert d.due_at == kst(2026, 3, 13, 18)
    assert d.pauses_applied[0].working_days == 2


def test_day_count_pause_begun_after_the_deadline_changes_nothing(calendar: WorkingCalendar) -> None:
    # Received Mon 11/2 10:00, 7d -> Tue 11/10 18:00. A supplement requested 11/10 19:00, after the count
    # was used up, and received 11/11 10:00 changes nothing (the hours mode keeps the same rule).
    pause = Pause(kst(2026, 11, 10, 19), kst(2026, 11, 11, 10))
    d = compute_deadline(calendar, kst(2026, 11, 2, 10), Period(7, "d"), [pause])
    assert d.due_at == kst(2026, 11, 10, 18)
    # begun at the very instant the count ran out: nothing either
    assert due(calendar, kst(2026, 11, 2, 10), "7d", [Pause(kst(2026, 11, 10, 18), kst(2026, 11, 12, 10))]) \
        == kst(2026, 11, 10, 18)


def test_day_count_deadline_never_falls_inside_a_pause(calendar: WorkingCalendar) -> None:
    # Paused Tue 11/10 10:00 -> Wed 11/11 20:00: desks closed twice while paused (11/10, 11/11), so two
    # days do not count and the deadline is Thu 11/12 18:00, after the supplement arrived.
    pause = Pause(kst(2026, 11, 10, 10), kst(2026, 11, 11, 20))
    d = compute_deadline(calendar, kst(2026, 11, 2, 10), Period(7, "d"), [pause])
    assert d.due_at == kst(2026, 11, 12, 18)
    assert d.pauses_applied[0].working_days == 2


@pytest.mark.parametrize("start, end, lost", [
    ((2026, 11, 6, 20), (2026, 11, 9, 8), 0),   # Fri 20:00 -> Mon 08:00: no close of desk hours paused
    ((2026, 11, 6, 17), (2026, 11, 9, 8), 1),   # Fri 17:00 -> Mon 08:00: Friday closed while paused
    ((2026, 11, 6, 20), (2026, 11, 9, 18, 30), 1),  # Monday closed while paused
    ((2026, 11, 4, 10), (2026, 11, 4, 17), 0),  # within one day: the day still counts
    ((2026, 11, 4, 10), (2026, 11, 4, 18), 0),  # supplement in at the close: the day counts
])
def test_day_count_pause_costs_the_days_closed_while_paused(calendar: WorkingCalendar, start: tuple, end: tuple,
                                                             lost: int) -> None:
    base = compute_deadline(calendar, kst(2026, 11, 2, 10), Period(14, "d"))
    d = compute_deadline(calendar, kst(2026, 11, 2, 10), Period(14, "d"), [Pause(kst(*start), kst(*end))])
    assert d.pauses_applied[0].working_days == lost
    assert calendar.working_days_between(base.due_at.date(), d.due_at.date()) == lost


def test_extension_with_an_open_pause_adds_to_the_time_left(calendar: WorkingCalendar) -> None:
    open_pause = [Pause(kst(2026, 3, 5, 10))]
    d = compute_deadline(calendar, kst(2026, 3, 3, 10), Period(7, "d"), open_pause, [Extension(Period(7, "d"))])
    assert d.paused and d.remaining_working_days == 5 + 7
    d = compute_deadline(calendar, kst(2026, 11, 25, 9), Period(3, "d"), [Pause(kst(2026, 11, 26, 14))],
                         [Extension(Period(2, "d"))])
    assert d.remaining_working_seconds == 12 * 3600 + 16 * 3600


def test_overlapping_pauses_count_once(calendar: WorkingCalendar) -> None:
    a = Pause(kst(2026, 11, 26, 14), kst(2026, 11, 30, 11))
    b = Pause(kst(2026, 11, 27, 9), kst(2026, 11, 27, 18))
    assert due(calendar, kst(2026, 11, 25, 9), "3d", [a, b]) == kst(2026, 12, 1, 16)


def test_open_pause_has_no_deadline_but_time_left(calendar: WorkingCalendar) -> None:
    d = compute_deadline(calendar, kst(2026, 3, 3, 10), Period(7, "d"), [Pause(kst(2026, 3, 5, 10))])
    assert d.paused and d.due_at is None and d.remaining_working_days == 5
    # Wed 09:00 +24h, paused Thu 14:00 after 12h counted: 12h left.
    d = compute_deadline(calendar, kst(2026, 11, 25, 9), Period(3, "d"), [Pause(kst(2026, 11, 26, 14))])
    assert d.paused and d.remaining_working_seconds == 12 * 3600


def test_extension_continues_from_the_deadline(calendar: WorkingCalendar) -> None:
    # Base 3/13 (see above); +7d from the next working day: 16..20, 23, 24 -> Tue 3/24.
    pause = Pause(kst(2026, 3, 5, 10), kst(2026, 3, 9, 15))
    assert due(calendar, kst(2026, 3, 3, 10), "7d", [pause], [Extension(Period(7, "d"))]) == kst(2026, 3, 24, 18)
    # 3h from Wed 10:00 is 14:00; extended by 3h -> 17:00.
    assert due(calendar, kst(2026, 11, 25, 10), "3h", (), [Extension(Period(3, "h"))]) == kst(2026, 11, 25, 17)


def test_second_extension_needs_consent_and_a_third_is_refused(calendar: WorkingCalendar) -> None:
    received = kst(2026, 11, 25, 10)
    with pytest.raises(DeadlineInputError, match="consent"):
        due(calendar, received, "7d", (), [Extension(Period(7, "d")), Extension(Period(7, "d"))])
    assert due(calendar, received, "7d", (), [Extension(Period(7, "d")), Extension(Period(7, "d"), consented=True)])
    with pytest.raises(DeadlineInputError, match="Decree 21"):
        due(calendar, received, "7d", (), [Extension(Period(1, "d"), True)] * 3)


def test_extension_longer_than_the_period_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(DeadlineInputError, match="longer than the original"):
        due(calendar, kst(2026, 11, 25, 10), "7d", (), [Extension(Period(8, "d"))])


@pytest.mark.parametrize("pause, field", [
    (Pause(kst(2026, 11, 26, 10), kst(2026, 11, 26, 9)), "pauses[0]"),  # ends before it starts
    (Pause(kst(2026, 11, 24, 10), kst(2026, 11, 26, 9)), "pauses[0]"),  # starts before receipt
])
def test_invalid_pauses_name_the_pause(calendar: WorkingCalendar, pause: Pause, field: str) -> None:
    with pytest.raises(DeadlineInputError) as info:
        due(calendar, kst(2026, 11, 25, 10), "3d", [pause])
    assert info.value.field == field


def test_naive_receipt_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="received_at"):
        compute_deadline(calendar, datetime(2026, 11, 25, 10), Period(1, "d"))


@pytest.mark.parametrize("text", ["0d", "-1h", "3w", "", "1.5d"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"\(1h\)|3h") as caught:  # says how a period is written
        Period.parse(text)
    assert not str(caught.value).startswith("period:")  # the caller names its field (--period, --extend[0], ...)


def test_interim_notices_every_30_days() -> None:
    received = kst(2026, 1, 5, 14)
    assert interim_notice_due_dates(received, kst(2026, 3, 10)) == [kst(2026, 2, 4, 14), kst(2026, 3, 6, 14)]
    assert next_interim_notice_due(received, kst(2026, 2, 4, 14)) == kst(2026, 3, 6, 14)
    assert next_interim_notice_due(received, received) == kst(2026, 2, 4, 14)
