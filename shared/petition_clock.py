"""Which period applies to a petition, and its statutory deadline."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.charters.model import Charter
from shared.deadline import Deadline, Extension, Pause, compute_deadline
from shared.periods import Period, PetitionType, statutory_period
from shared.working_time import WorkingCalendar


def period_for(charter: Charter | None, petition_type: PetitionType, petition_kind: str | None) -> Period:
    table = dict(charter.statutory_periods) if charter else {}
    return statutory_period(petition_type, petition_kind, table)


def statutory_deadline(
    calendar: WorkingCalendar,
    charter: Charter | None,
    petition_type: PetitionType,
    petition_kind: str | None,
    received_at: datetime,
    pauses: Sequence[Pause] = (),
    extensions: Sequence[Extension] = (),
) -> Deadline:
    return compute_deadline(calendar, received_at, period_for(charter, petition_type, petition_kind), pauses, extensions)
