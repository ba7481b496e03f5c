"""Notices: which are owed, to which channels, and their exact Korean text (golden), SMS sizing."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from shared.charters import CharterBook
from shared.events import Envelope, sla
from shared.events import compensation as comp
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.holiday_source import korean_calendar
from shared.notices import sms
from shared.notices.decide import NoticeCase, as_of, notice_id, observe, owed
from shared.notices.render import Renderer
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar
from tests.unit.test_obligations import OFFICIAL, kst

CHARTERS = CharterBook.bundled()
CALENDAR = korean_calendar()
RENDERER = Renderer()


class Petition:
    """A case's events with consecutive versions, as intake would record them."""

    def __init__(self, municipality: str = "dangjin", channels: tuple[str, ...] = ("sms",), channel: str = "visit",
                 consent: bool = False, at: datetime = kst(2026, 11, 2, 10), numbered: bool = True) -> None:
        self.case_id = "c-" + uuid.uuid5(uuid.NAMESPACE_URL, f"{municipality}{channels}{channel}").hex[:8]
        # the number intake gives (issue 19 §4); unnumbered: a case filed before numbers, named by its id
        self.ref = f"{municipality}-2026-000123" if numbered else self.case_id
        self.charter = CHARTERS.in_force(municipality, at)
        self.version = 0
        self.received = self.event(ev.PetitionReceived(
            municipality_id=municipality, agency_id="a", petition_type="grievance", channel=channel,
            title="도로 파손 신고", applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="), applicant_ref="r" * 32,
            notice_channels=channels, electronic_consent=consent,
            case_number=self.ref if numbered else None), at)

    def event(self, payload, at: datetime, version: bool = True) -> Envelope:
        if version:
            self.version += 1
        return Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.case_id}|{self.version}|{payload}"),
                        case_id=self.case_id, case_version=self.version if version else 0, occurred_at=at,
                        recorded_at=at, producer="test", payload=payload,
                        charter=CharterRef(self.charter.id, self.charter.version))


def run(calendar: WorkingCalendar, *events: Envelope) -> tuple[NoticeCase | None, list]:
    case = None
    orders = []
    for env in events:
        case = observe(case, env, CHARTERS)
        assert case is not None
        orders += owed(case, env, calendar)
    return case, orders


def text(order, at: datetime | None = None) -> str:
    """The notice as rendered for sending at ``at`` (by default its receipt instant: the golden texts
    without figures do not depend on it)."""
    clock = order.context.get("clock") or {}
    when = at or (datetime.fromisoformat(clock["received_at"]) if clock.get("received_at") else kst(2026, 11, 2, 10))
    return RENDERER.render(order.kind, as_of(order.context, CALENDAR, when)).text


def test_receipt_names_the_expected_date(calendar: WorkingCalendar) -> None:
    p = Petition()
    _, orders = run(calendar, p.received)
    assert [(o.kind, o.channel) for o in orders] == [("receipt", "sms")]
    assert text(orders[0]) == (
        "[당진시] 민원이 접수되었습니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "접수일시: 2026. 11. 2.(월) 10:00\n"
        "처리기한: 2026. 11. 10.(화) 18:00\n"
        "담당: 당진시 민원 담당 부서(담당자 지정 전)\n")


def test_uijeongbu_receipt_tells_the_rights(calendar: WorkingCalendar) -> None:
    p = Petition(municipality="uijeongbu")
    _, orders = run(calendar, p.received)
    assert ("[민원인의 권리] 민원인께서는 처리기한까지 처리 결과를 받을 권리, 처리 상황을 물어볼 권리, 처리가 "
            "늦어지면 그 사유와 진행 상황을 안내받을 권리, 처리 결과에 이의를 신청할 권리가 있습니다.\n") in text(orders[0])


def test_electronic_petitions_are_noticed_at_formal_receipt(calendar: WorkingCalendar) -> None:
    p = Petition(channel="internet", channels=("email",))
    _, orders = run(calendar, p.received)
    assert orders == []  # arrived, not yet received (Decree 6-7)
    _, orders = run(calendar, p.received, p.event(ev.ReceiptRecorded(), kst(2026, 11, 2, 11)))
    assert [(o.kind, o.channel) for o in orders] == [("receipt", "email")]


def test_extension_states_reason_new_date_and_the_official(calendar: WorkingCalendar) -> None:
    p = Petition()
    _, orders = run(calendar, p.received, p.event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 11)),
                    p.event(ev.ProcessingExtended(period="7d", reason="관계기관 협의", expected_completion=kst(2026, 11, 19, 18)),
                            kst(2026, 11, 9, 10)))
    extension = [o for o in orders if o.kind == "extension"]
    assert text(extension[0]) == (
        "[당진시] 민원 처리기간을 연장하였습니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "연장 사유: 관계기관 협의\n"
        "처리 완료 예정일: 2026. 11. 19.(목) 18:00\n"
        "담당: 도로과 박주무관(전화 041-350-1234, 전자우편 p@x.kr)\n")


