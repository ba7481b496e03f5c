"""민원 상세 (/cases/{case_id}): one case's timeline in Korean, every obligation with its clock, the notices
sent, the remedies owed, and the audit replay's verdict with its printable report.

The report comes from the audit API (``console.audit``) as the signed-in user's agency; the browser gets
it through ``/cases/{id}/report.html`` and ``.pdf`` here, so it never needs an API key. A case another
agency handles answers exactly as a case that does not exist: the same 404 page.

After a transfer to another agency (Decree 13) the receiving agency's page shows the sending agency's
facts as that agency's history: what happened and when, never who handled it there (no official, no
department, none of their words but the transfer's reason); its remedies and evaluations are not shown.

Free text comes with contacts masked (``stats.privacy``). The citizen's evaluation (score and comment, in
the summary and in the timeline) is shown to an official only when it evaluated their own work (the case
was assigned to them when it was evaluated); department heads, auditors and administrators see all of the
agency's, as on /satisfaction.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.console.accounts.users import User
from services.console.clients import ServiceError, ServiceUnavailable
from services.console.stats.case import CaseDetail, Fact, ObligationClock, case_detail
from services.console.stats.privacy import sees_evaluation, without_contacts
from services.console.web.labels import (
    CAUSES,
    EVENTS,
    FINDINGS,
    NOTICE_KINDS,
    OUTCOMES,
    REMEDY_KINDS,
    kdate,
    ko,
    obligation_label,
)
from services.console.web.render import render
from services.console.web.security import CurrentUser, console_of
from services.platform.logs import get_logger
from shared.instants import parse_instant
from shared.periods import Period
from shared.working_time import WorkingCalendar

log = get_logger("console")
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
# The audit's printable report styles itself inline and loads nothing: only that is allowed.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")


@dataclass(frozen=True)
class Moment:
    """One line of the timeline."""

    at: datetime
    what: str
    detail: str
    kind: str  # fact / notice / breach / voucher / remedy: what the line is, for its look
    order: int = 0


@dataclass(frozen=True)
class Clock:
    """An obligation as the page words it."""

    label: str
    due_at: datetime | None
    running: bool
    paused: bool
    remaining_working_seconds: int | None
    result: str  # the words
    tone: str  # danger / warning / success / gray / secondary (a KRDS badge colour)
    internal: bool  # not owed to the citizen (the charter's own target)


def _when(value: Any) -> str:
    try:
        return kdate(parse_instant(str(value), "at"))
    except Exception:  # noqa: BLE001 - a value the log holds in another shape is shown as it is
        return str(value)


def _period(value: str) -> str:
    try:
        p = Period.parse(value)
    except ValueError:
        return value
    return f"{p.amount}{'일' if p.unit == 'd' else '시간'}"


def fact_detail(event_type: str, p: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """What a petition fact says, in a line (the applicant's data is not in the projection); ``names``: the
    officials' names by id, as the case's assignments give them."""
    official = p.get("official") or {}
    who = (names or {}).get(str(p.get("official_id")), p.get("official_id"))
    words = {
        "PetitionReceived": lambda: f"{ko(p.get('channel'), 'CHANNELS')} 접수 · {ko(p.get('petition_type'), 'PETITION_TYPES')}"
                                    + (f" ({p['petition_kind']})" if p.get("petition_kind") else ""),
        "ReceiptRecorded": lambda: f"접수번호 {p['receipt_number']}" if p.get("receipt_number") else "",
        "OfficialAssigned": lambda: f"{official.get('department', '')} {official.get('name', '')}".strip()
                                    + (f" (후견인 {p['guardian'].get('name', '')})" if p.get("guardian") else ""),
        "PetitionTransferred": lambda: (f"{p.get('to_department')}(으)로" if p.get("scope") == "within_agency"
                                        else f"기관 {p.get('to_agency_id')}(으)로") + f" · 사유: {p.get('reason', '')}",
        "SupplementRequested": lambda: f"보완 요청 내용: {p.get('items', '')}"
                                       + (f" · 기한 {_when(p['respond_by'])}" if p.get("respond_by") else ""),
        "SupplementReceived": lambda: p.get("note") or "",
        "FieldInvestigationStarted": lambda: p.get("note") or "",
        "FieldInvestigationEnded": lambda: p.get("note") or "",
        "ProcessingExtended": lambda: f"{_period(str(p.get('period')))} 연장 · 사유: {p.get('reason', '')} · 처리 예정 "
                                      f"{_when(p.get('expected_completion'))}"
                                      + (" · 민원인 동의" if p.get("petitioner_consent") else ""),
        "InterimNoticeRecorded": lambda: f"처리 예정 {_when(p['expected_completion'])}" if p.get("expected_completion") else "",
        "PetitionResolved": lambda: f"{ko(p.get('outcome'), 'OUTCOMES')} · {p.get('explanation', '')}"
                                    + (f" · 불수용 사유: {p['refusal_reasons']}" if p.get("refusal_reasons") else ""),
        "ObjectionFiled": lambda: f"사유: {p.get('reason', '')}",
        "ResultEvaluated": lambda: f"{p.get('score')}점" + (f" · “{p['comment']}”" if p.get("comment") else ""),
        "CallbackPromised": lambda: f"회신 {p.get('callback_id', '')}",
        "CallbackMade": lambda: f"회신 {p.get('callback_id', '')}",
        "RepeatVisitRecorded": lambda: f"담당 {who} · {p.get('cause', '')}",
        "AdministrativeErrorConfirmed": lambda: p.get("description", "") + (f" · 담당 {who}" if who else ""),
        "DiscourtesyConfirmed": lambda: f"담당 {who} · {p.get('finding', '')}",
        "InsincereHandlingConfirmed": lambda: f"담당 {who} · {p.get('finding', '')}",
        "FindingWithdrawn": lambda: f"{FINDINGS.get(str(p.get('finding')), p.get('finding'))} 철회 · 사유: {p.get('reason', '')}",
        "PersonalDataErased": lambda: f"사유: {p.get('reason', '')}",
    }.get(event_type)
    try:
        return str(words()) if words else ""
    except (KeyError, TypeError, AttributeError):
        return ""


def clock_words(o: ObligationClock) -> Clock:
    """Kept, breached, warned, running or paused: a missed charter target or an at-risk warning is a warning,
    never a breach."""
    warning = o.severity == "warning" or o.kind == "charter_target"
    if o.paused:
        result, tone = "정지 중", "gray"
    elif o.running and o.state == "at_risk":
        result, tone = "기한 임박 (경고)", "warning"
    elif o.running:
        result, tone = "진행 중", "secondary"
    elif o.state == "breached":
        result, tone = ("목표 미달 (경고, 위반 아님)", "warning") if warning else ("위반", "danger")
    elif o.kept:
        result, tone = "기한 내 이행", "success"
    elif o.severity == "breach":
        result, tone = "기한 후 이행 (위반)", "danger"
    else:
        result, tone = ("목표보다 늦게 이행 (경고, 위반 아님)", "warning") if warning else ("기한 후 이행", "warning")
    return Clock(obligation_label(o.obligation_id), o.due_at, o.running, o.paused, o.remaining_working_seconds,
                 result, tone, not o.citizen_facing)


def official_names(d: CaseDetail) -> dict[str, str]:
    """The officials the case's assignments name, by id (the agency's own: not the sending agency's)."""
    names = {}
    for f in d.facts:
        if f.agency_id != d.case.agency_id:
            continue
        for o in (f.payload.get("official"), f.payload.get("guardian")):
            if isinstance(o, dict) and o.get("official_id") and o.get("name"):
                names[str(o["official_id"])] = str(o["name"])
    return names


HIDDEN_EVALUATION = "평가 내용은 평가받은 담당 공무원과 부서장·감사 담당·관리자만 볼 수 있습니다."


@dataclass(frozen=True)
class Shown:
    """A case as ``user`` may read it: ``hidden``, the event ids of the evaluations kept from them."""

    detail: CaseDetail
    hidden: frozenset[str]


def for_user(d: CaseDetail, user: User) -> Shown:
    """The evaluations ``user`` may read (``stats.privacy.sees_evaluation``); the case's latest evaluation
    in its summary only if it is one of them."""
    visible = [e for e in d.evaluations if sees_evaluation(user.role, user.official_id, e.official_id)]
    hidden = frozenset(e.event_id for e in d.evaluations) - {e.event_id for e in visible}
    if not hidden:
        return Shown(d, hidden)
    latest = visible[-1] if visible else None
    case = replace(d.case, evaluation_score=latest.score if latest else None,
                   evaluation_comment=latest.comment if latest else None, evaluated_at=latest.at if latest else None)
    return Shown(replace(d, case=case, evaluations=visible), hidden)


def history_detail(f: Fact) -> str:
    """A fact of the agency that handled the case before a transfer (Decree 13): which agency, and what it
    says that names no one (the receipt, the transfer and its reason); who handled it there is theirs."""
    p = f.payload
    what = ""
    if f.event_type in ("PetitionReceived", "ReceiptRecorded"):
        what = fact_detail(f.event_type, p)
    elif f.event_type == "PetitionTransferred" and p.get("scope") == "other_agency":
        what = fact_detail(f.event_type, p)
    return f"이전 처리 기관 {f.agency_id}의 기록" + (f" · {what}" if what else " (담당자·부서는 표시하지 않습니다)")


def timeline(d: CaseDetail, hidden: frozenset[str] = frozenset()) -> list[Moment]:
    names = official_names(d)
    out = [Moment(f.occurred_at, EVENTS.get(f.event_type, f.event_type),
                  history_detail(f) if f.agency_id != d.case.agency_id else
                  HIDDEN_EVALUATION if f.event_id in hidden else fact_detail(f.event_type, f.payload, names),
                  "history" if f.agency_id != d.case.agency_id else "fact", 0) for f in d.facts]
    for o in d.obligations:
        if o.state == "breached" or (o.severity is not None and o.due_at is not None):
            warning = o.severity == "warning"
            label = obligation_label(o.obligation_id)
            out.append(Moment(o.due_at, f"{label} 경과 (경고)" if warning else f"{label} 위반",  # type: ignore[arg-type]
                              "헌장의 내부 목표로, 법정 기한 위반이 아닙니다." if warning else "", "breach", 1))
    for n in d.notices:
        out.append(Moment(n.at, f"{NOTICE_KINDS.get(n.kind, n.kind)} {'발송' if n.status == 'sent' else '실패'}",
                          f"{ko(n.channel, 'CHANNELS')}", "notice", 2))
    for v in d.vouchers:
        out.append(Moment(v.proposed_at, "보상 제안", f"{CAUSES.get(v.cause, v.cause)} · {v.amount_won:,}원"
                          + (" · 부서장 승인 필요" if v.needs_approval else ""), "voucher", 3))
    for r in d.remedies:
        out.append(Moment(r.at, REMEDY_KINDS.get(r.kind, r.kind),
                          " · ".join(x for x in (CAUSES.get(r.cause or "", r.cause or ""),
                                                 f"담당 {names.get(r.official_id, r.official_id)}" if r.official_id
                                                 else "") if x),
                          "remedy", 4))
    out.sort(key=lambda m: (m.at, m.order))
    return out


def _audit_verdict(request: Request, agency_id: str, case_id: str) -> dict[str, Any]:
    try:
        report = console_of(request).audit.case_report(agency_id, case_id, format="json")
    except ServiceUnavailable:
        return {"available": False, "message": "감사 서비스에 연결할 수 없어 재현 결과를 확인하지 못했습니다."}
    except ServiceError as exc:
        log.info("console_audit_refused", status=exc.status)
        return {"available": False, "message": f"감사 서비스가 재현 결과를 주지 않았습니다 (오류 {exc.status})."}
    return {"available": True, "agrees": bool(report.get("agrees")), "differences": len(report.get("differences") or []),
            "undecided": report.get("undecided"), "decisions": sum((report.get("rederived") or {}).values()),
            "conclusion": without_contacts(str(report.get("conclusion") or "")), "as_of": report.get("as_of_ko") or ""}


def router(calendar: WorkingCalendar) -> APIRouter:
    r = APIRouter()

    def detail_or_404(request: Request, agency_id: str, case_id: str) -> CaseDetail:
        console = console_of(request)
        with console.db.readers() as session:
            found = case_detail(session, agency_id, case_id, calendar, console.clock())
        if found is None:  # missing, or another agency's: the same answer
            raise HTTPException(404, "no such case")
        return found

    @r.get("/cases/{case_id}", include_in_schema=False)
    def case_page(request: Request, user: CurrentUser, case_id: CaseId) -> Response:
        shown = for_user(detail_or_404(request, user.agency_id, case_id), user)
        d = shown.detail
        c = d.case
        now = console_of(request).clock()
        return render(request, "case.html", {
            "d": d, "c": c, "now": now, "timeline": timeline(d, shown.hidden), "hidden_evaluations": len(shown.hidden),
            "clocks": [clock_words(o) for o in d.obligations],
            "period": _period(c.statutory_period) if c.statutory_period else None,
            "outcome": OUTCOMES.get(c.outcome or "", c.outcome), "audit": _audit_verdict(request, user.agency_id, case_id),
            "awaiting": [v for v in d.vouchers if v.status == "proposed" and v.needs_approval],
            "names": official_names(d)}, nav="queue")

    @r.get("/cases/{case_id}/report.html", include_in_schema=False)
    def report_html(request: Request, user: CurrentUser, case_id: CaseId) -> Response:
        detail_or_404(request, user.agency_id, case_id)
        html = _report(request, user.agency_id, case_id, "html")
        return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"})

    @r.get("/cases/{case_id}/report.pdf", include_in_schema=False)
    def report_pdf(request: Request, user: CurrentUser, case_id: CaseId) -> Response:
        detail_or_404(request, user.agency_id, case_id)
        pdf = _report(request, user.agency_id, case_id, "pdf")
        name = "".join(ch for ch in case_id if ch.isascii() and (ch.isalnum() or ch in "-_"))[:80] or "case"
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="audit-{name}.pdf"',
                                 "Cache-Control": "no-store"})

    return r


def _report(request: Request, agency_id: str, case_id: str, format: str) -> Any:  # noqa: A002
    try:
        return console_of(request).audit.case_report(agency_id, case_id, format=format)  # type: ignore[arg-type]
    except ServiceUnavailable as exc:
        raise HTTPException(503, "audit unavailable") from exc
    except ServiceError as exc:
        raise HTTPException(404 if exc.status == 404 else 503, "audit refused") from exc
