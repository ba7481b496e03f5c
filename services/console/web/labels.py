"""Korean words for the console's pages: petition types, channels, obligations, events, causes, statuses,
instants in Korean time and working time in days and hours.

The terms follow the audit report's (GLOSSARY.md's Korean side), so a page and the printable report an
official opens from it read alike. A warning (an obligation at risk, a charter target missed) is never
worded as a breach. Importing this module makes the words available to every template as filters
(``{{ at|kdate }}``, ``{{ seconds|worktime }}``, ``{{ kind|ko('PETITION_TYPES') }}``...) and globals.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from services.console.web.render import templates
from shared.instants import parse_instant, to_kst
from shared.working_time import WORKING_DAY_SECONDS

PETITION_TYPES = {
    "question_statute": "질의민원(법령)", "question_system": "질의민원(제도·절차)", "suggestion": "건의민원",
    "grievance": "고충민원", "other": "기타민원", "statutory": "법정민원", "pre_review": "사전심사청구",
    "disclosure": "정보공개청구", "objection": "이의신청",
}
CHANNELS = {"visit": "방문", "phone": "전화", "post": "우편", "fax": "팩스", "internet": "인터넷", "api": "연계 시스템",
            "sms": "문자", "lms": "장문 문자", "email": "전자우편", "inbox": "누리집 민원함"}
CASE_STATUS = {"filed": "정식 접수 대기", "received": "처리 중", "resolved": "처리 완료", "closed": "종결",
               "reopened": "재처리 중 (이의신청)"}
OUTCOMES = {"accepted": "수용", "partly_accepted": "일부 수용", "refused": "불수용", "transferred": "이송"}
PAUSE_REASONS = {"supplement_request": "보완 요청", "field_investigation": "현장조사"}
# shared/events/sla.py ObligationKind; "{n}" is the number after the colon in the obligation id
OBLIGATIONS = {
    "statutory_deadline": "법정 처리기한", "charter_target": "헌장 목표기한", "formal_receipt": "전자민원 정식 접수 기한",
    "interim_notice": "{n}차 중간통지", "extension_notice": "{n}차 연장통지", "transfer": "{n}차 이송 기한",
    "callback": "회신 약속", "opinion_acknowledgement": "의견 답변예정일 안내", "opinion_answer": "의견 답변",
}
EVENTS = {
    "PetitionReceived": "민원 접수", "ReceiptRecorded": "전자민원 정식 접수", "OfficialAssigned": "담당자 지정",
    "PetitionTransferred": "민원 이송", "SupplementRequested": "보완 요청 (처리기간 정지)",
    "SupplementReceived": "보완 접수 (처리기간 재개)", "FieldInvestigationStarted": "현장조사 시작 (처리기간 정지)",
    "FieldInvestigationEnded": "현장조사 종료 (처리기간 재개)", "ProcessingExtended": "처리기간 연장",
    "InterimNoticeRecorded": "중간통지 기록", "PetitionResolved": "처리 완료", "PetitionClosed": "종결",
    "ObjectionFiled": "이의신청", "ResultEvaluated": "처리결과 평가", "CallbackPromised": "회신 약속",
    "CallbackMade": "회신 완료", "OpinionRecorded": "의견 접수", "OpinionAcknowledged": "답변예정일 안내",
    "OpinionAnswered": "의견 답변", "RepeatVisitRecorded": "재방문 확인", "AdministrativeErrorConfirmed": "행정착오 확인",
    "DiscourtesyConfirmed": "불친절 확인", "InsincereHandlingConfirmed": "불성실 처리 확인",
    "FindingWithdrawn": "확인 사항 철회", "DisclosureStepRecorded": "정보공개 단계",
    "PersonalDataErased": "개인정보 파기",
}
NOTICE_KINDS = {"receipt": "접수 통지", "transfer": "이송 통지", "extension": "연장 통지", "interim": "중간 통지",
                "completion": "처리 결과 통지", "refusal": "처리 결과(불수용) 통지", "apology": "사과 통지"}
NOTICE_STATUS = {"sent": "발송", "failed": "발송 실패"}
CAUSES = {"statutory_deadline_missed": "법정 처리기한 위반", "repeat_visit": "재방문", "administrative_error": "행정착오",
          "insincere_handling": "불성실 처리", "discourtesy": "불친절"}
FINDINGS = {"repeat_visit": "재방문", "administrative_error": "행정착오", "discourtesy": "불친절",
            "insincere_handling": "불성실 처리"}
VOUCHER_KINDS = {"gift_certificate": "상품권", "culture_voucher": "문화상품권", "bank_transfer": "계좌 입금",
                 "cash": "현금"}
VOUCHER_STATUS = {"proposed": "제안됨", "awaiting_approval": "승인 대기", "approved": "지급 대기", "issued": "지급됨",
                  "delivered": "전달됨", "cancelled": "취소됨"}
REMEDY_KINDS = {"apology": "사과", "retraining": "재교육", "referral": "인사조치 회부",
                "finding_withdrawn": "확인 사항 철회"}
WEEKDAYS = "월화수목금토일"
TABLES = {name: value for name, value in globals().items() if name.isupper() and isinstance(value, dict)}


def ko(value: Any, table: str) -> str:
    """The Korean label of a value in one of the tables above; the value itself when it has none."""
    if value is None:
        return "—"
    key = str(getattr(value, "value", value))
    return TABLES[table].get(key, key)


def obligation_label(obligation_id: str) -> str:
    """statutory_deadline -> 법정 처리기한, interim_notice:2 -> 2차 중간통지, callback:cb1 -> 회신 약속 (cb1)."""
    kind, _, rest = obligation_id.partition(":")
    label = OBLIGATIONS.get(kind)
    if label is None:
        return obligation_id
    if "{n}" in label:
        return label.format(n=rest or "1") if rest.isdigit() or not rest else f"{label.format(n='')} ({rest})"
    return f"{label} ({rest})" if rest else label


def _instant(at: datetime | str) -> datetime:
    """An instant, or its ISO 8601 text as another service's JSON gives it."""
    return parse_instant(at) if isinstance(at, str) else at


