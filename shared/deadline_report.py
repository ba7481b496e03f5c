"""The deadline calculator's two ends, shared by the HTTP API (``GET /v1/deadline``) and the CLI
(``charterwatch deadline``): the inputs read from text, every error naming the input at fault in
the caller's own words; and one rendering of the result, in the law's units for people and with
the working details for machines.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.deadline import (
    Deadline,
    DeadlineInputError,
    Extension,
    Pause,
    compute_deadline,
    parse_pause,
)
from shared.instants import isoformat_kst, parse_instant
from shared.periods import Period
from shared.working_time import HOUR, CalendarRangeError, WorkingCalendar


@dataclass(frozen=True)
class InputNames:
    """What the caller calls each input, so that an error names the option or parameter at fault.

    ``pause`` and ``extend`` are repeatable: the i-th is named ``pause[i]`` / ``extend[i]``.
    ``give_consent`` says how a caller states the petitioner's consent to a second extension.
    """

    received: str
    period: str
    pause: str
    extend: str
    consent: str
    give_consent: str


_COMPUTED_FIELD = re.compile(r"^(pauses|extensions)\[(\d+)\](.*)$")


def _renamed(field: str, names: InputNames) -> str:
    """``compute_deadline``'s names for its inputs (pauses[1], extensions[0]) in the caller's words."""
    found = _COMPUTED_FIELD.match(field)
    if found:
        kind, index, rest = found.groups()
        return f"{names.pause if kind == 'pauses' else names.extend}[{index}]{rest}"
    return {"received_at": names.received, "period": names.period}.get(field, field)


def _unprefixed(exc: Exception, field: str) -> str:
    text = str(exc)
    return text[len(field) + 2:] if text.startswith(f"{field}: ") else text


def _in_calendar(calendar: WorkingCalendar, at: datetime, field: str, what: str = "") -> None:
    if not calendar.first_year <= at.year <= calendar.last_year:  # ``at`` is in KST (parse_instant)
        raise DeadlineInputError(field, f"{what}{isoformat_kst(at)} is outside the working calendar, which covers "
                                        f"the years {calendar.first_year}-{calendar.last_year}")


def _instant(calendar: WorkingCalendar, text: str, field: str) -> datetime:
    try:
        at = parse_instant(text, field)
    except ValueError as exc:
        raise DeadlineInputError(field, _unprefixed(exc, field)) from exc
    _in_calendar(calendar, at, field)
    return at


def _period(text: str, field: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise DeadlineInputError(field, str(exc)) from exc


def calculate(
    calendar: WorkingCalendar,
    received: str,
    period: str,
    pauses: Sequence[str] = (),
    extensions: Sequence[str] = (),
    consent: bool = False,
    *,
    names: InputNames,
) -> Deadline:
    """The deadline for inputs as a person typed them; a ``DeadlineInputError`` naming one of ``names`` else.

    Nothing given is dropped: consent with no second extension to consent to is an error, and a
    count that runs past the calendar's last year names the input that pushed it there.
    """
    received_at = _instant(calendar, received, names.received)
    counted = _period(period, names.period)
    paused: list[Pause] = []
    for i, raw in enumerate(pauses):
        field = f"{names.pause}[{i}]"
        each = parse_pause(raw, field)
        _in_calendar(calendar, each.start, field, "its start ")
        if each.end is not None:
            _in_calendar(calendar, each.end, field, "its end ")
        paused.append(each)
    extended = [Extension(_period(raw, f"{names.extend}[{i}]"), consented=consent and i == 1)
                for i, raw in enumerate(extensions)]
    if consent and len(extended) < 2:
        raise DeadlineInputError(names.consent, f"there is no second extension ({names.extend}[1]) to consent to "
                                                "(Decree 21)")
    try:
        return compute_deadline(calendar, received_at, counted, paused, extended)
    except DeadlineInputError as exc:
        message = exc.message
        if exc.field == "extensions[1]" and not consent:  # the second, refused for want of consent
            message = f"{message}: give {names.give_consent}"
        raise DeadlineInputError(_renamed(exc.field, names), message) from exc
    except CalendarRangeError as exc:  # every instant given is in the calendar: the count runs past it
        field, what = _past_the_calendar(calendar, received_at, counted, paused, extended, names)
        raise DeadlineInputError(field, f"{what} runs past the working calendar's last year "
                                        f"({calendar.last_year})") from exc


def _past_the_calendar(calendar: WorkingCalendar, received_at: datetime, period: Period, pauses: list[Pause],
                       extensions: list[Extension], names: InputNames) -> tuple[str, str]:
    """Which input pushes the count past the calendar: inputs added one at a time (the period, then
    each pause, then each extension), the first after which the count no longer fits."""
    steps = [(names.period, "the count", 0, 0)]
    steps += [(f"{names.pause}[{i}]", "the count, with this pause not counted,", i + 1, 0) for i in range(len(pauses))]
    steps += [(f"{names.extend}[{i}]", "the count", len(pauses), i + 1) for i in range(len(extensions))]
    for field, what, n_pauses, n_extensions in steps:
        try:
            compute_deadline(calendar, received_at, period, pauses[:n_pauses], extensions[:n_extensions])
        except CalendarRangeError:
            return field, what
    return steps[-1][0], steps[-1][1]


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def working_time_text(working_days: int | None, working_seconds: int | None) -> str:
    """An amount of working time in the law's units: working days as given, working time in
    working hours and minutes (Act 19: a time-counted period is counted in hours, not folded into
    days), rounded down to the minute. "2 working days and 7 working hours", "23 working hours"."""
    parts = []
    if working_days:
        parts.append(_plural(working_days, "working day"))
    if working_seconds:
        hours, rest = divmod(working_seconds, HOUR)
        minutes = rest // 60
        if hours:
            parts.append(_plural(hours, "working hour"))
        if minutes:
            parts.append(_plural(minutes, "working minute"))
        if not hours and not minutes:
            parts.append("less than a working minute")
    return _joined(parts) if parts else "no working time"


def time_left_text(d: Deadline) -> str | None:
    """What is left of the period while a pause is open (None when the deadline is known)."""
    if d.due_at is not None:
        return None
    return f"{working_time_text(d.remaining_working_days, d.remaining_working_seconds)} left"


def deadline_dict(d: Deadline) -> dict[str, Any]:
    return {
        "received_at": isoformat_kst(d.received_at),
        "period": str(d.period),
        "counting_mode": d.mode.value,
        "due_at": isoformat_kst(d.due_at) if d.due_at else None,
        "paused": d.paused,
        "remaining_working_seconds": d.remaining_working_seconds,
        "remaining_working_days": d.remaining_working_days,
        "time_left": time_left_text(d),  # the two above in words, e.g. "2 working days and 7 working hours left"
        "pauses_applied": [
            {
                "start": isoformat_kst(p.start),
                "end": isoformat_kst(p.end) if p.end else None,
                "reason": p.reason,
                "working_seconds_not_counted": p.working_seconds,
                "working_days_not_counted": p.working_days,
                "not_counted": working_time_text(p.working_days, p.working_seconds) if p.end else None,
            }
            for p in d.pauses_applied
        ],
        "extensions": [{"period": str(e.period), "consented": e.consented} for e in d.extensions],
        "holidays_skipped": [h.isoformat() for h in d.holidays_skipped],
        "calendar_version": d.calendar_version,
        "notes": list(d.notes),
    }
