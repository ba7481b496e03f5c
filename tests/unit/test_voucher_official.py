"""A voucher for a missed deadline names the official the case was assigned to (issue 19, part 6), in the pure
core and in the compensation service's SQL ledger alike; cases filed before case numbers keep the voucher
they were given (no official), so the audit's replay of them agrees with the record."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from services.compensation.ledger.book import SqlLedgerState
from services.compensation.ledger.orm import VoucherRow
from shared.compensation.remedies import Remedies
from shared.compensation.state import InMemoryLedgerState
from shared.events import petition as ev
from tests.unit.test_remedies import BUNDLED, CALENDAR, CHARTERS, NOW, RECEIVED, Case

OFFICIAL = {"name": "박주무관", "department": "도로과", "phone": "041-350-1234", "email": "p@dangjin.go.kr"}


def numbered(n: int, number: bool = True) -> Case:
    case = Case(n, BUNDLED.in_force("dangjin", RECEIVED))
    if number:  # as intake files it since issue 19: with its case number
        case.received = dataclasses.replace(case.received, payload=case.received.payload.model_copy(
            update={"case_number": f"dangjin-2027-{n:06d}"}))
    return case


def assigned(case: Case, official_id: str, hour: int = 11) -> object:
    return case.event(ev.OfficialAssigned(official=ev.Official(official_id=official_id, **OFFICIAL)),
                      datetime(2027, 3, 2, hour, tzinfo=RECEIVED.tzinfo))


def proposed_official(state: object, *events: object) -> str | None:
    remedies = Remedies(CHARTERS, CALENDAR)
    out = [e for env in events for e in remedies.record(state, env, NOW)]  # type: ignore[arg-type]
    [voucher] = [e for e in out if e.event_type == "VoucherProposed"]
    return voucher.payload.official_id


def sql_state():
    engine = create_engine("sqlite://", poolclass=StaticPool)
    VoucherRow.metadata.create_all(engine)
    session = sessionmaker(engine)()
    return SqlLedgerState(session)


@pytest.mark.parametrize("state", [InMemoryLedgerState, sql_state], ids=["in-memory", "sql"])
def test_the_voucher_names_the_official_assigned_when_the_deadline_was_missed(state) -> None:
    case = numbered(1)
    first, second = assigned(case, "o-17"), assigned(case, "o-21", hour=14)  # reassigned before the breach
    assert proposed_official(state(), case.received, first, second, case.breach()) == "o-21"


@pytest.mark.parametrize("state", [InMemoryLedgerState, sql_state], ids=["in-memory", "sql"])
def test_a_transfer_clears_the_official_and_nobody_assigned_names_nobody(state) -> None:
    case = numbered(2)
    first = assigned(case, "o-17")
    moved = case.event(ev.PetitionTransferred(scope="within_agency", to_department="건설과", reason="소관"),
                       datetime(2027, 3, 3, 9, tzinfo=RECEIVED.tzinfo))
    assert proposed_official(state(), case.received, first, moved, case.breach()) is None
    lone = numbered(3)
    assert proposed_official(state(), lone.received, lone.breach()) is None


def test_a_case_filed_before_case_numbers_keeps_the_voucher_it_was_given() -> None:
    case = numbered(4, number=False)
    assert proposed_official(InMemoryLedgerState(), case.received, assigned(case, "o-17"), case.breach()) is None


def test_a_finding_names_the_official_at_fault_not_the_assigned_one() -> None:
    case = numbered(5)
    first = assigned(case, "o-17")
    fault = case.event(ev.RepeatVisitRecorded(official_id="o-9", cause="서류 누락 안내"),
                       datetime(2027, 3, 4, 9, tzinfo=RECEIVED.tzinfo))
    remedies = Remedies(CHARTERS, CALENDAR)
    state = InMemoryLedgerState()
    out = [e for env in (case.received, first, fault) for e in remedies.record(state, env, NOW)]
    assert {e.payload.official_id for e in out if e.event_type == "VoucherProposed"} <= {"o-9"}
    assert uuid.UUID(case.case_id)
