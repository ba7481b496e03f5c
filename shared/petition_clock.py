"""Which period applies to a petition, and its deadlines: the statutory one and the charter's target."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class CaseDeadlines:
    period: Period
    statutory: Deadline
    target: Deadline | None  # the charter's shorter internal target, if it promises one
    target_promise: str | None


def case_deadlines(state: "CaseState", charter: Charter | None, calendar: WorkingCalendar) -> CaseDeadlines | None:
    """The deadlines of a case as its events stand; None before its clock starts (formal receipt)."""
    from shared.petition_case import period_of

    if state.received_at is None or state.petition_type is None:
        return None
    period = period_of(state, dict(charter.statutory_periods) if charter else {})
    statutory = compute_deadline(calendar, state.received_at, period, state.pauses, state.extensions)
    target = promise = None
    found = charter.processing_target(period, state.petition_type) if charter else None
    if found is not None:
        promise_obj, target_period = found
        target = compute_deadline(calendar, state.received_at, target_period, state.pauses)
        promise = promise_obj.id
    return CaseDeadlines(period, statutory, target, promise)


from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a runtime import would be circular
    from shared.petition_case import CaseState
