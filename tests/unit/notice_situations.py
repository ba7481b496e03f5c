"""Every notice kind in the situations a citizen meets, as notify would decide them: decided from the case's
events, rendered for sending at a given instant. Read by tests/unit/test_notice_wording.py (the generic
rules) and printable for a reader: ``python -m tests.unit.notice_situations``."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.charters import CharterBook
from shared.events import Envelope, sla
from shared.events import compensation as comp
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.holiday_source import korean_calendar
from shared.instants import KST
from shared.notices import sms
from shared.notices.decide import NoticeCase, Order, as_of, observe, owed
from shared.notices.render import Rendered, Renderer
from shared.sealing import Sealed

CHARTERS = CharterBook.bundled()
CALENDAR = korean_calendar()
RENDERER = Renderer()
PARK = ev.Official(official_id="o-1", name="박민수", department="도로과", phone="041-350-1234",
                   email="park@dangjin.go.kr")
KIM = ev.Official(official_id="o-2", name="김서연", department="건설과", phone="041-350-5678",
                  email="kim@dangjin.go.kr")


def kst(*a: int) -> datetime:
    return datetime(*a, tzinfo=KST)


class Petition:
    """A case's events with consecutive versions, as intake records them (numbered, as intake numbers)."""

    def __init__(self, municipality: str = "dangjin", channel: str = "visit", petition_type: str = "grievance",
                 title: str = "도로 파손 신고", receipt_number: str | None = None, at: datetime = kst(2026, 11, 2, 10),
                 channels: tuple[str, ...] = ("sms",)) -> None:
        self.case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{municipality}|{channel}|{title}|{receipt_number}"))
        self.charter = CHARTERS.in_force(municipality, at)
        self.version = 0
        self.received = self.event(ev.PetitionReceived(
            municipality_id=municipality, agency_id="a", petition_type=petition_type, channel=channel, title=title,
            applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="), applicant_ref="r" * 32,
            notice_channels=channels, electronic_consent=False, receipt_number=receipt_number,
            case_number=f"{municipality}-2026-000123"), at)

    def event(self, payload: Any, at: datetime, version: bool = True) -> Envelope:
        if version:
            self.version += 1
        return Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.case_id}|{self.version}|{payload}"),
                        case_id=self.case_id, case_version=self.version if version else 0, occurred_at=at,
                        recorded_at=at, producer="test", payload=payload,
                        charter=CharterRef(self.charter.id, self.charter.version))

    def assigned(self, official: ev.Official = PARK, at: datetime = kst(2026, 11, 2, 11)) -> Envelope:
        return self.event(ev.OfficialAssigned(official=official), at)


@dataclass(frozen=True)
class Situation:
    label: str
    order: Order
    at: datetime  # the sending instant

    @property
    def context(self) -> dict[str, Any]:
        return as_of(self.order.context, CALENDAR, self.at)

    def render(self, renderer: Renderer = RENDERER, version: str | None = None) -> Rendered:
        return renderer.render(self.order.kind, self.context, version)


def decided(*events: Envelope) -> tuple[NoticeCase | None, list[Order]]:
    case: NoticeCase | None = None
    orders: list[Order] = []
    for env in events:
        case = observe(case, env, CHARTERS)
        assert case is not None
        orders += owed(case, env, CALENDAR)
    return case, orders


def last(label: str, kind: str, at: datetime, *events: Envelope) -> Situation:
    """The notice of ``kind`` the last event makes owed (one channel: the text is the same on each)."""
    _, orders = decided(*events)
    cause = str(events[-1].event_id)
    [order, *_] = [o for o in orders if o.kind == kind and o.cause_event_id == cause]
    return Situation(label, order, at)


def voucher(p: Petition, cause: str, kind: str, approval: str = "none", payment: str = "on_issue",
            amount: int = 10_000, at: datetime = kst(2026, 11, 10, 18)) -> tuple[Envelope, Envelope]:
    proposed = p.event(comp.VoucherProposed(
        voucher_id=f"v-{cause}-{kind}", cause=cause, cause_event_id="b1", amount_won=amount, voucher_kind=kind,
        settled=approval == "none", approval=approval, payment=payment, policy=comp.PolicyRef(promise_id="D10")),
        at, version=False)
    return proposed, apology(p, cause, at)


