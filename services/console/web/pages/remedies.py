"""보상 (/remedies): the agency's vouchers by status from the compensation API, approval and rejection by
the department head where the charter requires it (Seongnam), delivery, the monthly batches (issue a
month, its CSV), discourtesy strikes per official with the personnel-action referrals, and the findings
withdrawn.

Every write goes through the compensation API (``console.compensation``), which applies its own rules (a
voucher moves only as its state allows: 409 otherwise). The roles are checked here, on the server: an
approval or a rejection by anyone but a department head is refused (403) whatever the page showed, and
only for a voucher whose charter requires the head's approval.

The console's own rule comes first: an agency sees and acts on the vouchers of the cases it handles now
(a ``CaseRow`` of its agency in the projection). Compensation keeps a case's vouchers open to the agency
that filed it even after a transfer to another agency; the console does not: a voucher whose case another
agency handles is left out of every list and CSV here and answers every action exactly as a voucher that
does not exist (404). A monthly batch that holds such a voucher is not issued from here (409): the
agency handling its case issues it.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.console.accounts.users import User
from services.console.clients import ServiceError, ServiceUnavailable
from services.console.stats.privacy import without_contacts
from services.console.stats.remedies import (
    CaseLabel,
    case_labels,
    official_names,
    referrals,
    withdrawn_findings,
)
from services.console.web.labels import VOUCHER_STATUS
from services.console.web.render import render
from services.console.web.security import (
    CurrentUser,
    console_of,
    flash,
    flashed,
    require_role,
)
from services.platform.logs import get_logger
from shared.instants import to_kst

log = get_logger("console")

TABS = ("awaiting_approval", "proposed", "approved", "issued", "delivered", "cancelled")
APPROVERS = ("department_head",)  # approve, reject, issue a month's batch
DELIVERERS = ("official", "department_head")  # record that an issued voucher reached the citizen
MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
VoucherId = Annotated[str, Path(min_length=1, max_length=64)]
Approver = Annotated[User, Depends(require_role(*APPROVERS))]
Deliverer = Annotated[User, Depends(require_role(*DELIVERERS))]
DONE = {"approved": "승인했습니다", "rejected": "거절했습니다", "delivered": "전달을 기록했습니다"}


def may_decide(user: User, department: str | None) -> bool:
    """Approve or reject a voucher of a case of ``department``: a department head of that department; a case
    not assigned to a department yet, any department head of the agency (an account without a department
    decides only those). Administrators do not approve: the charter asks for the department head's approval."""
    return user.role in APPROVERS and (department is None or department == user.department)


def tab_of(v: dict[str, Any]) -> str:
    """Where a voucher stands for the page: a proposal waiting for the department head is 'awaiting approval'."""
    if v["status"] == "proposed" and v.get("approval") == "department_head" and v.get("settled", True):
        return "awaiting_approval"
    return str(v["status"])


def _service_failure(exc: ServiceError) -> str:
    if isinstance(exc, ServiceUnavailable):
        return "보상 서비스에 연결할 수 없습니다. 잠시 후 다시 시도하세요."
    if exc.status == 409:
        return f"보상 서비스가 이 작업을 거부했습니다: 현재 상태에서는 할 수 없습니다. ({exc.detail})"
    return f"보상 서비스가 요청을 처리하지 못했습니다 (오류 {exc.status}). ({exc.detail})"


