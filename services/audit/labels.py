"""Korean labels for the audit timeline (one per event type)."""
from __future__ import annotations

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
    "ObligationOpened": "의무 발생", "ObligationAtRisk": "기한 임박 경고", "ObligationBreached": "기한 위반",
    "ObligationDischarged": "의무 이행", "ObligationSuspended": "기한 정지",
    "VoucherProposed": "보상 제안", "VoucherSettled": "보상액 확정", "VoucherApproved": "보상 승인",
    "VoucherIssued": "보상 지급", "VoucherDelivered": "보상 전달", "VoucherCancelled": "보상 취소",
    "ApologyOwed": "사과 대상", "RetrainingOrdered": "재교육 명령", "PersonnelActionReferred": "인사조치 회부",
    "NoticeSent": "통지 발송", "NoticeFailed": "통지 실패",
}
PROBLEMS = {"differs": "값이 다름", "recorded, not re-derived": "기록에는 있으나 재산출되지 않음",
            "re-derived, not recorded": "재산출되었으나 기록에 없음", "calendar": "다른 달력 버전으로 결정됨",
            "undecodable": "기록을 읽을 수 없음", "recorded twice, differently": "같은 결정이 다른 내용으로 두 번 기록됨"}
