"""The console projection's handler: petition, SLA, compensation and notice events into the read model.

- **Petition facts** are folded by the pure core (``shared.petition_case.apply``) and dated by
  ``shared.petition_clock.case_deadlines``: nothing here re-derives a rule. Each fact is kept, the
  applicant's data removed (``scrub``), so the case can be folded again at the next fact. A fact is
  applied once (its event id), and only as the next version of its case: a gap is refused (the
  runtime parks it) rather than folding a wrong case.
- **Derived events** (SLA, compensation, notices) are judged against petition facts: one whose case,
  or whose case version, has not been read yet returns ``Wait`` (kept durably by the runtime and
  tried again when the case moves), never dropped. Each is applied once (``console_seen_events``).
- **Transfers** (Decree 13): the case becomes the receiving agency's; what happened before stays the
  sending agency's. Each fact keeps the agency handling the case when it happened (a transfer is the
  sender's act), each breach, voucher and remedy the agency handling the case at its case version, each
  evaluation the agency it was given under; a transfer stamps the sending agency's rows with the department
  that last handled the case there, and moves nothing (``orm``'s docstring).
- **Personal data**: the applicant's sealed fields, reference and body are never stored; the title is
  (officials are shown it), and it is never logged: only case ids and event types are.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.console.projection import derived
from services.console.projection.orm import (
    BreachRow,
    CaseFactRow,
    CaseRow,
    EvaluationRow,
    RemedyRow,
    SeenEventRow,
    VoucherRow,
)
from services.platform.consumer import Wait
from shared.charters import CharterBook, NoCharterInForce
from shared.charters.model import Charter
from shared.deadline import DeadlineInputError
from shared.events import Envelope
from shared.events import petition as ev
from shared.events.envelope import from_dict
from shared.periods import UnknownPetitionKind
from shared.petition_case import CaseState, Status, apply, handles
from shared.petition_clock import case_deadlines
from shared.working_time import CalendarRangeError, WorkingCalendar

PAUSE_FACTS = (ev.SupplementRequested, ev.FieldInvestigationStarted)  # Act 22, Decree 17: the clock stops
# What stands in for the applicant's data in a stored fact: it keeps the payload valid, and says nothing.
WITHHELD_SEALED = {"kid": "withheld", "nonce": "", "ciphertext": ""}
WITHHELD_REF = "withheld" * 2  # applicant_ref needs 16 characters; a keyed hash would link the applicant's cases


class VersionConflict(ValueError):
    """A petition fact that is not the next version of its case."""


def scrub(env: Envelope) -> dict[str, Any]:
    """The event as JSON, without the applicant's sealed data, applicant reference or body (free text the
    console does not show). Officials' names and contacts are public-service data (Decree 31): kept."""
    data = env.to_dict()
    payload = dict(data["payload"])
    if isinstance(env.payload, ev.PetitionReceived):
        payload.update(applicant=WITHHELD_SEALED, applicant_ref=WITHHELD_REF, body="")
    data["payload"] = payload
    data["prev_hash"] = None  # the hash chain is the audit's; a scrubbed copy could not verify it anyway
    return data


@dataclass(frozen=True)
class Folded:
    """A case as its facts fold, with what the pure state does not keep: who handles it now, and counts
    an objection's fresh clock would reset (Act 35 restarts pauses and extensions)."""

    state: CaseState
    handling_agency: str
    pauses: int
    extensions: int


def fold_facts(case_id: str, events: Iterable[Envelope]) -> Folded:
    state, agency, pauses, extensions = CaseState(case_id), "", 0, 0
    for env in events:
        state = apply(state, env)
        p = env.payload
        if isinstance(p, ev.PetitionReceived):
            agency = p.agency_id
        elif isinstance(p, ev.PetitionTransferred) and p.scope == "other_agency" and p.to_agency_id:
            agency = p.to_agency_id  # Decree 13: the receiving agency handles it from now on
        pauses += isinstance(p, PAUSE_FACTS)
        extensions += isinstance(p, ev.ProcessingExtended)
    return Folded(state, agency, pauses, extensions)


def stored_facts(session: Session, case_id: str, up_to: int | None = None) -> list[Envelope]:
    q = select(CaseFactRow.envelope).where(CaseFactRow.case_id == case_id)
    if up_to is not None:
        q = q.where(CaseFactRow.version <= up_to)
    return [from_dict(json.loads(raw)) for raw in session.execute(q.order_by(CaseFactRow.version)).scalars()]


