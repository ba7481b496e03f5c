"""The petition projection: one mutator per event type, applied inside the caller's transaction.

Idempotent by event id, so a redelivered record changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake.readmodel.orm import PetitionRow, TimelineRow
from shared.charters import CharterBook
from shared.events import Envelope
from shared.events.petition import PetitionReceived
from shared.instants import to_kst
from shared.periods import UnknownPetitionKind
from shared.petition_clock import statutory_deadline
from shared.working_time import CalendarRangeError, WorkingCalendar

Mutator = Callable[[Session, Envelope, "PetitionProjection"], str]


def _received(session: Session, env: Envelope, proj: "PetitionProjection") -> str:
    p: PetitionReceived = env.payload  # type: ignore[assignment]
    charter = proj.charters.get(env.charter.charter_id, env.charter.version) if env.charter else None
    due: datetime | None = None
    try:
        due = statutory_deadline(proj.calendar, charter, p.petition_type, p.petition_kind, env.occurred_at).due_at
    except (UnknownPetitionKind, CalendarRangeError):
        due = None  # intake rejects these; an old event stays readable without a deadline
    session.add(
        PetitionRow(
            case_id=env.case_id,
            version=1,
            state="received",
            municipality_id=p.municipality_id,
            agency_id=p.agency_id,
            charter_id=env.charter.charter_id if env.charter else None,
            charter_version=env.charter.version if env.charter else None,
            petition_type=p.petition_type.value,
            petition_kind=p.petition_kind,
            channel=p.channel.value,
            title=p.title,
            applicant_sealed=p.applicant.model_dump(),
            applicant_ref=p.applicant_ref,
            notice_channels=[c.value for c in p.notice_channels],
            received_at=env.occurred_at,
            statutory_due_at=due,
            calendar_version=proj.calendar.version,
            last_event_id=str(env.event_id),
            updated_at=env.recorded_at,
        )
    )
    return f"{p.petition_type.value} via {p.channel.value}"


class PetitionProjection:
    name = "petitions"

    def __init__(self, calendar: WorkingCalendar, charters: CharterBook) -> None:
        self.calendar = calendar
        self.charters = charters
        self._mutators: dict[type, Mutator] = {PetitionReceived: _received}

    def apply(self, session: Session, env: Envelope) -> bool:
        """Apply one event; False when it was applied before (redelivery) or is not ours."""
        mutator = self._mutators.get(type(env.payload))
        if mutator is None:
            return False
        seen = session.execute(select(TimelineRow.case_id).where(TimelineRow.event_id == str(env.event_id))).first()
        if seen:
            return False
        row = session.get(PetitionRow, env.case_id)
        version = 1 if row is None else row.version + 1
        summary = mutator(session, env, self)
        if row is not None:
            row.version = version
            row.last_event_id = str(env.event_id)
            row.updated_at = env.recorded_at
        session.add(
            TimelineRow(
                case_id=env.case_id,
                version=version,
                event_id=str(env.event_id),
                event_type=env.event_type,
                schema_version=env.schema_version,
                occurred_at=to_kst(env.occurred_at),
                recorded_at=to_kst(env.recorded_at),
                producer=env.producer,
                summary=summary,
            )
        )
        return True
