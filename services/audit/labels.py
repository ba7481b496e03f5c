"""Korean labels for the audit report: one per event type, obligation, cause and status.

The terms are GLOSSARY.md's Korean side, so the report reads like the charters and the Act it
enforces. A warning (a charter target missed, an obligation at risk) is never worded as a breach.
"""
from __future__ import annotations

from typing import Any

LABELS = {
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
    "ObligationOpened": "의무 발생", "ObligationAtRisk": "기한 임박 경고",
    # A breach event with severity "warning" is a charter target missed: event_label words it so.
    "ObligationBreached": "기한 위반",
    "ObligationDischarged": "의무 이행", "ObligationSuspended": "기한 정지",
    "VoucherProposed": "보상 제안", "VoucherSettled": "보상액 확정", "VoucherApproved": "보상 승인",
    "VoucherIssued": "보상 지급", "VoucherDelivered": "보상 전달", "VoucherCancelled": "보상 취소",
    "ApologyOwed": "사과 대상", "RetrainingOrdered": "재교육 명령", "PersonnelActionReferred": "인사조치 회부",
    "NoticeSent": "통지 발송", "NoticeFailed": "통지 실패",
}
PROBLEMS = {"differs": "값이 다름", "recorded, not re-derived": "기록에는 있으나 재산출되지 않음",
            "re-derived, not recorded": "재산출되었으나 기록에 없음", "calendar": "다른 달력 버전으로 결정됨",
            "undecodable": "기록을 읽을 수 없음", "recorded twice, differently": "같은 결정이 다른 내용으로 두 번 기록됨"}
DECISION_KINDS = {"sla": "기한·위반 결정", "compensation": "보상·시정 결정", "notice": "통지"}

# shared/events/sla.py ObligationKind; "{n}" is the number after the colon in the obligation id
OBLIGATIONS = {
    "statutory_deadline": "법정 처리기한", "charter_target": "헌장 목표기한", "formal_receipt": "전자민원 정식 접수 기한",
    "interim_notice": "{n}차 중간통지", "extension_notice": "{n}차 연장통지", "transfer": "{n}차 이송 기한",
    "callback": "회신 약속", "opinion_acknowledgement": "의견 답변예정일 안내", "opinion_answer": "의견 답변",
}
PETITION_TYPES = {
    "question_statute": "질의민원(법령)", "question_system": "질의민원(제도·절차)", "suggestion": "건의민원",
    "grievance": "고충민원", "other": "기타민원", "statutory": "법정민원", "pre_review": "사전심사청구",
    "disclosure": "정보공개청구", "objection": "이의신청",
}
CHANNELS = {"visit": "방문", "phone": "전화", "post": "우편", "fax": "팩스", "internet": "인터넷", "api": "연계 시스템",
            "sms": "문자", "lms": "장문 문자", "email": "전자우편", "inbox": "누리집 민원함"}
COUNTING = {"working_time": "근무시간 기준 (민원처리법 제19조 제1항)",
            "working_days": "근무일 기준 (민원처리법 제19조 제2항)", "calendar_days": "역일 기준"}
PAUSE_REASONS = {"supplement_request": "보완 요청", "field_investigation": "현장조사"}
OUTCOMES = {"accepted": "수용", "partly_accepted": "일부 수용", "refused": "불수용", "transferred": "이송"}
CAUSES = {"statutory_deadline_missed": "법정 처리기한 위반", "repeat_visit": "재방문", "administrative_error": "행정착오",
          "insincere_handling": "불성실 처리", "discourtesy": "불친절"}
VOUCHER_KINDS = {"gift_certificate": "상품권", "culture_voucher": "문화상품권", "bank_transfer": "계좌 입금",
                 "cash": "현금"}
VOUCHER_STATUS = {"proposed": "제안됨", "settled": "금액 확정", "approved": "승인됨", "issued": "지급됨",
                  "delivered": "전달됨", "cancelled": "취소됨"}
NOTICE_KINDS = {"receipt": "접수", "transfer": "이송", "extension": "연장", "interim": "중간", "completion": "처리 완료",
                "refusal": "처리 결과(불수용)", "apology": "사과", "supplement_request": "보완 요청"}
PRODUCERS = {"intake": "민원 접수", "sla_monitor": "기한 감시", "compensation": "보상", "notify": "통지"}
OPINION_KINDS = {"opinion": "의견", "complaint": "불만", "suggestion": "제안"}
OPINION_CLASSES = {"simple": "단순", "ordinary": "일반", "complex": "복합"}
DISCLOSURE = {"route": "담당 부서 지정", "decide": "공개 여부 결정", "notify_decision": "결정 통지",
              "applicant_confirms": "청구인 확인", "fee": "수수료 납부", "disclose": "공개",
              "partial": "부분 공개", "refuse": "비공개"}
# an obligation's state after its events, in the order the report takes them
OBLIGATION_STATUS = {"open": "진행 중", "suspended": "정지 중", "kept": "기한 내 이행", "kept_late": "기한 후 이행",
                     "breached": "위반", "missed_target": "헌장 목표 미달 (경고, 법정 기한 위반 아님)"}


def ko(table: dict[str, str], value: Any) -> str:
    """The Korean label of an enum value or string; the value itself when the table has none."""
    key = getattr(value, "value", value)
    return table.get(str(key), str(key))


def obligation_label(obligation_id: str) -> str:
    """statutory_deadline -> 법정 처리기한, interim_notice:2 -> 2차 중간통지, callback:cb1 -> 회신 약속 (cb1)."""
    kind, _, rest = obligation_id.partition(":")
    label = OBLIGATIONS.get(kind)
    if label is None:
        return obligation_id
    if "{n}" in label:
        return label.format(n=rest or "1") if rest.isdigit() or not rest else f"{label.format(n='')} ({rest})"
    return f"{label} ({rest})" if rest else label


def breach_label(obligation_id: str, severity: str) -> str:
    """A missed due instant in words: a warning (the charter's stricter target) is not a breach of the law."""
    if severity == "warning":
        if obligation_id.startswith("charter_target"):
            return "헌장 목표 미달 (경고)"
        return f"{obligation_label(obligation_id)} 경과 (경고)"
    if obligation_id == "statutory_deadline":
        return "법정 처리기한 위반"
    return f"{obligation_label(obligation_id)} 위반"