def kdate(at: datetime | str | None, empty: str = "—") -> str:
    """An instant in Korean time, as officials write it: 2026.12.04.(금) 10:00."""
    if at is None:
        return empty
    local = to_kst(_instant(at))
    return f"{local:%Y.%m.%d.}({WEEKDAYS[local.weekday()]}) {local:%H:%M}"


def kday(at: datetime | str | None, empty: str = "—") -> str:
    """The date only: 2026.12.04.(금)."""
    if at is None:
        return empty
    local = to_kst(_instant(at))
    return f"{local:%Y.%m.%d.}({WEEKDAYS[local.weekday()]})"


def kshort(at: datetime | str | None, empty: str = "—") -> str:
    """Within the year on the page: 12.04.(금) 10:00."""
    if at is None:
        return empty
    local = to_kst(_instant(at))
    return f"{local:%m.%d.}({WEEKDAYS[local.weekday()]}) {local:%H:%M}"


def iso(at: datetime | str | None) -> str:
    """For <time datetime="...">."""
    return to_kst(_instant(at)).isoformat() if at is not None else ""


def worktime(seconds: int | float | None, empty: str = "—") -> str:
    """Working time in working days (8 working hours, Act 19), hours and minutes: 1일 3시간 20분."""
    if seconds is None:
        return empty
    total = int(abs(seconds)) // 60
    days, minutes = divmod(total, WORKING_DAY_SECONDS // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}일" if days else "", f"{hours}시간" if hours else "", f"{minutes}분" if minutes else ""]
    return " ".join(p for p in parts if p) or "0분"


def time_left(seconds: int | float | None, empty: str = "—") -> str:
    """Working time left on a clock: '1일 3시간 남음', or '2시간 지남' once past."""
    if seconds is None:
        return empty
    return f"{worktime(seconds)} {'남음' if seconds >= 0 else '지남'}"


def won(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}원"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


FILTERS = {"ko": ko, "obligation_label": obligation_label, "kdate": kdate, "kday": kday, "kshort": kshort, "iso": iso,
           "worktime": worktime, "time_left": time_left, "won": won, "percent": percent}


def install(env: Any) -> None:
    """Add the filters to a Jinja environment (the console's is done at import)."""
    env.filters.update(FILTERS)


install(templates.env)
