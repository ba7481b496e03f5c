"""The obligation core with a driven clock: opened, at risk, breached once, discharged, suspended, moved."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from shared.charters import CharterBook
from shared.events import Envelope, notice, sla
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.obligations import ObligationBook
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar

CHARTERS = CharterBook.bundled()
OFFICIAL = ev.Official(official_id="o-1", name="박주무관", department="도로과", phone="041-350-1234", email="p@x.kr")


def kst(*a: int) -> datetime:
    return datetime(*a, tzinfo=KST)


class Case:
    """Builds a case's petition events with consecutive versions."""

    def __init__(self, municipality: str = "dangjin", channel: str = "visit", petition_type: str = "grievance",
                 at: datetime = kst(2026, 11, 2, 10), agency: str = "a") -> None:
        self.case_id = str(uuid.uuid4())
        self.version = 0
        self.charter = CHARTERS.in_force(municipality, at)
        self.received = self.event(ev.PetitionReceived(
            municipality_id=municipality, agency_id=agency, petition_type=petition_type, channel=channel, title="t",
            applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="), applicant_ref="r" * 32), at)

    def event(self, payload, at: datetime) -> Envelope:
        self.version += 1
        return Envelope(event_id=uuid.uuid4(), case_id=self.case_id, case_version=self.version, occurred_at=at,
                        recorded_at=at, producer="test", payload=payload,
                        charter=CharterRef(self.charter.id, self.charter.version))


def kinds(events: list[Envelope]) -> list[tuple[str, str]]:
    return [(e.event_type, e.payload.obligation_id) for e in events]


@pytest.fixture
def book(calendar: WorkingCalendar) -> ObligationBook:
    return ObligationBook(calendar, CHARTERS)


def test_a_dangjin_grievance_opens_three_obligations(book: ObligationBook) -> None:
    case = Case()
    opened = book.observe(case.received, kst(2026, 11, 2, 10))
    assert kinds(opened) == [("ObligationOpened", "statutory_deadline"), ("ObligationOpened", "charter_target"),
                             ("ObligationOpened", "interim_notice:1")]
    due = {e.payload.obligation_id: e.payload.due_at for e in opened}
    assert due["statutory_deadline"] == kst(2026, 11, 10, 18)  # 7 days from Mon 11/2 (Decree 17)
    assert due["charter_target"] == kst(2026, 11, 9, 10)  # D4: 5 days = 40 working hours
    assert due["interim_notice:1"] == kst(2026, 12, 2, 10)  # Decree 23: 30 days
    proof = opened[0].payload.proof
    assert proof.rule == "Act 19; Decree 17" and proof.period == "7d" and proof.counting == "working_days"
    assert opened[0].case_version == 1 and opened[0].charter.version == "2024.1"


def test_breaches_fire_once_at_their_due_instant(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    assert book.due(kst(2026, 11, 6, 9)) != []  # at-risk warnings (75% used) come first
    at_risk = [e for e in book.due(kst(2026, 11, 9, 9, 59)) if e.event_type == "ObligationAtRisk"]
    assert at_risk == []  # each warning only once
    warning = book.due(kst(2026, 11, 9, 10))
    assert kinds(warning) == [("ObligationBreached", "charter_target")]
    assert warning[0].payload.severity == "warning" and not warning[0].payload.citizen_facing
    late = book.due(kst(2026, 11, 12, 9))  # detected two days late: still stamped with the due instant
    breach = [e for e in late if e.event_type == "ObligationBreached"]
    assert kinds(breach) == [("ObligationBreached", "statutory_deadline")]
    assert breach[0].occurred_at == kst(2026, 11, 10, 18) and breach[0].recorded_at == kst(2026, 11, 12, 9)
    assert breach[0].payload.severity == "breach" and breach[0].payload.proof.calendar_version == book.calendar.version
    assert [e for e in book.due(kst(2026, 11, 13)) if e.event_type == "ObligationBreached"] == []


def test_the_timer_heap_holds_one_entry_per_open_obligation_through_its_warning_and_breach(
        book: ObligationBook) -> None:
    """Each obligation has one timer waiting at a time (warning, then the breach built ahead, then the
    breach): a million open obligations are a million heap entries, not three million; and each timer,
    once fired, still brings the next in its turn, whatever instants the clock jumps to."""
    cases = [Case() for _ in range(5)]
    for case in cases:
        book.observe(case.received, kst(2026, 11, 2, 10))
    assert len(book._heap) == book.open_count() == 15
    fired = []
    for at in (kst(2026, 11, 6, 9), kst(2026, 11, 9, 9, 59, 40), kst(2026, 11, 9, 10), kst(2026, 11, 12, 9)):
        fired += book.due(at)
        assert len(book._heap) == book.open_count()
    statutory = [e for e in fired if e.event_type == "ObligationBreached" and e.payload.obligation_id ==
                 "statutory_deadline"]
    warned = [e for e in fired if e.event_type == "ObligationAtRisk"]
    assert len(statutory) == 5 and len(warned) == 10  # statutory and charter target warned; interim not yet due
    assert {e.occurred_at for e in statutory} == {kst(2026, 11, 10, 18)}


def test_resolution_discharges(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(case.event(ev.PetitionResolved(outcome="accepted", explanation="done"), kst(2026, 11, 5, 10)),
                       kst(2026, 11, 5, 10))
    assert sorted(kinds(out)) == [("ObligationDischarged", "charter_target"), ("ObligationDischarged", "interim_notice:1"),
                                  ("ObligationDischarged", "statutory_deadline")]
    assert all(e.payload.on_time for e in out)
    assert book.due(kst(2027, 1, 1)) == [] and book.open_count() == 0


def test_pause_suspends_and_resume_reopens(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(case.event(ev.SupplementRequested(items="사진"), kst(2026, 11, 4, 10)), kst(2026, 11, 4, 10))
    suspended = {e.payload.obligation_id: e for e in out if e.event_type == "ObligationSuspended"}
    assert set(suspended) == {"statutory_deadline", "charter_target"}
    assert suspended["statutory_deadline"].payload.remaining_working_days == 5
    assert [e for e in book.due(kst(2026, 11, 20)) if e.event_type == "ObligationBreached"] == []  # paused: no breach
    out = book.observe(case.event(ev.SupplementReceived(), kst(2026, 11, 6, 15)), kst(2026, 11, 6, 15))
    reopened = {e.payload.obligation_id: e.payload.due_at for e in out if e.event_type == "ObligationOpened"}
    assert reopened["statutory_deadline"] == kst(2026, 11, 12, 18)


def test_extension_moves_the_deadline(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(case.event(ev.ProcessingExtended(period="7d", reason="협의",
                                                        expected_completion=kst(2026, 11, 19, 18)), kst(2026, 11, 9, 10)),
                       kst(2026, 11, 9, 10))
    moved = [e for e in out if e.payload.obligation_id == "statutory_deadline"]
    assert moved[0].event_type == "ObligationOpened"
    assert moved[0].payload.replaces_due_at == kst(2026, 11, 10, 18)
    assert moved[0].payload.due_at == kst(2026, 11, 19, 18)  # +7 working days from 11/11
    assert moved[0].payload.proof.extensions == ("7d",)


def test_event_ids_are_deterministic(calendar: WorkingCalendar) -> None:
    case = Case()
    a, b = ObligationBook(calendar, CHARTERS), ObligationBook(calendar, CHARTERS)
    assert [e.event_id for e in a.observe(case.received, kst(2026, 11, 2, 10))] == \
        [e.event_id for e in b.observe(case.received, kst(2026, 11, 2, 11))]
    assert [e.event_id for e in a.due(kst(2026, 11, 11))] == [e.event_id for e in b.due(kst(2026, 11, 12))]


def test_restart_emits_what_fell_due_while_down_once(calendar: WorkingCalendar) -> None:
    case = Case()
    live = ObligationBook(calendar, CHARTERS)
    live_opened = live.observe(case.received, kst(2026, 11, 2, 10))
    emitted = live.due(kst(2026, 11, 9, 12))  # the target warning and some at-risk events were emitted
    # the monitor is down past the statutory deadline; it restarts from the log
    restarted = ObligationBook(calendar, CHARTERS)
    opened = live_opened
    assert restarted.restore([case.received], opened + emitted, kst(2026, 11, 11, 9)) == []
    after = restarted.due(kst(2026, 11, 11, 9))
    assert [e.payload.obligation_id for e in after if e.event_type == "ObligationBreached"] == ["statutory_deadline"]
    assert not {e.event_id for e in after} & {e.event_id for e in emitted}
    again = ObligationBook(calendar, CHARTERS)
    again.restore([case.received], live_opened + emitted + after, kst(2026, 11, 11, 10))
    assert again.due(kst(2026, 11, 11, 10)) == []
    # a monitor that never saw the case derives its openings on restore, with the same ids
    fresh = ObligationBook(calendar, CHARTERS)
    assert [e.event_id for e in fresh.restore([case.received], [], kst(2026, 11, 2, 11))] == \
        [e.event_id for e in live_opened]


def test_backdated_resolution_voids_an_emitted_breach(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    book.due(kst(2026, 11, 11, 9))  # statutory breach emitted at wall time
    out = book.observe(case.event(ev.PetitionResolved(outcome="accepted", explanation="x"), kst(2026, 11, 10, 17)),
                       kst(2026, 11, 11, 10))
    voided = [e for e in out if e.payload.obligation_id == "statutory_deadline"]
    assert voided[0].event_type == "ObligationDischarged" and voided[0].payload.voids_breach


def test_electronic_receipt_and_late_transfer(book: ObligationBook) -> None:
    case = Case(channel="internet", at=kst(2026, 11, 2, 16))
    opened = book.observe(case.received, kst(2026, 11, 2, 16))
    assert kinds(opened) == [("ObligationOpened", "formal_receipt")]
    assert opened[0].payload.due_at == kst(2026, 11, 3, 16)  # 8 working hours: Mon 2h, Tue 3h + 3h (Decree 6-7)
    out = book.observe(case.event(ev.ReceiptRecorded(), kst(2026, 11, 3, 16, 30)), kst(2026, 11, 3, 16, 30))
    assert ("ObligationDischarged", "formal_receipt") in kinds(out)
    assert not [e for e in out if e.payload.obligation_id == "formal_receipt"][0].payload.on_time
    out = book.observe(case.event(ev.PetitionTransferred(scope="other_agency", to_agency_id="b", reason="소관"),
                                  kst(2026, 11, 5, 10)), kst(2026, 11, 5, 10))
    transfer = [e for e in out if e.payload.obligation_id.startswith("transfer")]
    assert transfer[0].event_type == "ObligationBreached"  # 8 working hours from receipt ran out 11/4 16:30
    assert transfer[0].occurred_at == kst(2026, 11, 4, 16, 30)


def test_yeonje_gu_callback_and_opinion(book: ObligationBook) -> None:
    case = Case(municipality="yeonje-gu", petition_type="other", channel="phone")
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(case.event(ev.CallbackPromised(callback_id="cb1"), kst(2026, 11, 2, 17)), kst(2026, 11, 2, 17))
    cb = [e for e in out if e.payload.obligation_id == "callback:cb1"][0]
    assert cb.payload.due_at == kst(2026, 11, 3, 11)  # 3 working hours: 17-18, then 9-11
    out = book.observe(case.event(ev.OpinionRecorded(opinion_id="op", kind="complaint", opinion_class="complex"),
                                  kst(2026, 11, 2, 17)), kst(2026, 11, 2, 17))
    assert {e.payload.obligation_id: e.payload.due_at for e in out} == {
        "opinion_acknowledgement:op": kst(2026, 11, 3, 11), "opinion_answer:op": kst(2026, 11, 10, 18)}
    out = book.observe(case.event(ev.CallbackMade(callback_id="cb1"), kst(2026, 11, 3, 10)), kst(2026, 11, 3, 10))
    assert ("ObligationDischarged", "callback:cb1") in kinds(out)


def test_payload_types_are_registered() -> None:
    for model in (sla.ObligationOpened, sla.ObligationAtRisk, sla.ObligationBreached, sla.ObligationDischarged,
                  sla.ObligationSuspended):
        from shared.events.registry import type_of

        assert type_of(model)[1] == 1


def notice_sent(case: Case, kind: str, notice_id: str, at: datetime) -> Envelope:
    # notices are not part of the case's version sequence: case_version 0
    return Envelope(event_id=uuid.uuid4(), case_id=case.case_id, case_version=0, occurred_at=at, recorded_at=at,
                    producer="notify", payload=notice.NoticeSent(
                        notice_id=notice_id, kind=kind, channel="sms", cause_event_id="e", template_id=kind,
                        template_version="1", content_sha256="0" * 64, attempts=1))


def test_an_extension_owes_a_notice_before_the_original_deadline(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(case.event(ev.ProcessingExtended(period="7d", reason="협의",
                                                        expected_completion=kst(2026, 11, 19, 18)), kst(2026, 11, 9, 10)),
                       kst(2026, 11, 9, 10))
    owed = [e for e in out if e.payload.obligation_id == "extension_notice:1"]
    assert owed[0].event_type == "ObligationOpened" and owed[0].payload.kind == "extension_notice"
    assert owed[0].payload.due_at == kst(2026, 11, 10, 18)  # the deadline the extension moved (Decree 21)
    assert owed[0].payload.proof.rule == "Decree 21"
    sent = notice_sent(case, "extension", "n-1", kst(2026, 11, 9, 11))
    out = book.observe(sent, kst(2026, 11, 9, 11))
    assert kinds(out) == [("ObligationDischarged", "extension_notice:1")] and out[0].payload.on_time
    assert book.observe(sent, kst(2026, 11, 9, 12)) == [] and not book.accepts(sent)  # a redelivered notice
    assert [e for e in book.due(kst(2026, 11, 11)) if e.payload.kind == "extension_notice"] == []


def test_an_extension_never_told_is_breached(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    book.observe(case.event(ev.ProcessingExtended(period="7d", reason="협의",
                                                  expected_completion=kst(2026, 11, 19, 18)), kst(2026, 11, 9, 10)),
                 kst(2026, 11, 9, 10))
    breached = [e for e in book.due(kst(2026, 11, 10, 18)) if e.event_type == "ObligationBreached"
                and e.payload.kind == "extension_notice"]
    assert kinds(breached) == [("ObligationBreached", "extension_notice:1")]
    assert breached[0].payload.citizen_facing


def test_an_interim_notice_sent_by_notify_discharges_the_interim_obligation(book: ObligationBook) -> None:
    case = Case()
    book.observe(case.received, kst(2026, 11, 2, 10))
    out = book.observe(notice_sent(case, "interim", "n-2", kst(2026, 12, 1, 10)), kst(2026, 12, 1, 10))
    assert ("ObligationDischarged", "interim_notice:1") in kinds(out)
    assert ("ObligationOpened", "interim_notice:2") in kinds(out)


def test_a_snapshot_restores_the_case_and_its_marks(calendar: WorkingCalendar) -> None:
    case = Case()
    live = ObligationBook(calendar, CHARTERS)
    live.observe(case.received, kst(2026, 11, 2, 10))
    first = live.due(kst(2026, 11, 9, 12))  # target warning and at-risk warnings fired by the clock
    marks = live.marks_of(case.case_id)
    assert ["charter_target", int(kst(2026, 11, 9, 10).timestamp())] in marks["breached"]
    restored = ObligationBook(calendar, CHARTERS)
    restored.restore_case([case.received], marks, kst(2026, 11, 11, 9))
    after = restored.due(kst(2026, 11, 11, 9))
    assert not {e.event_id for e in after} & {e.event_id for e in first}
    assert [e.payload.obligation_id for e in after if e.event_type == "ObligationBreached"] == ["statutory_deadline"]
    assert restored.marks_of("unknown") == {"breached": [], "at_risk": []}


def test_the_same_events_whichever_topic_is_read_first(calendar: WorkingCalendar) -> None:
    case = Case()
    extended = case.event(ev.ProcessingExtended(period="7d", reason="협의", expected_completion=kst(2026, 11, 19, 18)),
                          kst(2026, 11, 9, 10))
    sent = notice_sent(case, "extension", "n-1", kst(2026, 11, 9, 11))

    def events(order: list) -> set:
        book = ObligationBook(calendar, CHARTERS)
        out = [e for env in order for e in book.observe(env, kst(2026, 11, 9, 12))]
        return {(e.event_id, e.event_type, e.case_version, e.occurred_at, e.payload.model_dump_json()) for e in out}

    in_order = events([case.received, extended, sent])
    assert events([case.received, sent, extended]) == in_order  # the notice read before the extension
    assert events([sent, case.received, extended]) == in_order  # ... and before the case's receipt
    assert {t for _, t, *_ in in_order} >= {"ObligationOpened", "ObligationDischarged"}


def test_restoring_a_case_never_fires_the_timers_of_cases_restored_before_it(calendar: WorkingCalendar) -> None:
    """Issue: restore_case fired every earlier-restored case's timers up to each fact and discarded them,
    so their breaches were marked done and never emitted."""
    early, late = Case(at=kst(2026, 11, 2, 10)), Case(at=kst(2026, 11, 20, 10))
    book = ObligationBook(calendar, CHARTERS)
    book.restore_case([early.received], {}, kst(2026, 11, 30, 9))
    book.restore_case([late.received], {}, kst(2026, 11, 30, 9))  # recorded after early's deadline
    fired = book.due(kst(2026, 11, 30, 9))
    assert ("ObligationBreached", "statutory_deadline") in [
        (e.event_type, e.payload.obligation_id) for e in fired if e.case_id == early.case_id]


def test_a_fact_the_calendar_cannot_count_is_refused_and_leaves_the_case_as_it_was(book: ObligationBook) -> None:
    case = Case(municipality="yeonje-gu")
    book.observe(case.received, kst(2026, 11, 2, 10))
    before = (book.open_count(), book.marks_of(case.case_id), book.next_due_epoch())
    typo = case.event(ev.CallbackPromised(callback_id="cb1", requested_at=kst(2206, 11, 3, 10)), kst(2026, 11, 2, 11))
    with pytest.raises(ValueError):
        book.observe(typo, kst(2026, 11, 2, 11))
    assert (book.open_count(), book.marks_of(case.case_id), book.next_due_epoch()) == before
    assert book.accepts(typo)  # not taken: it can be tried again (or skipped) later
    fine = case.event(ev.CallbackPromised(callback_id="cb2"), kst(2026, 11, 2, 11))
    fine = Envelope(event_id=fine.event_id, case_id=fine.case_id, case_version=2, occurred_at=fine.occurred_at,
                    recorded_at=fine.recorded_at, producer="test", payload=fine.payload, charter=fine.charter)
    assert ("ObligationOpened", "callback:cb2") in kinds(book.observe(fine, kst(2026, 11, 2, 11)))


def test_event_ids_are_those_earlier_releases_gave_except_for_a_reopening(book: ObligationBook) -> None:
    """uuid5(case|obligation|due|type): logs written before openings were keyed by their cause still replay.
    Only an obligation opened again with the same due instant (a pause that cost no working day) gets
    its cause in the key, so the two openings are two decisions."""
    from shared.obligations import EVENT_NAMESPACE

    case = Case(at=kst(2026, 11, 2, 10))
    first = book.observe(case.received, kst(2026, 11, 2, 10))
    for e in first:
        key = f"{case.case_id}|{e.payload.obligation_id}|{int(e.payload.due_at.timestamp())}|{e.event_type}"
        assert e.event_id == uuid.uuid5(EVENT_NAMESPACE, key)
    pause = book.observe(case.event(ev.SupplementRequested(items="사진"), kst(2026, 11, 3, 10)), kst(2026, 11, 3, 10))
    again = book.observe(case.event(ev.SupplementReceived(), kst(2026, 11, 3, 15)), kst(2026, 11, 3, 15))
    reopened = [e for e in again if e.payload.obligation_id == "statutory_deadline"]
    assert reopened and reopened[0].payload.due_at == first[0].payload.due_at  # the day's close was not paused
    assert reopened[0].event_id != first[0].event_id
    assert len({e.event_id for e in first + pause + again}) == len(first + pause + again)


def test_a_breach_built_ahead_is_built_again_after_a_fact_of_its_case(book: ObligationBook) -> None:
    """A breach is built ahead of its instant (PREPARE_AHEAD_SECONDS); a fact recorded in between (a new
    official: the due instant stays) changes the case's version and the proof's basis. The breach sent must
    be the one built at its instant, as the replay builds it, not the one built before the fact."""
    from datetime import timedelta

    from shared.obligations import PREPARE_AHEAD_SECONDS

    case = Case()
    opened = {e.payload.obligation_id: e.payload.due_at for e in book.observe(case.received, kst(2026, 11, 2, 10))}
    due = opened["charter_target"]
    early = book.due(due - timedelta(seconds=PREPARE_AHEAD_SECONDS))  # the breach built, not sent
    assert "ObligationBreached" not in {e.event_type for e in early} and book._prepared
    assigned = case.event(ev.OfficialAssigned(official=OFFICIAL), due - timedelta(seconds=2))
    book.observe(assigned, due - timedelta(seconds=2))
    breach = [e for e in book.due(due) if e.event_type == "ObligationBreached"]
    assert [e.payload.obligation_id for e in breach] == ["charter_target"]
    assert breach[0].case_version == 2 and breach[0].payload.proof.basis_event_id == str(assigned.event_id)