def test_interim_notice_when_the_monitor_warns(calendar: WorkingCalendar) -> None:
    p = Petition()
    warn = p.event(sla.ObligationAtRisk(obligation_id="interim_notice:1", kind="interim_notice",
                                        due_at=kst(2026, 12, 2, 10), citizen_facing=True, threshold=0.75),
                   kst(2026, 11, 24, 16), version=False)
    _, orders = run(calendar, p.received, warn)
    [interim] = [o for o in orders if o.kind == "interim"]
    assert text(interim, at=kst(2026, 11, 24, 16)) == (  # the deadline passed: said, never "남은 기간 0일"
        "[당진시] 민원 처리 진행 상황을 알려 드립니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "처리 상황: 접수 후 23일째 처리 중입니다.\n"
        "처리기한: 2026. 11. 10.(화) 18:00\n"
        "처리기한을 지키지 못해 죄송합니다. 처리를 마치는 대로 결과를 바로 알려 드리겠습니다.\n"
        "담당: 당진시 민원 담당 부서(담당자 지정 전)\n")
    # before the deadline: the working days left as of sending (11/9 10:00 to 11/10 18:00: 2 started days)
    assert "처리기한: 2026. 11. 10.(화) 18:00\n남은 기간: 근무일 2일\n" in text(interim, at=kst(2026, 11, 9, 10))
    # sent a week later: its figures as of then, not of the warning
    assert "처리 상황: 접수 후 30일째 처리 중입니다." in text(interim, at=kst(2026, 12, 1, 16))


def test_completion_goes_to_every_channel_dangjin_promises_with_consent(calendar: WorkingCalendar) -> None:
    p = Petition(channels=("sms",), consent=True)
    _, orders = run(calendar, p.received, p.event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 11)),
                    p.event(ev.PetitionResolved(outcome="accepted", explanation="파손 부위를 11월 5일 보수하였습니다."),
                            kst(2026, 11, 5, 15)))
    done = [o for o in orders if o.kind == "completion"]
    assert [o.channel for o in done] == ["sms", "inbox", "email"]  # D3: SMS, homepage and e-mail
    assert len({o.notice_id for o in done}) == 3
    assert text(done[0]) == (
        "[당진시] 민원 처리가 완료되었습니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "처리 완료 일시: 2026. 11. 5.(목) 15:00\n"
        "처리 결과: 수용\n"
        "처리 내용: 파손 부위를 11월 5일 보수하였습니다.\n"
        "담당: 도로과 박주무관(전화 041-350-1234, 전자우편 p@x.kr)\n")
    no_consent = Petition(municipality="dangjin", channels=("sms",), consent=False, at=kst(2026, 11, 3, 10))
    _, orders = run(calendar, no_consent.received, no_consent.event(
        ev.PetitionResolved(outcome="accepted", explanation="완료"), kst(2026, 11, 5, 15)))
    assert [o.channel for o in orders if o.kind == "completion"] == ["sms"]


def test_refusal_states_reasons_and_remedies(calendar: WorkingCalendar) -> None:
    p = Petition()
    _, orders = run(calendar, p.received, p.event(ev.PetitionResolved(
        outcome="refused", explanation="관련 법령상 허가 대상이 아닙니다.", refusal_reasons="도로법 제61조 요건 미충족",
        remedies="결과 통지일부터 60일 이내 이의신청(민원처리법 제35조) 또는 행정심판"), kst(2026, 11, 5, 15)))
    [refusal] = [o for o in orders if o.kind == "refusal"]
    assert text(refusal) == (
        "[당진시] 민원 처리 결과를 알려 드립니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "처리 일시: 2026. 11. 5.(목) 15:00\n"
        "처리 결과: 불수용\n"
        "처리 내용: 관련 법령상 허가 대상이 아닙니다.\n"
        "불수용 사유: 도로법 제61조 요건 미충족\n"
        "이의신청 등 불복 방법: 결과 통지일부터 60일 이내 이의신청(민원처리법 제35조) 또는 행정심판\n"
        "담당: 당진시 민원 담당 부서(담당자 지정 전)\n")


