"""Building the Korean working calendar from the ``holidays`` package plus overrides.

``holidays.country_holidays("KR")`` implements 관공서의 공휴일에 관한 규정
(in force 2026-05-01): lunar holidays, substitute holidays, election days and
the temporary holidays known at its release. Temporary holidays the Cabinet
declares later (or a cancelled one) come from an override list in
configuration, itself versioned; both versions end up in the calendar version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import holidays as holidays_package

from shared.working_time import WorkingCalendar

DEFAULT_FIRST_YEAR = 2000
DEFAULT_LAST_YEAR = 2060


@dataclass(frozen=True)
class HolidayOverrides:
    """Dates added to or removed from the package's list, with the version of that list."""

    version: str = "none"
    add: frozenset[date] = field(default_factory=frozenset)
    remove: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_mapping(cls, data: dict[str, object]) -> "HolidayOverrides":
        def dates(key: str) -> frozenset[date]:
            raw = data.get(key) or []
            if not isinstance(raw, list):
                raise ValueError(f"holiday overrides: {key} must be a list of dates")
            out = set()
            for i, item in enumerate(raw):
                try:
                    out.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
                except ValueError as exc:
                    raise ValueError(f"holiday overrides: {key}[{i}]: {item!r} is not a date (YYYY-MM-DD)") from exc
            return frozenset(out)

        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise ValueError("holiday overrides: version is required (a string)")
        return cls(version=version, add=dates("add"), remove=dates("remove"))


def korean_calendar(
    overrides: HolidayOverrides = HolidayOverrides(),
    first_year: int = DEFAULT_FIRST_YEAR,
    last_year: int = DEFAULT_LAST_YEAR,
) -> WorkingCalendar:
    listed = holidays_package.country_holidays("KR", years=range(first_year, last_year + 1))
    dates = (set(listed) | overrides.add) - overrides.remove
    source = f"kr-holidays-{holidays_package.__version__}+overrides-{overrides.version}"
    return WorkingCalendar(dates, first_year, last_year, source=source)
