"""Issue 19 in the pure core: receipt and case numbers on PetitionReceived v2 and the case's reference,
Korean telephone numbers, the default notice channels, and every clock of a case as of an instant."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.case_clocks import case_clocks, remaining
from shared.charters import CharterBook
from shared.events import Envelope, decode, encode, notice
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.notices.channels import Contacts, default_channels, promised_channels
from shared.petition_case import fold
from shared.phones import NotAKoreanNumber, domestic, kind_of, parse
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar

CHARTERS = CharterBook.bundled()
SEALED = Sealed(kid="k", nonce="bg==", ciphertext="Yw==")
OFFICIAL = ev.Official(official_id="o-1", name="박주무관", department="도로과", phone="041-350-1234", email="p@x.kr")


def kst(*a: int) -> datetime:
    return datetime(*a, tzinfo=KST)


class Case:
    def __init__(self, channel: str = "visit", at: datetime = kst(2026, 11, 2, 10), **numbers: str) -> None:
        self.case_id = str(uuid.uuid4())
        self.version = 0
        self.charter = CHARTERS.in_force("dangjin", at)
        self.events: list[Envelope] = []
        self.received = self.event(ev.PetitionReceived(
            municipality_id="dangjin", agency_id="a", petition_type="grievance", channel=channel, title="t",
            applicant=SEALED, applicant_ref="r" * 32, **numbers), at)

    def event(self, payload, at: datetime, recorded: datetime | None = None) -> Envelope:
        self.version += 1
        env = Envelope(event_id=uuid.uuid4(), case_id=self.case_id, case_version=self.version, occurred_at=at,
                       recorded_at=recorded or at, producer="test", payload=payload,
                       charter=CharterRef(self.charter.id, self.charter.version))
        self.events.append(env)
        return env

    def notice(self, kind: str, channel: str, cause: Envelope, at: datetime) -> Envelope:
        return Envelope(event_id=uuid.uuid4(), case_id=self.case_id, case_version=0, occurred_at=at, recorded_at=at,
                        producer="notify", payload=notice.NoticeSent(
                            notice_id=f"n-{kind}-{channel}", kind=kind, channel=channel,
                            cause_event_id=str(cause.event_id), template_id=kind, template_version="1",
                            content_sha256="0" * 64, attempts=1, figures_as_of=at))


# -- numbers ---------------------------------------------------------------------------------------
def test_a_v1_petition_is_upcast_with_no_numbers_and_keeps_its_case_id_as_reference() -> None:
    case = Case()
    data = json.loads(encode(case.received))
    data["schema_version"] = 1
    for name in ("receipt_number", "case_number"):
        data["payload"].pop(name, None)
    old = decode(json.dumps(data).encode())
    assert old.schema_version == 2 and old.payload.receipt_number is None and old.payload.case_number is None
    # a receipt number recorded later is kept, but the old case is still called by its id (its notices re-render)
    state = fold(case.case_id, [old, case.event(ev.ReceiptRecorded(receipt_number="2AA-1"), kst(2026, 11, 2, 11))])
    assert state.receipt_number == "2AA-1" and state.reference == case.case_id


def test_the_reference_is_the_receipt_number_else_the_case_number() -> None:
    numbered = Case(case_number="dangjin-2026-000123")
    assert fold(numbered.case_id, numbered.events).reference == "dangjin-2026-000123"
    given = Case(case_number="dangjin-2026-000124", receipt_number="민원-2026-77")
    assert fold(given.case_id, given.events).reference == "민원-2026-77"
    electronic = Case(channel="internet", case_number="dangjin-2026-000125")
    electronic.event(ev.ReceiptRecorded(receipt_number="2AA-2611-0001"), kst(2026, 11, 2, 11))
    state = fold(electronic.case_id, electronic.events)
    assert state.reference == "2AA-2611-0001" and state.case_number == "dangjin-2026-000125"


@pytest.mark.parametrize("number", ["", "a" * 41, "2026\n123", "<b>", "-12"])
def test_a_receipt_number_is_bounded(number: str) -> None:
    with pytest.raises(ValidationError):
        Case(receipt_number=number)


# -- telephone numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize("written, e164, kind", [
    ("010-1234-5678", "+821012345678", "mobile"), ("01012345678", "+821012345678", "mobile"),
    ("+82 10-1234-5678", "+821012345678", "mobile"), ("+82 (0)10 1234 5678", "+821012345678", "mobile"),
    ("0082-10-1234-5678", "+821012345678", "mobile"), ("011-123-4567", "+82111234567", "mobile"),
    ("02-123-4567", "+8221234567", "landline"), ("(02) 1234-5678", "+82212345678", "landline"),
    ("031-123-4567", "+82311234567", "landline"), ("+82 41 350 1234", "+82413501234", "landline"),
    ("070-1234-5678", "+827012345678", "internet_phone"), ("1588-1234", "+8215881234", "representative"),
    ("080-123-4567", "+82801234567", "toll_free"), ("0505-123-4567", "+825051234567", "personal_number"),
])
def test_every_korean_number_is_read_and_kept_in_e164(written: str, e164: str, kind: str) -> None:
    phone = parse(written)
    assert (phone.e164, phone.kind) == (e164, kind)
    assert phone.sms_capable is (kind == "mobile")
    assert parse(phone.e164) == phone and kind_of(phone.e164) == kind  # a stored number reads back the same
    assert domestic(phone.e164) == phone.domestic and phone.domestic.isdigit()


@pytest.mark.parametrize("written", ["010-1234", "+1 202 555 0100", "12345", "phone", "020-123-4567",
                                     "010-1234-56789", "0" * 31, "+8210", "010-1234-5678 ext 3"])
def test_what_is_no_korean_number_is_refused(written: str) -> None:
    with pytest.raises(NotAKoreanNumber):
        parse(written)


def test_domestic_leaves_what_is_not_e164_as_it_was() -> None:
    assert domestic("010-1234-5678") == "010-1234-5678"  # as an earlier release stored it
    assert domestic("+821012345678") == "01012345678"


# -- default channels ------------------------------------------------------------------------------
def test_default_channels_are_the_promised_ones_with_a_contact() -> None:
    dangjin = CHARTERS.in_force("dangjin", kst(2026, 11, 2, 10))
    assert promised_channels(dangjin) == ("sms", "inbox", "email", "phone")  # result notice, then interim
    assert default_channels(dangjin, Contacts(mobile=True, email=True)) == ("sms", "inbox", "email")
    assert default_channels(dangjin, Contacts(mobile=False, email=True)) == ("inbox", "email")  # a landline: no SMS
    assert default_channels(dangjin, Contacts()) == ("inbox",)  # the inbox needs no contact
    silent = CHARTERS.in_force("seongnam", kst(2026, 11, 2, 10))
    assert promised_channels(silent) == ()
    assert default_channels(silent, Contacts(mobile=True)) == ("sms", "inbox")  # promising none: every one sent
    assert default_channels(None, Contacts(email=True, address=True)) == ("email", "inbox")


# -- clocks ----------------------------------------------------------------------------------------
def test_running_clocks_show_the_working_time_left_at_the_instant(calendar: WorkingCalendar) -> None:
    case = Case()
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [], CHARTERS, calendar,
                                                      kst(2026, 11, 4, 14))}
    statutory = clocks["statutory_deadline"]
    assert statutory.state == "running" and statutory.due_at == kst(2026, 11, 10, 18)  # 7 days from Mon 11/2
    # Wed 14:00: Wed, Thu, Fri, Mon, Tue still count (5 working days); 4 h today + 4 x 8 h to the due instant
    assert statutory.remaining.working_days == 5 and statutory.remaining.working_seconds == 36 * 3600
    assert statutory.remaining.text == "5 working days left"
    target = clocks["charter_target"]  # 5 days = 40 working hours, counted in time
    assert target.due_at == kst(2026, 11, 9, 10) and target.remaining.working_seconds == 21 * 3600
    assert (target.remaining.working_days, target.remaining.text) == (2, "2 working days and 5 working hours left")
    assert clocks["interim_notice:1"].counting == "calendar_days" and clocks["interim_notice:1"].state == "running"
    # a day-counted clock after its day's desks closed: that day no longer counts
    assert remaining(calendar, kst(2026, 11, 10, 18), "working_days", kst(2026, 11, 4, 18, 30)).working_days == 4
    assert remaining(calendar, kst(2026, 11, 10, 18), "working_days", kst(2026, 11, 11, 9)).working_days == 0


def test_paused_kept_and_breached_clocks(calendar: WorkingCalendar) -> None:
    case = Case()
    case.event(ev.SupplementRequested(items="도면"), kst(2026, 11, 3, 10))
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [], CHARTERS, calendar,
                                                      kst(2026, 11, 4, 10))}
    assert clocks["statutory_deadline"].state == "paused" and clocks["statutory_deadline"].due_at is None
    assert clocks["statutory_deadline"].remaining.working_days == 6  # Tue's desks had not closed: 6 days left
    case.event(ev.SupplementReceived(), kst(2026, 11, 5, 10))
    resolved = case.event(ev.PetitionResolved(outcome="accepted", explanation="고쳤습니다"), kst(2026, 11, 12, 10))
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [], CHARTERS, calendar,
                                                      kst(2026, 11, 13, 10))}
    statutory = clocks["statutory_deadline"]
    assert statutory.state == "kept" and statutory.discharged_by.event_id == str(resolved.event_id)
    assert statutory.discharged_by.event_type == "PetitionResolved" and statutory.remaining is None
    target = clocks["charter_target"]
    assert target.state == "breached" and not target.citizen_facing and target.breached_due_at == (target.due_at,)


def test_a_clock_lists_the_notices_that_discharged_it(calendar: WorkingCalendar) -> None:
    case = Case(at=kst(2026, 9, 1, 10))
    extended = case.event(ev.ProcessingExtended(period="7d", reason="현장 확인", expected_completion=kst(2026, 9, 18, 18)),
                          kst(2026, 9, 8, 10))
    sms = case.notice("extension", "sms", extended, kst(2026, 9, 8, 10, 1))
    inbox = case.notice("extension", "inbox", extended, kst(2026, 9, 8, 10, 1))
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [sms, inbox], CHARTERS, calendar,
                                                      kst(2026, 9, 9, 10))}
    told = clocks["extension_notice:1"]
    assert told.state == "kept" and told.discharged_by.event_id == str(sms.event_id)
    assert [(n.notice_id, n.channel) for n in told.notices] == [("n-extension-sms", "sms"),
                                                                 ("n-extension-inbox", "inbox")]
    assert clocks["statutory_deadline"].due_at > kst(2026, 9, 10, 18)  # moved by the extension, still running
    # the interim notice an official records by hand discharges its clock too
    case.event(ev.InterimNoticeRecorded(progress="검토 중", expected_completion=kst(2026, 9, 18, 18)),
               kst(2026, 9, 30, 10))
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [], CHARTERS, calendar,
                                                      kst(2026, 10, 1, 10))}
    assert clocks["interim_notice:1"].state == "kept"
    assert [(n.kind, n.channel) for n in clocks["interim_notice:1"].notices] == [("interim", None)]
    assert clocks["interim_notice:2"].state == "running"


def test_an_electronic_petition_waits_for_formal_receipt(calendar: WorkingCalendar) -> None:
    case = Case(channel="internet", at=kst(2026, 11, 2, 10))
    late = case_clocks(case.case_id, case.events, [], CHARTERS, calendar, kst(2026, 11, 4, 10))
    assert [(c.obligation_id, c.state) for c in late] == [("formal_receipt", "breached")]
    case.event(ev.ReceiptRecorded(), kst(2026, 11, 2, 15))
    clocks = {c.obligation_id: c for c in case_clocks(case.case_id, case.events, [], CHARTERS, calendar,
                                                      kst(2026, 11, 2, 16))}
    assert clocks["formal_receipt"].state == "kept" and clocks["formal_receipt"].discharged_by.on_time
    assert clocks["statutory_deadline"].started_at == kst(2026, 11, 2, 15)
    # facts recorded after the instant asked about are not known then
    early = case_clocks(case.case_id, case.events, [], CHARTERS, calendar, kst(2026, 11, 2, 12) - timedelta(hours=1))
    assert [(c.obligation_id, c.state) for c in early] == [("formal_receipt", "running")]


# -- notices name the case by its reference --------------------------------------------------------
def test_a_notice_calls_the_case_by_its_number_and_an_old_case_by_its_id(calendar: WorkingCalendar) -> None:
    from shared.notices.decide import as_of, observe, owed
    from shared.notices.render import Renderer

    def receipt_text(case: Case) -> str:
        notice_case = observe(None, case.received, CHARTERS)
        order = owed(notice_case, case.received, calendar)[0]
        return Renderer().render(order.kind, as_of(order.context, calendar, case.received.occurred_at)).text

    numbered = Case(case_number="dangjin-2026-000123", notice_channels=("sms",))
    text = receipt_text(numbered)
    assert "(접수번호 dangjin-2026-000123)" in text and numbered.case_id not in text
    given = Case(case_number="dangjin-2026-000124", receipt_number="2AA-2611-0012", notice_channels=("sms",))
    assert "(접수번호 2AA-2611-0012)" in receipt_text(given)
    old = Case(notice_channels=("sms",))  # filed before numbers: the text it was sent with
    assert f"(접수번호 {old.case_id})" in receipt_text(old)
    assert len(receipt_text(old)) - len(text) == len(old.case_id) - len("dangjin-2026-000123")  # 17 bytes fewer
