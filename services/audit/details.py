"""One line of Korean per event for the report's timeline, and the machine fields it was read from.

Never the applicant's words or data: no title, body, objection reason or comment (they may name
people); the officials' names and departments are public-service data (Decree 31, real-name rule).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.audit.labels import (
    CAUSES,
    CHANNELS,
    DISCLOSURE,
    LABELS,
    NOTICE_KINDS,
    OPINION_CLASSES,
    OPINION_KINDS,
    OUTCOMES,
    PAUSE_REASONS,
    PETITION_TYPES,
    VOUCHER_KINDS,
    breach_label,
    ko,
    obligation_label,
)
from services.audit.wording import (
    instant,
    josa,
    period_ko,
    rule_ko,
    time_left,
    won,
    working_duration,
)
from shared.events import Envelope
from shared.events import petition as ev
from shared.instants import isoformat_kst

PRIVATE = {"ObjectionFiled"}  # its reason is the applicant's own words
MACHINE_FIELDS = ("obligation_id", "kind", "due_at", "severity", "on_time", "voids_breach", "reason", "outcome",
                  "amount_won", "voucher_kind", "cause", "period", "expected_completion", "approved_by",
                  "official_id", "strikes", "template_id", "template_version", "content_sha256", "channel")


def official(o: ev.Official | None) -> str:
    return f"{o.department} {o.name} ({o.phone}, {o.email})" if o else "-"


def _assigned(p: Any) -> str:
    text = f"담당: {official(p.official)}"
    return f"{text}; 후견인: {official(p.guardian)}" if p.guardian else text


def _transferred(p: Any) -> str:
    where = f"부서 {p.to_department}" if p.scope == "within_agency" else f"기관 {p.to_agency_id}"
    return f"{'기관 내' if p.scope == 'within_agency' else '다른 기관으로'} 이송 → {where}; 사유: {p.reason}" + (
        " (잘못 접수된 민원)" if p.misrouted else "")


def _opened(p: Any) -> str:
    text = f"{obligation_label(p.obligation_id)}: 기한 {instant(p.due_at)}"
    if p.replaces_due_at is not None:
        text += f" (종전 기한 {instant(p.replaces_due_at)}에서 변경)"
    return f"{text}; 근거 {rule_ko(p.proof.rule)}"


def _suspended(p: Any) -> str:
    left = time_left(p.remaining_working_days, p.remaining_working_seconds)
    text = f"{obligation_label(p.obligation_id)}: {josa(ko(PAUSE_REASONS, p.reason), '으로', '로')} 정지"
    return f"{text}, 남은 기간 {left}" if left else text


def _discharged(p: Any) -> str:
    text = f"{obligation_label(p.obligation_id)}: {'기한 내' if p.on_time else '기한 후'} 이행 (기한 {instant(p.due_at)})"
    return text + (" — 앞서 기록된 위반은 성립하지 않음" if p.voids_breach else "")


def _voucher(p: Any) -> str:
    return f"{ko(CAUSES, p.cause)}: {ko(VOUCHER_KINDS, p.voucher_kind)} {won(p.amount_won)}"


def _proposed(p: Any) -> str:
    text = _voucher(p) + ("" if p.settled else " (처리 완료 시 금액 확정)")
    text += "; 부서장 결재 필요" if p.approval == "department_head" else "; 헌장 기준에 따라 자동 승인"
    return text + (f"; 관련 공무원 {p.official_id}" if p.official_id else "")


def _settled(p: Any) -> str:
    return (f"{ko(CAUSES, p.cause)}: {won(p.amount_won)}으로 확정 "
            f"(근무시간 기준 {working_duration(p.lateness.working_seconds_late)} 지연)")


def _approved(p: Any) -> str:
    by = "헌장 기준 자동 승인" if p.approved_by == "policy" else f"승인자 {p.approved_by}"
    return f"{ko(CAUSES, p.cause)}: {won(p.amount_won)}; {by}"


def _issued(p: Any) -> str:
    return _voucher(p) + (f"; {p.batch_month} 월별 일괄 지급" if p.batch_month else "")


def _notice(p: Any) -> str:
    return (f"{ko(NOTICE_KINDS, p.kind)} 통지 / {ko(CHANNELS, p.channel)} / 서식 {p.template_id} v{p.template_version}"
            f" / 본문 SHA-256 {p.content_sha256[:16]}…")


def _notice_failed(p: Any) -> str:
    return f"{ko(NOTICE_KINDS, p.kind)} 통지 / {ko(CHANNELS, p.channel)} / 오류 {p.error_class}, {p.attempts}회 시도"


DETAILS: dict[str, Callable[[Any], str]] = {
    "PetitionReceived": lambda p: f"{ko(PETITION_TYPES, p.petition_type)}, {ko(CHANNELS, p.channel)} 접수",
    "ReceiptRecorded": lambda p: f"접수번호 {p.receipt_number}" if p.receipt_number else "",
    "OfficialAssigned": _assigned,
    "PetitionTransferred": _transferred,
    "SupplementRequested": lambda p: f"보완 사항: {p.items}" + (f"; 보완 기한 {instant(p.respond_by)}" if p.respond_by else ""),
    "ProcessingExtended": lambda p: (f"{period_ko(p.period)} 연장; 사유: {p.reason}; 처리 예정 {instant(p.expected_completion)}"
                                     f"; 민원인 동의 {'있음' if p.petitioner_consent else '없음'}"),
    "InterimNoticeRecorded": lambda p: f"처리 예정 {instant(p.expected_completion)}",
    "PetitionResolved": lambda p: f"처리 결과: {ko(OUTCOMES, p.outcome)}",
    "ResultEvaluated": lambda p: f"평점 {p.score}/5",
    "CallbackPromised": lambda p: f"회신 {p.callback_id}" + (
        f"; 희망 시각 {instant(p.requested_at)}" if p.requested_at else ""),
    "CallbackMade": lambda p: f"회신 {p.callback_id}",
    "OpinionRecorded": lambda p: f"{ko(OPINION_KINDS, p.kind)} {p.opinion_id}, {ko(OPINION_CLASSES, p.opinion_class)}",
    "OpinionAcknowledged": lambda p: f"의견 {p.opinion_id}: 답변 예정 {instant(p.expected_answer_at)}",
    "OpinionAnswered": lambda p: f"의견 {p.opinion_id}",
    "RepeatVisitRecorded": lambda p: f"공무원 {p.official_id}; 사유: {p.cause}",
    "AdministrativeErrorConfirmed": lambda p: f"공무원 {p.official_id}" if p.official_id else "",
    "DiscourtesyConfirmed": lambda p: f"공무원 {p.official_id}",
    "InsincereHandlingConfirmed": lambda p: f"공무원 {p.official_id}",
    "FindingWithdrawn": lambda p: f"{ko(CAUSES, p.finding)} 철회; 사유: {p.reason}",
    "PersonalDataErased": lambda p: f"사유: {p.reason}",
    "DisclosureStepRecorded": lambda p: ko(DISCLOSURE, p.step) + (
        f" ({ko(DISCLOSURE, p.decision)})" if p.decision else ""),
    "ObligationOpened": _opened,
    "ObligationAtRisk": lambda p: (f"{obligation_label(p.obligation_id)}: 기한 {instant(p.due_at)}, "
                                   f"기간의 {round(p.threshold * 100)}% 경과 (경고)"),
    "ObligationBreached": lambda p: f"{obligation_label(p.obligation_id)}: 기한 {instant(p.due_at)}" + (
        " — 헌장의 내부 목표로, 법정 기한 위반이 아님" if p.severity == "warning" else ""),
    "ObligationDischarged": _discharged,
    "ObligationSuspended": _suspended,
    "VoucherProposed": _proposed,
    "VoucherSettled": _settled,
    "VoucherApproved": _approved,
    "VoucherIssued": _issued,
    "VoucherDelivered": lambda p: f"{ko(CAUSES, p.cause)}; 전달자 {p.delivered_by}",
    "VoucherCancelled": lambda p: f"{ko(CAUSES, p.cause)}; 사유: {p.reason}",
    "ApologyOwed": lambda p: f"{ko(CAUSES, p.cause)}에 대한 사과 (헌장 {p.promise_id})",
    "RetrainingOrdered": lambda p: f"공무원 {p.official_id} (헌장 {p.promise_id})",
    "PersonnelActionReferred": lambda p: f"공무원 {p.official_id}, 확인 {p.strikes}회 누적 (헌장 {p.promise_id})",
    "NoticeSent": _notice,
    "NoticeFailed": _notice_failed,
}


def event_label(e: Envelope) -> str:
    """A breach event names what was breached, and a warning is worded as one."""
    p = e.payload
    if e.event_type == "ObligationBreached":
        return breach_label(p.obligation_id, p.severity)  # type: ignore[attr-defined]
    return LABELS.get(e.event_type, e.event_type)


def detail(e: Envelope) -> str:
    describe = DETAILS.get(e.event_type)
    return describe(e.payload) if describe else ""


def fields(e: Envelope) -> dict[str, Any]:
    """The payload fields the line was read from, as machines read them (instants in ISO 8601, KST)."""
    out: dict[str, Any] = {}
    if e.event_type in PRIVATE:
        return out
    for name in MACHINE_FIELDS:
        value = getattr(e.payload, name, None)
        if value is None or value == "":
            continue
        out[name] = isoformat_kst(value) if isinstance(value, datetime) else getattr(value, "value", value)
    return out
