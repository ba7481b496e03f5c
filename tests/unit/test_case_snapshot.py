"""The monitor's compact snapshot: a case restored from it is the case the live book held, however long its
history, and restoring it folds nothing (issue 21: restart time independent of a case's history length)."""
from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from shared.case_snapshot import decode_state, encode_state
from shared.events import Envelope
from shared.events import petition as ev
from shared.obligations import SNAPSHOT_FORMAT, ObligationBook
from shared.working_time import WorkingCalendar
from tests.unit.test_obligations import CHARTERS, OFFICIAL, Case, kst, notice_sent


def long_case(reassignments: int) -> tuple[Case, list[Envelope]]:
    """A Yeonje-gu case that went through most of what a case can: assignment, a callback and an opinion,
    a supplement pause, an extension and its notice, and then as many reassignments as asked."""
    case = Case(municipality="yeonje-gu", petition_type="other", at=kst(2026, 11, 2, 10))
    at = kst(2026, 11, 2, 11)
    facts = [case.received,
             case.event(ev.OfficialAssigned(official=OFFICIAL, guardian=OFFICIAL), at),
             case.event(ev.CallbackPromised(callback_id="cb1"), kst(2026, 11, 2, 12)),
             case.event(ev.OpinionRecorded(opinion_id="op1", kind="complaint", opinion_class="simple"), kst(2026, 11, 2, 13)),
             case.event(ev.SupplementRequested(items="사진"), kst(2026, 11, 2, 14)),
             case.event(ev.SupplementReceived(), kst(2026, 11, 3, 10)),
             case.event(ev.ProcessingExtended(period="2h", reason="협의", expected_completion=kst(2026, 11, 4, 18)),
                        kst(2026, 11, 3, 11))]
    facts.append(notice_sent(case, "extension", "n-ext", kst(2026, 11, 3, 11, 5)))
    for n in range(reassignments):
        official = OFFICIAL.model_copy(update={"official_id": f"o-{n}", "name": f"담당자{n}"})
        facts.append(case.event(ev.OfficialAssigned(official=official), kst(2026, 11, 3, 12)))
    return case, facts


def live_book(calendar: WorkingCalendar, facts: list[Envelope], now: datetime) -> ObligationBook:
    book = ObligationBook(calendar, CHARTERS)
    for env in facts:
        book.due_before(env, now)
        book.observe(env, now)
    book.due(now)  # some warnings and breaches fired by the clock: they are part of what a snapshot keeps
    return book


def restored(calendar: WorkingCalendar, book: ObligationBook, case_id: str) -> ObligationBook:
    again = ObligationBook(calendar, CHARTERS)
    again.restore_snapshot(orjson.loads(orjson.dumps(book.snapshot_of(case_id))))  # as the table stores it
    return again


def outcome(book: ObligationBook, resolved: Envelope, until: datetime) -> list[tuple]:
    """What the book decides from here: the case resolved, then the clock run far ahead."""
    out = book.due_before(resolved, until) + book.observe(resolved, until) + book.due(until)
    return [(e.event_id, e.event_type, e.occurred_at, e.payload.model_dump_json()) for e in out]


@pytest.mark.parametrize("now", [kst(2026, 11, 3, 13), kst(2026, 11, 4, 17), kst(2026, 11, 6, 9)])
def test_a_case_restored_from_its_snapshot_decides_as_the_live_case(calendar: WorkingCalendar, now: datetime) -> None:
    case, facts = long_case(reassignments=5)
    live = live_book(calendar, facts, now)
    again = restored(calendar, live, case.case_id)
    assert again.snapshot_of(case.case_id) == live.snapshot_of(case.case_id)
    assert again.open_by_kind() == live.open_by_kind() and again.next_due_epoch() == live.next_due_epoch()
    assert again.marks_of(case.case_id) == live.marks_of(case.case_id)
    # the same decisions from here, with the same ids: a restart neither repeats nor loses one
    resolved = case.event(ev.PetitionResolved(outcome="accepted", explanation="done"), kst(2026, 11, 5, 10))
    assert outcome(again, resolved, kst(2026, 12, 31)) == outcome(live, resolved, kst(2026, 12, 31))


def test_the_snapshot_does_not_grow_with_the_history(calendar: WorkingCalendar) -> None:
    sizes = {}
    for n in (0, 50):
        case, facts = long_case(reassignments=n)
        snap = live_book(calendar, facts, kst(2026, 11, 3, 13)).snapshot_of(case.case_id)
        assert snap is not None and "facts" not in snap
        sizes[n] = len(orjson.dumps(snap))
    assert sizes[50] < sizes[0] * 1.1, sizes  # a new official's name, not fifty facts


def test_the_state_round_trips_field_by_field_and_defaults_are_left_out(calendar: WorkingCalendar) -> None:
    case, facts = long_case(reassignments=1)
    book = live_book(calendar, facts, kst(2026, 11, 3, 13))
    state = book._cases[case.case_id].state
    data = orjson.loads(orjson.dumps(encode_state(state)))
    assert decode_state(data) == state
    assert "objections" not in data and "closed_at" not in data  # at their defaults
    assert data["official"]["official_id"] == "o-0" and data["pauses"][0]["end"] is not None


def test_a_snapshot_from_a_newer_release_is_refused_not_misread(calendar: WorkingCalendar) -> None:
    case, facts = long_case(reassignments=0)
    snap = live_book(calendar, facts, kst(2026, 11, 3, 13)).snapshot_of(case.case_id)
    assert snap is not None
    book = ObligationBook(calendar, CHARTERS)
    with pytest.raises(ValueError, match="format"):
        book.restore_snapshot({**snap, "format": SNAPSHOT_FORMAT + 1})
    with pytest.raises(ValueError, match="ranked"):
        book.restore_snapshot({**snap, "state": {**snap["state"], "ranked": 3}})
    assert book.open_count() == 0 and book.snapshot_of(case.case_id) is None  # nothing half-restored


def test_notices_read_before_the_receipt_are_kept(calendar: WorkingCalendar) -> None:
    case = Case()
    early = notice_sent(case, "interim", "n-early", kst(2026, 11, 2, 9))
    book = ObligationBook(calendar, CHARTERS)
    book.observe(early, kst(2026, 11, 2, 9))
    again = ObligationBook(calendar, CHARTERS)
    assert again.restore_snapshot(orjson.loads(orjson.dumps(book.snapshot_of(case.case_id)))) == case.case_id
    decided = [outcome(b, case.received, kst(2026, 12, 31)) for b in (again, book)]
    assert decided[0] == decided[1] and decided[0]  # the receipt, then the notice read before it, applied