def test_transfer_and_apology_with_the_voucher(calendar: WorkingCalendar) -> None:
    p = Petition()
    transfer = p.event(ev.PetitionTransferred(scope="within_agency", to_department="건설과", reason="소관 부서"),
                       kst(2026, 11, 2, 11))
    proposed = p.event(comp.VoucherProposed(
        voucher_id="v1", cause="statutory_deadline_missed", cause_event_id="b1", amount_won=10_000,
        voucher_kind="gift_certificate", settled=True, approval="none", payment="on_issue",
        policy=comp.PolicyRef(promise_id="D10")), kst(2026, 11, 10, 18), version=False)
    apology = p.event(comp.ApologyOwed(apology_id="a1", cause="statutory_deadline_missed", cause_event_id="b1",
                                       promise_id="D10"), kst(2026, 11, 10, 18), version=False)
    _, orders = run(calendar, p.received, transfer, proposed, apology)
    by_kind = {o.kind: o for o in orders}
    assert text(by_kind["transfer"]) == (
        "[당진시] 민원을 건설과로 이송하였습니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "이송 사유: 소관 부서\n"
        "담당 부서: 건설과(담당자 지정 전)\n"
        "이송 담당: 당진시 민원 담당 부서\n")
    assert text(by_kind["apology"]) == (
        "[당진시] 민원 처리 과정에서 불편을 드려 진심으로 사과드립니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "사유: 처리기한을 지키지 못했습니다.\n"
        "지키지 못한 처리기한: 2026. 11. 10.(화) 18:00\n"
        "당진시 행정서비스헌장에 따라 10,000원 상당의 상품권을 드립니다.\n"
        "상품권은 담당 부서에서 받으시거나, 원하시면 우편으로 보내 드립니다.\n"
        "담당: 당진시 민원 담당 부서(담당자 지정 전)\n")


def test_notice_ids_come_from_the_cause(calendar: WorkingCalendar) -> None:
    p = Petition()
    _, first = run(calendar, p.received)
    _, again = run(calendar, p.received)
    assert [o.notice_id for o in first] == [o.notice_id for o in again] == [notice_id(str(p.received.event_id), "receipt", "sms")]


def test_rendered_notices_carry_template_version_and_hash() -> None:
    r = RENDERER.render("completion", {"municipality": "당진시", "title": "t", "case_ref": "c", "outcome": "수용",
                                       "explanation": "e", "official": None, "completed_at": "2026년 11월 5일(목) 15:00"})
    assert (r.template_id, r.template_version, len(r.sha256)) == ("completion", "3", 64)
    assert r.subject == "[당진시] 민원 처리 완료 안내"


@pytest.mark.parametrize(("body", "kind", "parts"), [
    ("가" * 45, "SMS", 1),  # 90 bytes in EUC-KR
    ("가" * 46, "LMS", 1),
    ("a" * 90, "SMS", 1),
    ("가" * 1000, "LMS", 1),  # 2,000 bytes
    ("가나다라\n" * 500, "LMS", 3),  # 4,500 bytes: split at line ends into three parts
])
def test_sms_or_lms_by_euc_kr_bytes(body: str, kind: str, parts: int) -> None:
    plan = sms.plan(body)
    assert (plan.message_type, len(plan.parts)) == (kind, parts)
    assert all(sms.size(part) <= sms.LMS_BYTES for part in plan.parts)
    if parts > 1:
        assert plan.parts[0].startswith(f"(1/{parts})\n") and "".join(p.split("\n", 1)[1] for p in plan.parts) == body


def test_characters_euc_kr_cannot_carry_are_counted() -> None:
    assert sms.plan("안녕 😀").unencodable == 1


def test_a_supplement_request_is_a_written_notice(calendar: WorkingCalendar) -> None:
    """Act 22; Decree 24-25: what is missing, by when, that the clock stops, and what follows if nothing comes."""
    p = Petition()
    request = p.event(ev.SupplementRequested(items="도로 파손 부위 사진 2장", respond_by=kst(2026, 11, 13, 18)),
                      kst(2026, 11, 3, 10))
    _, orders = run(calendar, p.received, request)
    [notice] = [o for o in orders if o.kind == "supplement_request" and o.channel == "sms"]
    body = text(notice)
    assert body == (
        "[당진시] 민원 보완을 요청드립니다.\n"
        "민원: 도로 파손 신고(접수번호 dangjin-2026-000123)\n"
        "보완할 사항: 도로 파손 부위 사진 2장\n"
        "보완 기한: 2026. 11. 13.(금) 18:00까지\n"
        "보완하신 내용이 접수될 때까지의 기간은 처리기간에 포함하지 않습니다(민원처리법 시행령 제20조).\n"
        "기한까지 보완하지 않으시면 다시 기한을 정하여 보완을 요청드리고, 그때에도 보완하지 않으시면 민원을 "
        "되돌려 보낼 수 있습니다(민원처리법 제22조, 같은 법 시행령 제25조).\n"
        "보완 기한을 늘려야 하시면 담당자에게 요청해 주십시오(민원처리법 시행령 제24조).\n"
        "담당: 당진시 민원 담당 부서(담당자 지정 전)\n")
    assert RENDERER.render(notice.kind, as_of(notice.context, CALENDAR, kst(2026, 11, 3, 10))).subject == \
        "[당진시] 민원 보완 요청 안내"


