"""How far from its case an instant may lie: every instant an API accepts is checked here, once.

An instant the law cannot count (outside the working calendar) or that makes no sense for the
case (a callback a year away, an expected completion later than any extension could make the
deadline, a date before the petition arrived) is refused at the door with the field named,
rather than accepted and left to break every consumer of the log.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.deadline import (
    MAX_EXTENSIONS,  # Decree 21: once, and once more with consent
    DeadlineInputError,
    Extension,
    compute_deadline,
)
from shared.events import petition as ev
from shared.instants import InstantRangeError, to_kst
from shared.periods import Period
from shared.working_time import CalendarRangeError, WorkingCalendar

# How far ahead a promised instant may be, from the fact that states it.
HORIZONS: dict[tuple[type, str], timedelta] = {
    # Yeonje-gu Y1: the official calls back within 3 working hours, or at the time the citizen chose:
    # a choice days ahead is plausible, months ahead is a typo.
    (ev.CallbackPromised, "requested_at"): timedelta(days=14),
    # Act 22, Decree 24-25: a supplement is asked for with a deadline; the second request gives at
    # most 10 days, the petitioner may ask for more time twice.
    (ev.SupplementRequested, "respond_by"): timedelta(days=60),
    # Yeonje-gu Y2: the expected answer date given for an opinion.
    (ev.OpinionAcknowledged, "expected_answer_at"): timedelta(days=90),
}


class OutOfBounds(ValueError):
    """An instant the field may not hold (a plain exception: it travels up to the HTTP layer's handler)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def in_calendar(calendar: WorkingCalendar, at: datetime, field: str) -> datetime:
    """``at`` in KST, if the calendar can count it; else OutOfBounds naming ``field``."""
    try:
        kst = to_kst(at, field)
    except InstantRangeError as exc:
        raise OutOfBounds(field, "is outside the range of dates") from exc
    if not calendar.first_year <= kst.year <= calendar.last_year:
        raise OutOfBounds(field, f"is outside the working calendar ({calendar.first_year}-{calendar.last_year})")
    return kst


def instants_of(payload: BaseModel) -> Iterator[tuple[str, datetime]]:
    """Every instant a payload carries, by field name (nested models are not used by facts)."""
    for name in type(payload).model_fields:
        value = getattr(payload, name)
        if isinstance(value, datetime):
            yield name, value


def check_fact(payload: BaseModel, at: datetime, arrived_at: datetime | None, calendar: WorkingCalendar,
               latest_completion: datetime | None = None) -> None:
    """The instants of a fact recorded at ``at`` on a case that arrived at ``arrived_at``.

    ``latest_completion``: the latest the law lets this case finish (``latest_completion``
    below), which bounds an expected completion date; None when it cannot be known (a pause open).
    """
    for name, value in instants_of(payload):
        value = in_calendar(calendar, value, name)
        if arrived_at is not None and value < arrived_at:
            raise OutOfBounds(name, f"is before the petition arrived ({arrived_at.isoformat()})")
        if value < at:
            raise OutOfBounds(name, f"is before the fact it belongs to ({at.isoformat()})")
        horizon = HORIZONS.get((type(payload), name))
        if horizon is not None and value > at + horizon:
            raise OutOfBounds(name, f"is more than {horizon.days} days after the fact ({at.isoformat()})")
        if name == "expected_completion" and latest_completion is not None and value > latest_completion:
            raise OutOfBounds(name, "is later than the law allows this case to take, with every extension "
                                    f"it may still get (Decree 21): {latest_completion.isoformat()}")


def latest_completion(received_at: datetime | None, period: Period | None, pauses: tuple, extensions: tuple,
                      calendar: WorkingCalendar) -> datetime | None:
    """The latest the case may finish: its period, its pauses, its extensions and every extension
    Decree 21 still allows (each by no more than the original period). None before its clock starts
    or while a pause is open (its end, and so the deadline, is not known yet)."""
    if received_at is None or period is None:
        return None
    more = tuple(Extension(period, consented=True) for _ in range(max(0, MAX_EXTENSIONS - len(extensions))))
    try:
        due = compute_deadline(calendar, received_at, period, pauses, tuple(extensions) + more).due_at
    except (CalendarRangeError, DeadlineInputError):
        return None  # past the calendar: the calendar check bounds the instant instead
    return due
