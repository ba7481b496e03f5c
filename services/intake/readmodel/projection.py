"""The petition projection: folds each case's events (shared.petition_case) into query rows.

Applied inside the runner's transaction; idempotent by event id, and strict on
case versions: an event whose version is not the next one is refused (the
runner dead-letters it) rather than silently corrupting the row.
"""
from __future__ import annotations

import difflib
import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake.readmodel.orm import (
    PetitionAccessRow,
    PetitionNoticeRow,
    PetitionRow,
    TimelineRow,
)
from shared.charters import CharterBook
from shared.charters.model import Charter
from shared.deadline import DeadlineInputError
from shared.events import Envelope, decode, notice
from shared.events import petition as ev
from shared.periods import UnknownPetitionKind
from shared.petition_case import CaseState, apply, fold, handles
from shared.petition_clock import case_deadlines
from shared.working_time import CalendarRangeError, WorkingCalendar

SIMILARITY = 0.85  # normalised title+body ratio above which a petition is a duplicate (D14)


class VersionConflict(ValueError):
    pass


def fingerprint(title: str, body: str) -> str:
    return re.sub(r"\W+", " ", f"{title} {body}".lower()).strip()[:2000]


class PetitionProjection:
    name = "petitions"

    def __init__(self, calendar: WorkingCalendar, charters: CharterBook,
                 duplicate_window: timedelta = timedelta(days=30)) -> None:
        self.calendar = calendar
        self.charters = charters
        self.duplicate_window = duplicate_window

    def _prior(self, session: Session, case_id: str) -> CaseState:
        rows = session.execute(
            select(TimelineRow.envelope).where(TimelineRow.case_id == case_id).order_by(TimelineRow.version)
        ).scalars()
        return fold(case_id, (decode(r.encode()) for r in rows))

    def apply(self, session: Session, env: Envelope, raw: bytes) -> bool:
        """Apply one event; False when it was applied before (redelivery) or is not a petition fact. A notice
        notify sent is kept beside the case (its first NoticeSent per notice), for the case's clocks."""
        if isinstance(env.payload, notice.NoticeSent):
            self._notice(session, env, raw)
            return False
        if not handles(type(env.payload)):
            return False
        if session.execute(select(TimelineRow.case_id).where(TimelineRow.event_id == str(env.event_id))).first():
            return False
        before = self._prior(session, env.case_id)
        if env.case_version != before.version + 1:
            raise VersionConflict(
                f"case {env.case_id}: event version {env.case_version} does not follow version {before.version}")
        state = apply(before, env)
        session.add(TimelineRow(
            case_id=env.case_id, version=state.version, event_id=str(env.event_id), event_type=env.event_type,
            schema_version=env.schema_version, occurred_at=env.occurred_at, recorded_at=env.recorded_at,
            producer=env.producer, summary=_summary(env), envelope=raw.decode()))
        charter = self.charters.get(env.charter.charter_id, env.charter.version) if env.charter else None
        row = session.get(PetitionRow, env.case_id)
        if row is None:
            p: ev.PetitionReceived = env.payload  # type: ignore[assignment]
            row = PetitionRow(case_id=env.case_id, applicant_sealed=p.applicant.model_dump(),
                              content_fingerprint=fingerprint(p.title, p.body),
                              charter_id=charter.id if charter else None,
                              charter_version=charter.version if charter else None)
            session.add(row)
        elif row.charter_id:
            charter = self.charters.get(row.charter_id, row.charter_version or "")
        self._fill(row, state, charter, env)
        if state.personal_data_erased:
            row.applicant_sealed = {}  # unreadable already (its key is destroyed): not kept either
            # nor linkable: an erased applicant's reference would still tie later filings to this case
            row.applicant_ref = f"erased:{env.case_id}"[:64]
        for agency in {state.agency_id, *state.shared_with}:
            session.merge(PetitionAccessRow(case_id=env.case_id, agency_id=agency))
        if isinstance(env.payload, ev.PetitionReceived):
            session.flush()
            self._link_duplicates(session, row)
        return True

    @staticmethod
    def _notice(session: Session, env: Envelope, raw: bytes) -> None:
        p: notice.NoticeSent = env.payload  # type: ignore[assignment]
        if session.get(PetitionNoticeRow, p.notice_id) is not None or session.execute(
                select(PetitionNoticeRow.notice_id).where(PetitionNoticeRow.event_id == str(env.event_id))).first():
            return  # redelivered, or the same notice sent again after a kill: the first one stands
        session.add(PetitionNoticeRow(notice_id=p.notice_id, case_id=env.case_id, event_id=str(env.event_id),
                                      kind=p.kind, channel=p.channel, occurred_at=env.occurred_at,
                                      recorded_at=env.recorded_at, envelope=raw.decode()))
        session.flush()

    def _fill(self, row: PetitionRow, s: CaseState, charter: Charter | None, env: Envelope) -> None:
        row.version = s.version
        row.status = s.status.value if s.status else "unknown"
        row.municipality_id = s.municipality_id
        row.agency_id = s.agency_id
        row.petition_type = s.petition_type.value if s.petition_type else ""
        row.petition_kind = s.petition_kind
        row.channel = s.channel.value if s.channel else ""
        row.title = s.title
        row.applicant_ref = s.applicant_ref
        row.notice_channels = list(s.notice_channels)
        row.case_number = s.case_number
        row.receipt_number = s.receipt_number
        row.arrived_at = s.arrived_at  # type: ignore[assignment]
        row.received_at = s.received_at
        row.department = s.department
        row.official_id = s.official.official_id if s.official else None
        row.official = s.official.model_dump() if s.official else None
        row.guardian = s.guardian.model_dump() if s.guardian else None
        row.paused = s.open_pause is not None
        row.extensions = len(s.extensions)
        row.outcome = s.outcome.value if s.outcome else None
        row.resolved_at = s.resolved_at
        row.closed_at = s.closed_at
        row.last_event_id = str(env.event_id)
        row.updated_at = env.recorded_at
        row.statutory_due_at = row.target_due_at = None
        row.remaining_working_seconds = row.remaining_working_days = None
        row.calendar_version = self.calendar.version
        try:
            deadlines = case_deadlines(s, charter, self.calendar)
        except (UnknownPetitionKind, CalendarRangeError, DeadlineInputError):
            deadlines = None  # intake refuses these; an old event stays readable without a deadline
        if deadlines is not None:
            row.statutory_due_at = deadlines.statutory.due_at
            row.remaining_working_seconds = deadlines.statutory.remaining_working_seconds
            row.remaining_working_days = deadlines.statutory.remaining_working_days
            row.target_due_at = deadlines.target.due_at if deadlines.target else None

    def _link_duplicates(self, session: Session, row: PetitionRow) -> None:
        """Link to the earliest similar petition of the same applicant within the window (D14); never reject.
        Only within the agency that filed it: another agency's case id is never named, nor its row changed
        (that a similar petition exists elsewhere is told at read time, by municipality: ``similar_elsewhere``)."""
        similar = similar_petitions(session, row, self.duplicate_window, same_agency=True)
        group = sorted([row, *similar], key=lambda r: (r.arrived_at, r.case_id))
        for r in group:
            earlier = [c for c in group if (c.arrived_at, c.case_id) < (r.arrived_at, r.case_id)
                       and r.arrived_at - c.arrived_at <= self.duplicate_window]
            r.duplicate_of = earlier[0].case_id if earlier else r.duplicate_of if r is not row else None