def _page(request: Request, user: User, status: str, *, message: str | None = None, error: str | None = None,
          reject_errors: dict[str, str] | None = None, batch_error: str | None = None, batch_month: str = "",
          status_code: int = 200) -> Response:
    console = console_of(request)
    now = console.clock()
    try:
        vouchers = console.compensation.all_vouchers(user.agency_id)
        strikes = console.compensation.strikes(user.agency_id)
        unavailable = None
    except ServiceError as exc:
        vouchers, strikes, unavailable = [], [], _service_failure(exc)
    with console.db.readers() as session:
        names = official_names(session, user.agency_id)
        referred = referrals(session, user.agency_id)
        withdrawn = withdrawn_findings(session, user.agency_id)
        labels = case_labels(session, user.agency_id, sorted({v["case_id"] for v in vouchers}))
    vouchers = [{**v, "cancel_reason": without_contacts(v["cancel_reason"]) if v.get("cancel_reason") else None}
                for v in vouchers if v["case_id"] in labels]  # the cases the agency handles now, no other
    by_tab: dict[str, list[dict[str, Any]]] = {t: [] for t in TABS}
    for v in sorted(vouchers, key=lambda v: (v["proposed_at"], v["voucher_id"])):
        by_tab.setdefault(tab_of(v), []).append(v)
    months = sorted({v["batch_month"] for v in vouchers if v.get("batch_month")} | {f"{to_kst(now):%Y-%m}"},
                    reverse=True)
    referred_ids = {r.official_id for r in referred}
    decides = {v["voucher_id"] for v in vouchers if may_decide(user, labels[v["case_id"]].department)}
    return render(request, "remedies.html", {
        "status": status, "tabs": [(t, VOUCHER_STATUS[t], len(by_tab.get(t, []))) for t in TABS],
        "vouchers": by_tab.get(status, []), "total": len(vouchers), "names": names, "strikes": strikes,
        "labels": labels,
        "referred": referred, "referred_ids": referred_ids, "withdrawn": withdrawn, "months": months,
        "this_month": f"{to_kst(now):%Y-%m}", "now": now, "message": message, "error": error or unavailable,
        "reject_errors": reject_errors or {}, "batch_error": batch_error, "batch_month": batch_month,
        "can_approve": user.role in APPROVERS, "decides": decides, "can_deliver": user.role in DELIVERERS,
        "can_issue": user.role in APPROVERS}, nav="remedies", status_code=status_code)


CASE_COLUMN = "민원번호"  # the compensation CSV's column naming each row's case