class ProjectionHandler:
    def __init__(self, calendar: WorkingCalendar, charters: CharterBook) -> None:
        self.calendar = calendar
        self.charters = charters
        self.applied = 0

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if handles(type(env.payload)):
            return self._fact(session, env)
        with session.no_autoflush:
            case = session.get(CaseRow, env.case_id)
        if case is None or case.version < env.case_version:
            return Wait(f"petition facts up to version {env.case_version or 1} not read yet")
        event_id = str(env.event_id)
        if session.get(SeenEventRow, event_id) is not None:
            return None  # redelivered, or published twice by a relay
        session.add(SeenEventRow(event_id=event_id, case_id=env.case_id))
        derived.apply(session, case, env)
        self.applied += 1
        return None

    # -- petition facts ---------------------------------------------------------------------------
    def _fact(self, session: Session, env: Envelope) -> None:
        event_id = str(env.event_id)
        if session.execute(select(CaseFactRow.version).where(CaseFactRow.event_id == event_id)).first():
            return None
        facts = stored_facts(session, env.case_id)
        if env.case_version != len(facts) + 1:
            raise VersionConflict(f"case {env.case_id}: event version {env.case_version} does not follow "
                                  f"version {len(facts)}")
        folded = fold_facts(env.case_id, [*facts, env])
        row = session.get(CaseRow, env.case_id)
        if row is None:
            row = CaseRow(case_id=env.case_id, charter_id=env.charter.charter_id if env.charter else None,
                          charter_version=env.charter.version if env.charter else None, at_risk=False,
                          statutory_breached=False, target_missed=False)
            session.add(row)
        # who handled the case when the fact happened: the agency (and department) before it
        acting, department = (row.agency_id, row.department) if row.agency_id else (folded.handling_agency, None)
        handed_on = acting != folded.handling_agency
        session.add(CaseFactRow(case_id=env.case_id, version=env.case_version, event_id=event_id,
                                event_type=env.event_type, occurred_at=env.occurred_at,
                                envelope=json.dumps(scrub(env), ensure_ascii=False), agency_id=acting,
                                department=department if handed_on else None))
        self._fill(row, folded)
        if handed_on:
            self._hand_on(session, env.case_id, acting, department)
        self._record(session, row, folded.state, env)
        self.applied += 1
        return None

    def _charter(self, row: CaseRow) -> Charter | None:
        if not row.charter_id or not row.charter_version:
            return None
        try:
            return self.charters.get(row.charter_id, row.charter_version)
        except NoCharterInForce:
            return None  # a charter this release does not carry: the case is shown without its deadlines

    def _fill(self, row: CaseRow, f: Folded) -> None:
        s = f.state
        assert s.petition_type is not None and s.channel is not None and s.arrived_at is not None
        row.agency_id, row.municipality_id = f.handling_agency, s.municipality_id
        row.petition_type, row.petition_kind, row.channel = s.petition_type.value, s.petition_kind, s.channel.value
        row.title, row.department = s.title, s.department
        row.receipt_number, row.case_number = s.receipt_number, s.case_number
        row.official_id = s.official.official_id if s.official else None
        row.official_name = s.official.name if s.official else None
        row.status = s.status.value if s.status else "unknown"
        row.arrived_at, row.received_at, row.resolved_at = s.arrived_at, s.received_at, s.resolved_at
        row.outcome = s.outcome.value if s.outcome else None
        row.paused = s.open_pause
        row.extensions, row.pauses, row.transfers = f.extensions, f.pauses, s.transfers
        row.version = s.version
        row.last_event_at = s.last_event_at  # type: ignore[assignment]
        row.statutory_due_at = row.target_due_at = row.statutory_period = row.counting = None
        row.remaining_working_seconds = row.remaining_working_days = row.processing_working_seconds = None
        try:
            deadlines = case_deadlines(s, self._charter(row), self.calendar)
            row.processing_working_seconds = self._processing(s)
        except (UnknownPetitionKind, CalendarRangeError, DeadlineInputError):
            deadlines = None  # intake refuses these; an old event stays readable without a deadline
        if deadlines is not None:
            row.statutory_due_at = deadlines.statutory.due_at
            row.statutory_period, row.counting = str(deadlines.period), deadlines.statutory.mode.value
            row.remaining_working_seconds = deadlines.statutory.remaining_working_seconds
            row.remaining_working_days = deadlines.statutory.remaining_working_days
            row.target_due_at = deadlines.target.due_at if deadlines.target else None

    def _processing(self, s: CaseState) -> int | None:
        """Working time from receipt to the result, the time paused left out (Decree 20: it does not count)."""
        if s.status not in (Status.RESOLVED, Status.CLOSED) or s.received_at is None or s.resolved_at is None:
            return None
        start, end = s.received_at, s.resolved_at
        paused = sum(max(0, self.calendar.working_seconds_between(max(p.start, start), min(p.end, end)))
                     for p in s.pauses if p.end is not None and p.end > start and p.start < end)
        return max(0, self.calendar.working_seconds_between(start, end) - paused)

    @staticmethod
    def _hand_on(session: Session, case_id: str, agency_id: str, department: str | None) -> None:
        """``agency_id`` transferred the case to another agency: the case is that agency's now (the console
        shows an agency the cases it handles), what happened before stays ``agency_id``'s, counted under
        ``department``, the one that handled it last there."""
        session.flush()
        for table in (CaseFactRow, BreachRow, VoucherRow):
            session.execute(update(table).where(table.case_id == case_id, table.agency_id == agency_id)
                            .values(department=department))

    @staticmethod
    def _record(session: Session, row: CaseRow, s: CaseState, env: Envelope) -> None:
        """What a fact adds besides the case's state: an evaluation, a finding withdrawn."""
        p = env.payload
        if isinstance(p, ev.ResultEvaluated):
            row.evaluation_score, row.evaluation_comment, row.evaluated_at = p.score, p.comment, env.occurred_at
            session.add(EvaluationRow(
                event_id=str(env.event_id), case_id=row.case_id, agency_id=row.agency_id,
                municipality_id=row.municipality_id, petition_type=row.petition_type, department=row.department,
                official_id=row.official_id, official_name=row.official_name, score=p.score, comment=p.comment,
                at=env.occurred_at))
        elif isinstance(p, ev.FindingWithdrawn):
            session.add(RemedyRow(event_id=str(env.event_id), case_id=row.case_id, agency_id=row.agency_id,
                                  kind="finding_withdrawn", cause=p.finding, official_id=None, at=env.occurred_at))