def apology(p: Petition, cause: str, at: datetime = kst(2026, 11, 10, 18)) -> Envelope:
    return p.event(comp.ApologyOwed(apology_id=f"a-{cause}", cause=cause, cause_event_id="b1", promise_id="D10"),
                   at, version=False)


def at_risk(p: Petition, at: datetime) -> Envelope:
    return p.event(sla.ObligationAtRisk(obligation_id="interim_notice:1", kind="interim_notice",
                                        due_at=kst(2026, 12, 2, 10), citizen_facing=True, threshold=0.75),
                   at, version=False)


def situations() -> list[Situation]:
    out: list[Situation] = []
    # -- receipt
    p = Petition()
    out.append(last("접수(방문, 담당자 지정 전)", "receipt", kst(2026, 11, 2, 10), p.received))
    u = Petition(municipality="uijeongbu", title="불법 주정차 단속 요청")
    out.append(last("접수(의정부시 민원미란다)", "receipt", kst(2026, 11, 2, 10), u.received))
    e = Petition(channel="internet", title="가로등 고장 신고", receipt_number="2AA-2611-0012")
    out.append(last("접수(전자 민원, 정식 접수)", "receipt", kst(2026, 11, 2, 14), e.received,
                    e.event(ev.ReceiptRecorded(), kst(2026, 11, 2, 14))))
    # -- transfer
    t = Petition(title="하수관 악취 민원")
    assigned = t.assigned()
    out.append(last("이송(기관 안, 담당자가 넘김)", "transfer", kst(2026, 11, 3, 9), t.received, assigned,
                    t.event(ev.PetitionTransferred(scope="within_agency", to_department="건설과",
                                                   reason="하수관 관리는 건설과 소관입니다."), kst(2026, 11, 3, 9))))
    o = Petition(title="국도 표지판 정비 요청")
    out.append(last("이송(다른 기관, 담당자 지정 전)", "transfer", kst(2026, 11, 2, 15), o.received,
                    o.event(ev.PetitionTransferred(scope="other_agency", to_agency_id="a-chungnam",
                                                   reason="국도 표지판은 대전지방국토관리청 소관입니다."),
                            kst(2026, 11, 2, 15))))
    # -- supplement requests
    s = Petition(title="건축물 사용승인 신청")
    s_assigned = s.assigned()
    first = s.event(ev.SupplementRequested(items="배치도 1부, 소방시설 완공검사 증명서 사본 1부",
                                           respond_by=kst(2026, 11, 13, 18)), kst(2026, 11, 3, 10))
    out.append(last("보완 요청(기한 있음)", "supplement_request", kst(2026, 11, 3, 10), s.received, s_assigned, first))
    second = s.event(ev.SupplementRequested(items="소방시설 완공검사 증명서 사본 1부",
                                            respond_by=kst(2026, 11, 23, 18)), kst(2026, 11, 16, 10))
    out.append(last("두 번째 보완 요청", "supplement_request", kst(2026, 11, 16, 10), s.received, s_assigned, first,
                    second))
    n = Petition(title="공원 벤치 설치 건의", petition_type="suggestion")
    out.append(last("보완 요청(기한 없음)", "supplement_request", kst(2026, 11, 3, 10), n.received, n.assigned(),
                    n.event(ev.SupplementRequested(items="설치를 원하는 위치(지번 또는 약도)"), kst(2026, 11, 3, 10))))
    # -- extension, then interim notices (running, paused, late)
    x = Petition(title="농로 포장 요청")
    x_assigned = x.assigned()
    extended = x.event(ev.ProcessingExtended(period="7d", reason="관계 부서 및 토지 소유자와 협의가 필요합니다.",
                                             expected_completion=kst(2026, 11, 19, 18)), kst(2026, 11, 9, 10))
    out.append(last("처리기간 연장", "extension", kst(2026, 11, 9, 10), x.received, x_assigned, extended))
    out.append(last("중간 안내(진행 중)", "interim", kst(2026, 11, 16, 16), x.received, x_assigned, extended,
                    at_risk(x, kst(2026, 11, 16, 16))))
    out.append(last("중간 안내(처리기간 정지 중)", "interim", kst(2026, 11, 24, 16), s.received, s_assigned, first,
                    at_risk(s, kst(2026, 11, 24, 16))))
    late = Petition(title="버스 정류장 보수 요청")
    out.append(last("중간 안내(처리기한 지남)", "interim", kst(2026, 11, 24, 16), late.received, late.assigned(),
                    at_risk(late, kst(2026, 11, 24, 16))))
    # -- results
    c = Petition()
    out.append(last("처리 완료(수용)", "completion", kst(2026, 11, 5, 15), c.received, c.assigned(),
                    c.event(ev.PetitionResolved(outcome="accepted", explanation="파손 부위를 11월 5일에 보수하였습니다."),
                            kst(2026, 11, 5, 15))))
    r = Petition(title="도로 점용 허가 신청")
    out.append(last("처리 결과(불수용)", "refusal", kst(2026, 11, 5, 15), r.received, r.assigned(),
                    r.event(ev.PetitionResolved(
                        outcome="refused", explanation="신청하신 위치는 보도 폭이 좁아 점용을 허가할 수 없습니다.",
                        refusal_reasons="도로법 시행령 제55조의 점용 허가 기준에 맞지 않습니다.",
                        remedies="처분이 있음을 안 날부터 90일 이내에 행정심판 또는 행정소송을 제기할 수 있습니다."),
                        kst(2026, 11, 5, 15))))
    q = Petition(title="어린이보호구역 과속방지턱 설치 요청")
    out.append(last("처리 결과(일부 수용)", "refusal", kst(2026, 11, 6, 11), q.received, q.assigned(),
                    q.event(ev.PetitionResolved(
                        outcome="partly_accepted", explanation="과속방지턱 1곳은 12월 중 설치하겠습니다.",
                        refusal_reasons="나머지 1곳은 버스 노선 구간이라 설치 기준에 맞지 않습니다.",
                        remedies="이 결과에 이의가 있으시면 담당자에게 재검토를 요청하실 수 있습니다."),
                        kst(2026, 11, 6, 11))))
    # -- apologies: with each kind of voucher, and without one
    for label, municipality, kind, approval, payment in (
            ("사과(처리기한 초과, 상품권)", "dangjin", "gift_certificate", "none", "on_issue"),
            ("사과(처리기한 초과, 문화상품권 월 1회 지급)", "gochang", "culture_voucher", "none", "monthly_batch"),
            ("사과(처리기한 초과, 부서장 승인 후 상품권)", "seongnam", "gift_certificate", "department_head",
             "on_issue"),
            ("사과(처리기한 초과, 현금)", "namhae", "cash", "none", "on_issue"),
            ("사과(처리기한 초과, 계좌이체 월 1회 지급)", "busan-gangseo-gu", "bank_transfer", "none",
             "monthly_batch")):
        a = Petition(municipality=municipality)
        out.append(last(label, "apology", kst(2026, 11, 11, 9), a.received, a.assigned(),
                        *voucher(a, "statutory_deadline_missed", kind, approval, payment)))
    v = Petition(title="여권 재발급 신청")
    out.append(last("사과(재방문, 상품권)", "apology", kst(2026, 11, 4, 9), v.received, v.assigned(),
                    *voucher(v, "repeat_visit", "gift_certificate", at=kst(2026, 11, 4, 9))))
    d = Petition(title="민원 창구 응대")
    out.append(last("사과(불친절, 보상 없음)", "apology", kst(2026, 11, 4, 9), d.received, d.assigned(),
                    apology(d, "discourtesy", kst(2026, 11, 4, 9))))
    return out


def main() -> None:
    for s in situations():
        r = s.render()
        plan = sms.plan(r.text)
        print(f"--- {s.label}: {r.template_id} v{r.template_version}, {plan.message_type} {plan.bytes} bytes\n"
              f"제목: {r.subject}\n{r.text}")


if __name__ == "__main__":
    main()