def similar_petitions(session: Session, row: PetitionRow, window: timedelta, same_agency: bool) -> list[PetitionRow]:
    """Petitions of the same applicant (keyed hash) with near-identical content within ``window`` of
    ``row``: filed with the same agency, or (``same_agency`` False) with any other."""
    lo, hi = row.arrived_at - window, row.arrived_at + window
    agency = PetitionRow.agency_id == row.agency_id if same_agency else PetitionRow.agency_id != row.agency_id
    candidates = session.execute(
        select(PetitionRow).where(PetitionRow.applicant_ref == row.applicant_ref, PetitionRow.case_id != row.case_id,
                                  agency, PetitionRow.arrived_at >= lo, PetitionRow.arrived_at <= hi)
    ).scalars().all()
    return [c for c in candidates
            if difflib.SequenceMatcher(None, c.content_fingerprint, row.content_fingerprint).ratio() >= SIMILARITY]


def similar_elsewhere(session: Session, row: PetitionRow, window: timedelta) -> list[str]:
    """Where else (municipalities, never case ids) the same applicant filed a near-identical petition
    with another agency: Dangjin D14 wants the same petition to many agencies known, and no agency may
    learn another's case."""
    return sorted({p.municipality_id for p in similar_petitions(session, row, window, same_agency=False)})


def _summary(env: Envelope) -> str:
    p = env.payload
    for attr in ("outcome", "scope", "step", "kind", "period"):
        value = getattr(p, attr, None)
        if value is not None:
            return f"{attr}: {getattr(value, 'value', value)}"
    return ""


