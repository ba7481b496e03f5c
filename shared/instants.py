"""Instants and the Korean time zone.

Every rule is counted in Asia/Seoul (LAW.md, Act 19 counting, item 5). Korea has
kept a fixed +09:00 offset without daylight saving since 1988, so the arithmetic
below uses the fixed offset: it is exact for every year the calendar covers and
far cheaper than a zoneinfo lookup on the hot path.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")
KST_OFFSET_SECONDS = 9 * 3600


class NaiveInstantError(ValueError):
    """An instant without a UTC offset: it could mean any of 24+ moments."""


def require_aware(value: datetime, field: str = "instant") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveInstantError(f"{field}: {value.isoformat()} has no UTC offset; give one (e.g. +09:00 or Z)")
    return value


class InstantRangeError(ValueError):
    """An instant that cannot be shown in Korean time (year 1 or 9999 at the edge of an offset)."""


def to_kst(value: datetime, field: str = "instant") -> datetime:
    try:
        return require_aware(value, field).astimezone(KST)
    except OverflowError as exc:
        raise InstantRangeError(f"{field}: {value.isoformat()} is outside the range of dates") from exc


def parse_instant(text: str, field: str = "instant") -> datetime:
    """ISO 8601 with an offset (``Z`` allowed), returned in KST."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"{field}: {text!r} is not an ISO 8601 instant") from exc
    return to_kst(parsed, field)


def isoformat_kst(value: datetime) -> str:
    """The wire and display form: KST, to the second, with its +09:00 offset."""
    return to_kst(value).replace(microsecond=0).isoformat()
