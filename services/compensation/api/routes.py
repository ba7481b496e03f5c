"""Compensation routes (v1). Writes go through the ledger in one transaction, then the outbox is published."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from services.compensation.api import examples
from services.compensation.api.deps import Compensation, Deps
from services.compensation.api.schemas import (
    OfficialAction,
    Rejection,
    StrikeCount,
    TransitionOut,
    VoucherDetail,
    VoucherOut,
    VoucherPage,
)
from services.compensation.ledger.book import Ledger, VoucherNotFound, strike_counts
from services.compensation.ledger.orm import (
    CaseAccessRow,
    VoucherRow,
    VoucherTransitionRow,
)
from services.platform.http.auth import Agency
from services.platform.http.paging import keyset_page
from services.platform.logs import get_logger
from shared.events import Envelope
from shared.events.ids import ID_PATTERN

router = APIRouter()
log = get_logger("compensation")
Month = Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Status = Literal["proposed", "approved", "issued", "delivered", "cancelled"]
Cause = Literal["statutory_deadline_missed", "repeat_visit", "administrative_error", "insincere_handling", "discourtesy"]
CAUSE_LABELS = {"statutory_deadline_missed": "처리기한 초과", "repeat_visit": "재방문", "administrative_error": "행정착오",
                "insincere_handling": "불성실 처리", "discourtesy": "불친절"}
KIND_LABELS = {"gift_certificate": "상품권", "culture_voucher": "문화상품권", "bank_transfer": "계좌이체", "cash": "현금"}
# The request bodies with their Korean examples in the docs
ApprovalBody = Annotated[OfficialAction, Body(openapi_examples=examples.APPROVAL)]
RejectionBody = Annotated[Rejection, Body(openapi_examples=examples.REJECTION)]
DeliveryBody = Annotated[OfficialAction, Body(openapi_examples=examples.DELIVERY)]
BatchBody = Annotated[OfficialAction, Body(openapi_examples=examples.BATCH)]
# Each operation's error answers in its own words (problem+json: services.platform.http.openapi adds the body).
NO_VOUCHER: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such voucher among the agency's cases (another agency's answers as a missing one)"}}
TRANSITION: dict[int | str, dict[str, Any]] = {**NO_VOUCHER, 409: {
    "description": "the voucher cannot make this transition now (a voucher-transition problem; `rule` names why, "
                   "e.g. voucher-state)"}}


def _visible(session: Session, agency_id: str) -> Callable[[str], bool]:
    """The one access rule, for reads and writes: the agency filed the case, or it was transferred to it."""
    def check(case_id: str) -> bool:
        return session.get(CaseAccessRow, (case_id, agency_id)) is not None
    return check


def _theirs(agency_id: str):  # type: ignore[no-untyped-def]
    """The same rule as a join condition, for lists."""
    return and_(CaseAccessRow.case_id == VoucherRow.case_id, CaseAccessRow.agency_id == agency_id)


def _voucher(session: Session, voucher_id: str, agency_id: str) -> VoucherRow:
    row = session.get(VoucherRow, voucher_id)
    if row is None or not _visible(session, agency_id)(row.case_id):
        raise HTTPException(404, f"no voucher {voucher_id}")
    return row


def _publish(c: Compensation) -> None:
    c.outbox.publish_soon()  # committed in the ledger; if the log is down, the worker's next batch sends it


def _detail(session: Session, row: VoucherRow) -> VoucherDetail:
    steps = session.execute(select(VoucherTransitionRow).where(VoucherTransitionRow.voucher_id == row.voucher_id)
                            .order_by(VoucherTransitionRow.seq)).scalars()
    return VoucherDetail(**VoucherOut.model_validate(row).model_dump(),
                         transitions=[TransitionOut.model_validate(t) for t in steps])


@router.get("/v1/vouchers", response_model=VoucherPage, tags=["vouchers"], summary="List and filter vouchers")
def list_vouchers(c: Deps, agency_id: Agency, status: Status | None = None, cause: Cause | None = None,
                  case_id: str | None = Query(default=None, max_length=64),
                  batch_month: str | None = Query(default=None, pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$"),
                  official_id: str | None = Query(default=None, max_length=64, pattern=ID_PATTERN),
                  cursor: str | None = Query(default=None, max_length=400,
                                             description="the next_cursor of the previous page"),
                  limit: int = Query(default=50, ge=1, le=500)) -> VoucherPage:
    q = select(VoucherRow).join(CaseAccessRow, _theirs(agency_id))
    for column, value in ((VoucherRow.status, status), (VoucherRow.cause, cause), (VoucherRow.case_id, case_id),
                          (VoucherRow.batch_month, batch_month), (VoucherRow.official_id, official_id)):
        if value is not None:
            q = q.where(column == value)
    with c.db.readers() as session:
        rows, next_cursor = keyset_page(session, q, VoucherRow.voucher_id, cursor, limit)
    return VoucherPage(items=[VoucherOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/vouchers/{voucher_id}", response_model=VoucherDetail, tags=["vouchers"], responses=NO_VOUCHER,
            summary="One voucher with every state it passed through")
def get_voucher(voucher_id: str, c: Deps, agency_id: Agency) -> VoucherDetail:
    with c.db.readers() as session:
        return _detail(session, _voucher(session, voucher_id, agency_id))


def _act(request: Request, c: Compensation, voucher_id: str, agency_id: str,
         action: Callable[[Ledger, Session], list[Envelope]]) -> VoucherDetail:
    ledger = c.ledger
    with c.db.sessions.begin() as session:
        _voucher(session, voucher_id, agency_id)
        try:
            action(ledger, session)
        except VoucherNotFound as exc:
            raise HTTPException(404, f"no voucher {voucher_id}") from exc
    _publish(c)
    with c.db.readers() as session:
        return _detail(session, _voucher(session, voucher_id, agency_id))


@router.post("/v1/vouchers/{voucher_id}/approval", response_model=VoucherDetail, tags=["vouchers"],
             summary="Approve a proposed voucher (the department head, Seongnam); issued at once unless paid monthly",
             responses=TRANSITION)
def approve(voucher_id: str, body: ApprovalBody, request: Request, c: Deps, agency_id: Agency) -> VoucherDetail:
    return _act(request, c, voucher_id, agency_id,
                lambda ledger, s: ledger.approve(s, voucher_id, body.official_id, c.clock()))


@router.post("/v1/vouchers/{voucher_id}/rejection", response_model=VoucherDetail, tags=["vouchers"],
             summary="Reject a proposed voucher: cancelled with the reason, never deleted", responses=TRANSITION)
def reject(voucher_id: str, body: RejectionBody, request: Request, c: Deps, agency_id: Agency) -> VoucherDetail:
    return _act(request, c, voucher_id, agency_id,
                lambda ledger, s: ledger.reject(s, voucher_id, body.official_id, body.reason, c.clock()))


@router.post("/v1/vouchers/{voucher_id}/delivery", response_model=VoucherDetail, tags=["vouchers"],
             summary="Record that an issued voucher reached the citizen", responses=TRANSITION)
def deliver(voucher_id: str, body: DeliveryBody, request: Request, c: Deps, agency_id: Agency) -> VoucherDetail:
    return _act(request, c, voucher_id, agency_id,
                lambda ledger, s: ledger.deliver(s, voucher_id, body.official_id, c.clock()))


@router.post("/v1/voucher-batches/{month}/issue", response_model=list[VoucherOut], tags=["batches"],
             summary="Issue every approved voucher of a monthly batch (Gochang, Busan)",
             responses={409: {"description": "a voucher of the batch cannot be issued now (a voucher-transition "
                                             "problem; `rule` names why)"}})
def issue_batch(month: Month, body: BatchBody, request: Request, c: Deps, agency_id: Agency) -> list[VoucherOut]:
    ledger = c.ledger
    with c.db.sessions.begin() as session:
        issued = ledger.issue_batch(session, month, body.official_id, c.clock(), _visible(session, agency_id))
        ids = [e.payload.voucher_id for e in issued]  # type: ignore[attr-defined]
    _publish(c)
    with c.db.readers() as session:
        return [VoucherOut.model_validate(session.get(VoucherRow, i)) for i in ids]


@router.get("/v1/voucher-batches/{month}.csv", tags=["batches"], response_class=Response,
            summary="A month's batch as CSV (UTF-8 with BOM: opens in Korean Excel)",
            responses={200: {"content": {"text/csv": {}}}})
def batch_csv(month: Month, c: Deps, agency_id: Agency) -> Response:
    q = (select(VoucherRow).join(CaseAccessRow, _theirs(agency_id))
         .where(VoucherRow.batch_month == month,
                VoucherRow.status.in_(("approved", "issued", "delivered"))).order_by(VoucherRow.voucher_id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["바우처ID", "민원번호", "사유", "사유코드", "금액(원)", "종류", "상태", "승인자", "승인일시",
                     "지급일시", "헌장", "약속"])
    with c.db.readers() as session:
        for r in session.execute(q).scalars():
            writer.writerow([r.voucher_id, r.case_id, CAUSE_LABELS.get(r.cause, r.cause), r.cause, r.amount_won,
                             KIND_LABELS.get(r.voucher_kind, r.voucher_kind), r.status, r.approved_by or "",
                             r.approved_at.isoformat() if r.approved_at else "",
                             r.issued_at.isoformat() if r.issued_at else "",
                             f"{r.charter_id} {r.charter_version}", r.promise_id])
    return Response(content="\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="vouchers-{month}.csv"'})


@router.get("/v1/strikes", response_model=list[StrikeCount], tags=["officials"],
            summary="Confirmed discourtesy strikes per official of the calling agency (D11, Y4)")
def strikes(c: Deps, agency_id: Agency,
            official_id: str | None = Query(default=None, max_length=64, pattern=ID_PATTERN)) -> list[StrikeCount]:
    with c.db.readers() as session:
        return [StrikeCount(official_id=o, strikes=n, withdrawn=w)
                for o, n, w in strike_counts(session, agency_id, official_id)]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
