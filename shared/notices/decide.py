"""Which notices a case owes after an event, to which channels, with what content. Pure.

Triggers (LAW.md; CHARTERS.md): receipt, with the expected date and, where the charter
promises it, the petitioner's rights (Uijeongbu 민원미란다); transfer (Decree 13); extension,
with the reason and the new date, without delay (Decree 21); interim, when the SLA monitor
warns that the 30-day interim-notice obligation is at risk (Decree 23; Dangjin D5);
completion with a plain explanation (Act 27; D2), or a refusal with reasons and remedies
(Act 27; Decree 29); an apology when compensation owes one. Every notice names the
department and the official (real-name rule, Decree 31) once one is assigned.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.charters import CharterBook
from shared.charters.model import Charter, InterimNotice, ResultNotice, RightsNotice
from shared.events import Envelope, sla
from shared.events import compensation as comp
from shared.events import petition as ev
from shared.instants import to_kst
from shared.notices.render import korean_instant
from shared.petition_case import CaseState, apply
from shared.petition_clock import case_deadlines
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar

NAMESPACE = uuid.UUID("9a7e3c51-2b4d-4f68-8e1a-0c9d7b6a5f42")
SENDABLE = ("sms", "email", "inbox")  # post is printed and mailed by the agency, outside this system
OUTCOMES = {"accepted": "수용", "partly_accepted": "일부 수용", "refused": "불수용", "transferred": "이송"}
CAUSES = {"statutory_deadline_missed": "처리기한을 지키지 못했습니다", "repeat_visit": "담당자의 잘못으로 다시 방문하셨습니다",
          "administrative_error": "행정 착오가 있었습니다", "insincere_handling": "불성실한 처리가 확인되었습니다",
          "discourtesy": "불친절한 응대가 확인되었습니다"}
VOUCHER_KINDS = {"gift_certificate": "상품권", "culture_voucher": "문화상품권", "bank_transfer": "보상금(계좌이체)",
                 "cash": "보상금"}


TRIGGERS = (ev.PetitionReceived, ev.ReceiptRecorded, ev.PetitionTransferred, ev.ProcessingExtended,
            sla.ObligationAtRisk, ev.PetitionResolved, comp.ApologyOwed, ev.SupplementRequested)
# How a voucher reaches the citizen, by how the charter pays it (the apology says it: issue 19).
COLLECTION = {"monthly_batch": "보상은 매월 한 번 모아 지급하며, 지급할 때 다시 알려 드립니다.",
              "department_head": "부서장 승인을 거쳐 지급하며, 지급할 때 다시 알려 드립니다.",
              "bank_transfer": "보상금은 계좌로 이체해 드리며, 계좌 확인을 위해 담당자가 연락드립니다.",
              "cash": "보상금은 담당 부서를 방문하시면 지급해 드립니다.",
              "voucher": "상품권은 담당 부서에서 받으시거나, 원하시면 우편으로 보내 드립니다."}


def notice_id(cause_event_id: str, kind: str, channel: str) -> str:
    """Derived from the cause: a redelivered event finds the notice it already sent."""
    return str(uuid.uuid5(NAMESPACE, f"{cause_event_id}|{kind}|{channel}"))


@dataclass(frozen=True)
class NoticeCase:
    state: CaseState
    charter: Charter | None
    applicant: Sealed
    channels: tuple[str, ...]
    electronic_consent: bool
    agency_id: str = ""
    vouchers: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)  # cause -> (amount, kind, approval, payment)
    # the official who had the case when it was last transferred: the transfer leaves it with nobody, and its
    # notice names who sent it on (Decree 31)
    transferred_by: ev.Official | None = None


@dataclass(frozen=True)
class Order:
    notice_id: str
    kind: str
    channel: str
    cause_event_id: str
    context: dict[str, Any]


def observe(case: NoticeCase | None, env: Envelope, charters: CharterBook) -> NoticeCase | None:
    """Fold one event into what notify keeps of a case."""
    p = env.payload
    if case is None:
        if not isinstance(p, ev.PetitionReceived):
            return None
        charter = charters.get(env.charter.charter_id, env.charter.version) if env.charter else None
        case = NoticeCase(CaseState(env.case_id), charter, p.applicant, tuple(c.value for c in p.notice_channels),
                          p.electronic_consent, p.agency_id)
    if isinstance(p, comp.VoucherProposed):
        return replace(case, vouchers={**case.vouchers, p.cause: (p.amount_won, p.voucher_kind, p.approval, p.payment)})
    if isinstance(p, comp.VoucherSettled):
        _, kind, approval, payment = case.vouchers.get(p.cause, (0, "gift_certificate", "none", "on_issue"))
        return replace(case, vouchers={**case.vouchers, p.cause: (p.amount_won, kind, approval, payment)})
    if env.case_version and env.case_version > case.state.version:
        if isinstance(p, ev.PetitionTransferred):
            case = replace(case, transferred_by=case.state.official)
        return replace(case, state=apply(case.state, env))
    return case


def owed(case: NoticeCase, env: Envelope, calendar: WorkingCalendar) -> list[Order]:
    """The notices this event (already folded into ``case``) makes owed."""
    p = env.payload
    s = case.state
    if not isinstance(p, TRIGGERS):
        return []  # most events owe no notice: skip the deadline computation the context needs
    ctx = _base(case, calendar)
    kind: str | None = None
    if isinstance(p, ev.PetitionReceived) and s.received_at is not None:
        kind = "receipt"  # received on arrival (visit, phone, post, fax)
    elif isinstance(p, ev.ReceiptRecorded):
        kind = "receipt"  # an electronic petition formally received (Decree 6-7)
    elif isinstance(p, ev.PetitionTransferred):
        kind = "transfer"
        by = case.transferred_by
        ctx.update(destination=p.to_department or p.to_agency_id, reason=p.reason, scope=p.scope,
                   transferred_by=None if by is None else {"name": by.name, "department": by.department,
                                                           "phone": by.phone, "email": by.email})
    elif isinstance(p, ev.SupplementRequested):
        kind = "supplement_request"  # Act 22; Decree 24-25: in writing, what is missing and by when
        ctx.update(items=p.items, respond_by=korean_instant(p.respond_by) if p.respond_by else None,
                   second=s.supplement_requests >= 2)
    elif isinstance(p, ev.ProcessingExtended):
        kind = "extension"
        ctx.update(reason=p.reason, new_date=korean_instant(p.expected_completion))
    elif isinstance(p, sla.ObligationAtRisk) and p.kind == "interim_notice" and s.received_at is not None:
        kind = "interim"
    elif isinstance(p, ev.PetitionResolved):
        refused = p.outcome in (ev.Outcome.REFUSED, ev.Outcome.PARTLY_ACCEPTED)
        kind = "refusal" if refused else "completion"
        ctx.update(outcome=OUTCOMES[p.outcome.value], explanation=p.explanation, reasons=p.refusal_reasons or "",
                   remedies=p.remedies or "", completed_at=korean_instant(env.occurred_at))
    elif isinstance(p, comp.ApologyOwed):
        kind = "apology"
        amount, voucher_kind, approval, payment = case.vouchers.get(p.cause, (0, "", "none", "on_issue"))
        ctx.update(cause=CAUSES[p.cause], voucher_won=f"{amount:,}" if amount else None,
                   voucher_kind=VOUCHER_KINDS.get(voucher_kind, voucher_kind),
                   collection=_collection(voucher_kind, approval, payment) if amount else None,
                   missed_due=ctx["due_at"] if p.cause == "statutory_deadline_missed" else None)
    if kind is None:
        return []
    cause = str(env.event_id)
    return [Order(notice_id(cause, kind, ch), kind, ch, cause, ctx) for ch in channels(case, kind)]


def _collection(voucher_kind: str, approval: str, payment: str) -> str:
    """How the citizen will get the voucher: when it is paid, then in what form."""
    when = COLLECTION["monthly_batch"] if payment == "monthly_batch" else (
        COLLECTION["department_head"] if approval == "department_head" else "")
    how = COLLECTION.get(voucher_kind, COLLECTION["voucher"])
    return f"{when} {how}".strip()


def as_of(context: dict[str, Any], calendar: WorkingCalendar, at: datetime) -> dict[str, Any]:
    """The context with its clock figures (days since receipt, working days left) as of ``at``: the
    instant the notice is rendered to be sent, not the instant its cause happened (a warning may fire
    days before notify can send). The same function renders it again in the audit replay."""
    clock = context.get("clock")
    out = {k: v for k, v in context.items() if k != "clock"}
    if clock is None:
        return out
    received = datetime.fromisoformat(clock["received_at"]) if clock["received_at"] else None
    due = datetime.fromisoformat(clock["due_at"]) if clock["due_at"] else None
    # the day of receipt is day 1, counted by dates in Seoul (접수 후 N일째)
    out["days_open"] = (to_kst(at).date() - to_kst(received).date()).days + 1 if received is not None else None
    out["remaining_days"] = _working_days_left(calendar, at, due) if due is not None else clock["paused_days_left"]
    # what the current templates say instead of a date: a paused clock has no deadline, a passed one is late
    out["clock_paused"] = received is not None and due is None
    out["overdue"] = due is not None and at >= due
    return out


def _working_days_left(calendar: WorkingCalendar, now: datetime, due: datetime) -> int:
    """Dangjin D5: the remaining days, in started working days of 8 hours (Act 19)."""
    left = calendar.working_seconds_until(due) - calendar.working_seconds_until(now)
    return max(0, math.ceil(left / (8 * 3600)))


def channels(case: NoticeCase, kind: str) -> list[str]:
    """The applicant's chosen channels, plus what the charter promises where electronic notice is allowed
    (consent given, or the petition filed electronically: Act 27; Decree 29)."""
    chosen = list(case.channels)
    electronic = case.electronic_consent or case.state.channel in ev.ELECTRONIC_CHANNELS
    promised: list[str] = []
    if case.charter is not None and electronic:
        if kind in ("completion", "refusal"):
            promised = [c for p in case.charter.promises_of(ResultNotice) for c in p.channels]
        elif kind in ("interim", "extension"):
            promised = [c for p in case.charter.promises_of(InterimNotice) for c in p.channels]
    out: list[str] = []
    for ch in chosen + promised:
        if ch in SENDABLE and ch not in out:
            out.append(ch)
    return out


def _base(case: NoticeCase, calendar: WorkingCalendar) -> dict[str, Any]:
    s = case.state
    deadlines = case_deadlines(s, case.charter, calendar)
    due = deadlines.statutory if deadlines is not None else None
    official = s.official
    return {
        "municipality": case.charter.municipality if case.charter else s.municipality_id,
        "title": s.title,
        "case_ref": s.reference,
        "received_at": korean_instant(s.received_at) if s.received_at else "",
        "due_at": korean_instant(due.due_at) if due is not None and due.due_at is not None else "기간 정지 중",
        # what ``as_of`` turns into figures at the sending instant
        "clock": {"received_at": s.received_at.isoformat() if s.received_at else None,
                  "due_at": due.due_at.isoformat() if due is not None and due.due_at is not None else None,
                  "paused_days_left": None if due is None else due.remaining_working_days},
        "rights": bool(case.charter and case.charter.promises_of(RightsNotice)),
        "official": None if official is None else {"name": official.name, "department": official.department,
                                                   "phone": official.phone, "email": official.email},
    }