def handled_rows(session: Session, agency_id: str, body: bytes) -> bytes:
    """The batch CSV's rows of the cases the agency handles now (compensation's CSV also lists the cases it
    filed and transferred): the header and those rows, as compensation wrote them (UTF-8 with BOM, CRLF)."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    if not rows:
        return body
    if CASE_COLUMN not in rows[0]:  # rows that name no case cannot be kept to the agency's: none are given
        raise HTTPException(503, "the compensation CSV names no case")
    column = rows[0].index(CASE_COLUMN)
    handled = case_labels(session, agency_id, sorted({r[column] for r in rows[1:] if len(r) > column}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([rows[0], *(r for r in rows[1:] if len(r) > column and r[column] in handled)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _back(status: str) -> Response:
    return RedirectResponse("/remedies?" + urlencode({"status": status}), status_code=303)


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/remedies", include_in_schema=False)
    def remedies(request: Request, user: CurrentUser,
                 status: Annotated[str, Query(max_length=32)] = "awaiting_approval") -> Response:
        if status not in TABS:
            status = "awaiting_approval"
        # what the last action did, in the server's words kept in the session: never a query echoed
        return _page(request, user, status, message=flashed(request))

    def act(request: Request, user: User, voucher_id: str, status: str, done: str,
            action: Callable[[], object],
            check: Callable[[dict[str, Any], CaseLabel], str | None] | None = None) -> Response:
        console = console_of(request)
        try:
            voucher = console.compensation.voucher(user.agency_id, voucher_id)
            with console.db.readers() as session:
                case = case_labels(session, user.agency_id, [voucher["case_id"]]).get(voucher["case_id"])
            if case is None:  # a case another agency handles now: as if no voucher
                raise HTTPException(404, "no such voucher")
            if check is not None:
                refusal = check(voucher, case)
                if refusal is not None:
                    raise HTTPException(403, refusal)
            action()
        except ServiceError as exc:
            if exc.status == 404:  # another agency's voucher, or none: the same answer
                raise HTTPException(404, "no such voucher") from exc
            return _page(request, user, status, error=_service_failure(exc),
                         status_code=exc.status if 400 <= exc.status < 500 else 503)
        log.info("console_voucher_action", action=done, user_id=user.user_id, voucher_id=voucher_id)
        flash(request, f"보상 {voucher_id}: {DONE[done]}.")
        return _back(status)

    def needs_head(user: User) -> Callable[[dict[str, Any], CaseLabel], str | None]:
        """Only where the charter requires the department head's approval (Seongnam), and only by the head of
        the case's department (``may_decide``)."""
        def check(v: dict[str, Any], case: CaseLabel) -> str | None:
            if v.get("approval") != "department_head":
                return "this voucher needs no approval"
            return None if may_decide(user, case.department) else "another department's voucher"
        return check

    @r.post("/remedies/{voucher_id}/approve", include_in_schema=False)
    def approve(request: Request, user: Approver, voucher_id: VoucherId) -> Response:
        compensation = console_of(request).compensation
        return act(request, user, voucher_id, "awaiting_approval", "approved",
                   lambda: compensation.approve(user.agency_id, voucher_id, user.actor_id), needs_head(user))

    @r.post("/remedies/{voucher_id}/reject", include_in_schema=False)
    def reject(request: Request, user: Approver, voucher_id: VoucherId,
               reason: Annotated[str, Form(max_length=4000)] = "") -> Response:
        reason = reason.strip()
        if not reason or len(reason) > 2000:
            return _page(request, user, "awaiting_approval", status_code=400, reject_errors={
                voucher_id: "거절 사유를 입력하세요." if not reason else "거절 사유는 2,000자 이내로 쓰세요."})
        compensation = console_of(request).compensation
        return act(request, user, voucher_id, "awaiting_approval", "rejected",
                   lambda: compensation.reject(user.agency_id, voucher_id, user.actor_id, reason), needs_head(user))

    @r.post("/remedies/{voucher_id}/deliver", include_in_schema=False)
    def deliver(request: Request, user: Deliverer, voucher_id: VoucherId) -> Response:
        compensation = console_of(request).compensation
        return act(request, user, voucher_id, "issued", "delivered",
                   lambda: compensation.deliver(user.agency_id, voucher_id, user.actor_id))

    @r.post("/remedies/batches", include_in_schema=False)
    def issue_batch(request: Request, user: Approver, month: Annotated[str, Form(max_length=32)] = "") -> Response:
        month = month.strip()
        if not MONTH.match(month):
            return _page(request, user, "approved", status_code=400, batch_month=month[:7],
                         batch_error="지급할 달을 2026-12 처럼 연도-월로 입력하세요.")
        console = console_of(request)
        try:
            batch = console.compensation.all_vouchers(user.agency_id, status="approved", batch_month=month)
            with console.db.readers() as session:
                handled = case_labels(session, user.agency_id, sorted({v["case_id"] for v in batch}))
            if any(v["case_id"] not in handled for v in batch):
                # compensation would issue them all; a voucher of a case another agency handles now is that
                # agency's to issue, never this one's
                return _page(request, user, "approved", status_code=409, batch_month=month, batch_error=(
                    f"{month} 일괄 지급분에 다른 기관으로 이송된 민원의 보상이 있어 이 화면에서 지급할 수 없습니다. "
                    "이송받은 기관이 지급합니다."))
            issued = console.compensation.issue_batch(user.agency_id, month, user.actor_id)
        except ServiceError as exc:
            return _page(request, user, "approved", error=_service_failure(exc), batch_month=month,
                         status_code=exc.status if 400 <= exc.status < 500 else 503)
        log.info("console_batch_issued", user_id=user.user_id, month=month, issued=len(issued))
        flash(request, f"{month} 일괄 지급: 보상 {len(issued)}건을 지급했습니다.")
        return _back("issued")

    @r.get("/remedies/batches/{month}.csv", include_in_schema=False)
    def batch_csv(request: Request, user: CurrentUser,
                  month: Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")]) -> Response:
        console = console_of(request)
        try:
            body = console.compensation.batch_csv(user.agency_id, month)
        except ServiceError as exc:
            raise HTTPException(503 if isinstance(exc, ServiceUnavailable) or exc.status >= 500 else exc.status,
                                "compensation refused") from exc
        with console.db.readers() as session:
            body = handled_rows(session, user.agency_id, body)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="vouchers-{user.agency_id}-{month}.csv"',
                                 "Cache-Control": "no-store"})

    @r.get("/remedies/batch.csv", include_in_schema=False)
    def batch_csv_form(user: CurrentUser, month: Annotated[str, Query(max_length=7)] = "") -> Response:
        """The GET form's target: on to the month's CSV (a month that is no month: back to the page)."""
        if not MONTH.match(month):
            return RedirectResponse("/remedies?status=approved", status_code=303)
        return RedirectResponse(f"/remedies/batches/{month}.csv", status_code=303)

    return r