def test_a_second_supplement_request_says_the_petition_may_be_returned(calendar: WorkingCalendar) -> None:
    """Decree 25: nothing came, so a second request with at most 10 days; never a third."""
    from shared.petition_case import RuleViolation, check

    p = Petition()
    first = p.event(ev.SupplementRequested(items="사진", respond_by=kst(2026, 11, 10, 18)), kst(2026, 11, 3, 10))
    second = p.event(ev.SupplementRequested(items="사진", respond_by=kst(2026, 11, 20, 18)), kst(2026, 11, 11, 10))
    case, orders = run(calendar, p.received, first, second)
    assert case is not None and case.state.supplement_requests == 2 and len(case.state.pauses) == 1
    [again] = [o for o in orders if o.kind == "supplement_request" and o.cause_event_id == str(second.event_id)
               and o.channel == "sms"]
    body = text(again)
    assert body.startswith("[당진시] 민원 보완을 다시 요청드립니다.\n")
    assert ("보완 기한: 2026. 11. 20.(금) 18:00까지\n" in body and "이번 기한까지도 보완하지 않으시면 민원을 되돌려 "
            "보낼 수 있습니다(민원처리법 제22조, 같은 법 시행령 제25조).\n" in body)
    with pytest.raises(RuleViolation, match="twice"):
        check(case.state, ev.SupplementRequested(items="사진", respond_by=kst(2026, 11, 25, 18)), kst(2026, 11, 21, 10))
    after_first, _ = run(calendar, p.received, first)
    assert after_first is not None
    with pytest.raises(RuleViolation, match="10 days"):  # the second request gives 10 days at most
        check(after_first.state, ev.SupplementRequested(items="사진", respond_by=kst(2026, 11, 30, 18)),
              kst(2026, 11, 11, 10))


def test_notices_sent_before_render_again_as_they_were_sent(calendar: WorkingCalendar) -> None:
    """The audit replay renders a sent notice from today's context with the template version it recorded:
    the earlier versions' texts (their goldens before the Korean reader's pass) must not move."""
    p = Petition(numbered=False)
    assigned = p.event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 11))
    extended = p.event(ev.ProcessingExtended(period="7d", reason="관계기관 협의", expected_completion=kst(2026, 11, 19, 18)),
                       kst(2026, 11, 9, 10))
    resolved = p.event(ev.PetitionResolved(outcome="accepted", explanation="파손 부위를 11월 5일 보수하였습니다."),
                       kst(2026, 11, 20, 15))
    _, orders = run(calendar, p.received, assigned, extended, resolved)
    sent = {o.kind: o for o in orders}

    def before(kind: str, version: str) -> str:
        o = sent[kind]
        return RENDERER.render(kind, as_of(o.context, CALENDAR, kst(2026, 11, 2, 10)), version=version).text

    ref = f"민원: 도로 파손 신고 (접수번호 {p.case_id})\n"
    assert before("receipt", "1") == ("[당진시] 민원이 접수되었습니다.\n" + ref + "접수일시: 2026년 11월 2일(월) 10:00\n"
                                      "처리 예정일: 2026년 11월 10일(화) 18:00\n"
                                      "담당: 당진시 민원 담당 부서에서 배정 중입니다.\n")
    assert before("extension", "1") == ("[당진시] 민원 처리기간이 연장되었습니다.\n" + ref + "연장 사유: 관계기관 협의\n"
                                        "처리 완료 예정일: 2026년 11월 19일(목) 18:00\n"
                                        "담당: 도로과 박주무관 (전화 041-350-1234, 전자우편 p@x.kr)\n")
    assert before("completion", "2") == ("[당진시] 민원 처리가 완료되었습니다.\n" + ref +
                                         "처리 완료일: 2026년 11월 20일(금) 15:00\n처리 결과: 수용\n"
                                         "파손 부위를 11월 5일 보수하였습니다.\n"
                                         "담당: 도로과 박주무관 (전화 041-350-1234, 전자우편 p@x.kr)\n")


def test_a_context_sealed_by_the_earlier_release_renders_with_todays_templates(calendar: WorkingCalendar) -> None:
    """A pending delivery keeps the context decided before this release (no transfer scope, no sender):
    today's template renders it, with the defaults of shared.notices.wording."""
    p = Petition()
    transfer = p.event(ev.PetitionTransferred(scope="within_agency", to_department="건설과", reason="소관 부서"),
                       kst(2026, 11, 2, 11))
    _, orders = run(calendar, p.received, transfer)
    [order] = [o for o in orders if o.kind == "transfer"]
    sealed_before = {k: v for k, v in order.context.items() if k not in ("scope", "transferred_by")}
    assert RENDERER.render("transfer", as_of(sealed_before, CALENDAR, kst(2026, 11, 2, 11))).text == \
        text(order, kst(2026, 11, 2, 11))
