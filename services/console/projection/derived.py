"""Derived events into the console's read model: obligations (the SLA monitor), vouchers and remedies
(compensation), notices (notify). Called once per event (the handler deduplicates), after the case's
petition facts up to the event's case version were read.

A breach, a voucher and a remedy are the agency's that handled the case at the event's case version
(``handling_at``), even when the event is read after the case was transferred to another agency."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.projection.orm import (
    BreachRow,
    CaseFactRow,
    CaseRow,
    NoticeRow,
    ObligationRow,
    RemedyRow,
    VoucherRow,
)
from shared.events import Envelope, sla
from shared.events import compensation as cv
from shared.events import notice as nv

VOUCHER_STATUS = {cv.VoucherApproved: "approved", cv.VoucherIssued: "issued", cv.VoucherDelivered: "delivered",
                  cv.VoucherCancelled: "cancelled"}
REMEDY_KIND = {cv.ApologyOwed: "apology", cv.RetrainingOrdered: "retraining", cv.PersonnelActionReferred: "referral"}


def handling_at(session: Session, case: CaseRow, version: int | None) -> tuple[str, str | None]:
    """The agency handling ``case`` right after its petition fact ``version`` (the one that did the next fact,
    if any: a transfer is its sender's act), and for an agency that has handed the case on since, the
    department that handled it last there. Without a version (an official's decision), the agency now."""
    if version:
        following = session.execute(select(CaseFactRow.agency_id, CaseFactRow.department).where(
            CaseFactRow.case_id == case.case_id, CaseFactRow.version == version + 1)).first()
        if following is not None and following.agency_id != case.agency_id:
            return following.agency_id, following.department
    return case.agency_id, None


def apply(session: Session, case: CaseRow, env: Envelope) -> None:
    p = env.payload
    if isinstance(p, (sla.ObligationOpened, sla.ObligationAtRisk, sla.ObligationBreached, sla.ObligationDischarged,
                      sla.ObligationSuspended)):
        _obligation(session, case, env)
        _flags(session, case)
    elif isinstance(p, cv.VoucherProposed):
        if session.get(VoucherRow, p.voucher_id) is None:
            agency, department = handling_at(session, case, env.case_version)
            session.add(VoucherRow(voucher_id=p.voucher_id, case_id=case.case_id, agency_id=agency,
                                   department=department, cause=p.cause, amount_won=p.amount_won, status="proposed",
                                   needs_approval=p.approval == "department_head", official_id=p.official_id,
                                   proposed_at=env.occurred_at, updated_at=env.occurred_at))
    elif isinstance(p, (cv.VoucherSettled, *VOUCHER_STATUS)):
        _voucher(session, env)
    elif type(p) in REMEDY_KIND:
        session.add(RemedyRow(event_id=str(env.event_id), case_id=case.case_id,
                              agency_id=handling_at(session, case, env.case_version)[0], kind=REMEDY_KIND[type(p)],
                              cause=getattr(p, "cause", None), official_id=getattr(p, "official_id", None),
                              at=env.occurred_at))
    elif isinstance(p, (nv.NoticeSent, nv.NoticeFailed)):
        _notice(session, case, env)


def _obligation(session: Session, case: CaseRow, env: Envelope) -> None:
    p = env.payload
    assert isinstance(p, sla._Obligation)
    row = session.get(ObligationRow, (case.case_id, p.obligation_id))
    if row is None:
        row = ObligationRow(case_id=case.case_id, obligation_id=p.obligation_id, kind=p.kind, due_at=p.due_at,
                            state="open", citizen_facing=p.citizen_facing)
        session.add(row)
    row.updated_at = env.occurred_at
    if isinstance(p, sla.ObligationOpened):  # new, resumed after a pause, or moved by an extension
        row.due_at, row.state, row.severity, row.on_time = p.due_at, "open", None, None
        row.remaining_working_seconds = row.remaining_working_days = None
    elif isinstance(p, sla.ObligationAtRisk):
        if row.state == "open" and row.due_at == p.due_at:  # a warning about a due instant since moved says nothing
            row.state = "at_risk"
    elif isinstance(p, sla.ObligationBreached):
        row.due_at, row.state, row.severity = p.due_at, "breached", p.severity
        agency, department = handling_at(session, case, env.case_version)
        session.add(BreachRow(event_id=str(env.event_id), case_id=case.case_id, agency_id=agency,
                              department=department, obligation_id=p.obligation_id, kind=p.kind, severity=p.severity, due_at=p.due_at,
                              voided=False))
    elif isinstance(p, sla.ObligationDischarged):
        row.state, row.on_time = "discharged", p.on_time or p.voids_breach
        if p.voids_breach:  # a backdated fact showed the breach was not one
            row.severity = None
            for breach in session.execute(select(BreachRow).where(
                    BreachRow.case_id == case.case_id, BreachRow.obligation_id == p.obligation_id)).scalars():
                if breach.due_at == p.due_at:
                    breach.voided = True
    elif isinstance(p, sla.ObligationSuspended):
        row.state = "suspended"
        row.remaining_working_seconds, row.remaining_working_days = p.remaining_working_seconds, \
            p.remaining_working_days


def _flags(session: Session, case: CaseRow) -> None:
    session.flush()
    states = set(session.execute(select(ObligationRow.state).where(ObligationRow.case_id == case.case_id)).scalars())
    kinds = set(session.execute(select(BreachRow.kind).where(BreachRow.case_id == case.case_id,
                                                              BreachRow.voided.is_(False))).scalars())
    case.at_risk = "at_risk" in states
    case.statutory_breached = "statutory_deadline" in kinds
    case.target_missed = "charter_target" in kinds  # the charter's own target: a warning, never a breach


def _voucher(session: Session, env: Envelope) -> None:
    p = env.payload
    row = session.get(VoucherRow, p.voucher_id)  # type: ignore[attr-defined]
    if row is None:  # compensation proposes before any other step, on the same case's partition
        raise ValueError(f"voucher {p.voucher_id} was never proposed")  # type: ignore[attr-defined]
    if isinstance(p, cv.VoucherSettled):
        row.amount_won = p.amount_won
    else:
        row.status = VOUCHER_STATUS[type(p)]
        if isinstance(p, (cv.VoucherApproved, cv.VoucherIssued)):
            row.amount_won = p.amount_won
    row.updated_at = env.occurred_at


def _notice(session: Session, case: CaseRow, env: Envelope) -> None:
    p = env.payload
    assert isinstance(p, (nv.NoticeSent, nv.NoticeFailed))
    row = session.get(NoticeRow, p.notice_id)
    sent = isinstance(p, nv.NoticeSent)
    if row is None:
        session.add(NoticeRow(notice_id=p.notice_id, case_id=case.case_id, kind=p.kind, channel=p.channel,
                              status="sent" if sent else "failed",
                              at=env.occurred_at if sent else p.failed_at,  # type: ignore[union-attr]
                              template_id=p.template_id, template_version=p.template_version))
    elif sent and row.status != "sent":  # an operator's retry delivered what had failed
        row.status, row.at = "sent", env.occurred_at
