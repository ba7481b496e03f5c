"""The ledger's transitions, inside a caller's transaction: decide with the pure core
(``shared.compensation``), write rows under uniqueness rules, queue events in the outbox.

Every write that could be repeated (redelivery, a second consumer racing) is an insert
of a row whose key is derived from its cause, inside a savepoint: the loser of the race
gets an IntegrityError, rolls back its savepoint and emits nothing.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from services.compensation.ledger.orm import (
    CompensationCaseRow,
    OfficialLockRow,
    RemedyActionRow,
    StrikeRow,
    VoucherRow,
    VoucherTransitionRow,
)
from services.platform.outbox.orm import OutboxRow
from shared.charters import CharterBook
from shared.charters.model import Charter
from shared.compensation import policy
from shared.compensation.causes import CauseFound, Withdrawal, cause_of, withdrawal_of
from shared.events import Envelope, encode
from shared.events import compensation as comp
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.working_time import WorkingCalendar

PRODUCER = "compensation"
EVENT_NAMESPACE = uuid.UUID("3d2f8a61-97c4-4b1e-8f0a-6c5e4d3b2a19")


class VoucherNotFound(LookupError):
    pass


class TransitionRefused(Exception):
    """A voucher cannot move that way from where it is (HTTP 409, the rule named)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _month(at: datetime) -> str:
    return at.astimezone(KST).strftime("%Y-%m")


class Ledger:
    def __init__(self, charters: CharterBook, calendar: WorkingCalendar) -> None:
        self.charters = charters
        self.calendar = calendar

    # -- incoming events ---------------------------------------------------------
    def record(self, session: Session, env: Envelope, now: datetime) -> list[Envelope]:
        """Apply one petition or SLA event. Returns the events queued in the outbox."""
        out: list[Envelope] = []
        p = env.payload
        if isinstance(p, ev.PetitionReceived):
            self._case(session, env, p.agency_id)
        elif isinstance(p, ev.PetitionResolved):
            out += self._resolved(session, env, now)
        found = cause_of(env)
        if found is not None:
            out += self._cause(session, found, env, now)
        withdrawal = withdrawal_of(env)
        if withdrawal is not None:
            out += self._withdraw(session, withdrawal, env, now)
        return out

    def _case(self, session: Session, env: Envelope, agency_id: str) -> None:
        with session.no_autoflush:
            known = session.get(CompensationCaseRow, env.case_id)
        if known is None:
            _inserted(session, CompensationCaseRow(case_id=env.case_id, agency_id=agency_id,
                                                   charter_id=env.charter.charter_id if env.charter else None,
                                                   charter_version=env.charter.version if env.charter else None))

    def _resolved(self, session: Session, env: Envelope, now: datetime) -> list[Envelope]:
        case = session.get(CompensationCaseRow, env.case_id)
        if case is not None and case.resolved_at is None:
            case.resolved_at = env.occurred_at
        out: list[Envelope] = []
        pending = session.execute(select(VoucherRow).where(VoucherRow.case_id == env.case_id,
                                                           VoucherRow.settled.is_(False),
                                                           VoucherRow.status == "proposed")).scalars()
        for row in pending:
            out += self._settle(session, row, env.occurred_at, env, now)
        return out

    def _charter(self, ref: CharterRef | None) -> Charter | None:
        return self.charters.get(ref.charter_id, ref.version) if ref else None

    def _cause(self, session: Session, found: CauseFound, env: Envelope, now: datetime) -> list[Envelope]:
        charter = self._charter(found.charter)
        plan = policy.plan(charter, found.cause)
        out: list[Envelope] = []
        if plan.voucher is not None and charter is not None:
            out += self._propose(session, found, charter, plan.voucher, env, now)
        if plan.apology_promise is not None:
            out += self._action(session, "apology", policy.remedy_id("apology", found.case_id, found.cause), found,
                                plan.apology_promise, env, now,
                                comp.ApologyOwed(apology_id=policy.remedy_id("apology", found.case_id, found.cause),
                                                 cause=found.cause, cause_event_id=found.cause_event_id,
                                                 promise_id=plan.apology_promise))
        if found.cause == "discourtesy" and found.official_id is not None:
            if plan.retraining_promise is not None:
                order = policy.remedy_id("retraining", found.cause_event_id)
                out += self._action(session, "retraining", order, found, plan.retraining_promise, env, now,
                                    comp.RetrainingOrdered(order_id=order, official_id=found.official_id,
                                                           cause_event_id=found.cause_event_id,
                                                           promise_id=plan.retraining_promise))
            out += self._strike(session, found, plan.referral, env, now)
        return out

    def _propose(self, session: Session, found: CauseFound, charter: Charter, plan: policy.VoucherPlan,
                 env: Envelope, now: datetime) -> list[Envelope]:
        v = plan.voucher
        voucher_id = policy.voucher_id(found.case_id, found.cause)
        waits = plan.waits_for_resolution and found.breach is not None
        row = VoucherRow(
            voucher_id=voucher_id, case_id=found.case_id, cause=found.cause, cause_event_id=found.cause_event_id,
            charter_id=charter.id, charter_version=charter.version, promise_id=plan.promise_id,
            amount_won=v.amount_won, voucher_kind=v.voucher_kind, approval=v.approval, payment=v.payment,
            settled=not waits, status="proposed", official_id=found.official_id,
            due_at=found.breach.due_at if found.breach else None,
            same_day=found.breach.same_day if found.breach else False, proposed_at=found.occurred_at)
        if not _inserted(session, row):
            return []  # this (case, cause) already has its voucher: a redelivery, a race or a second occurrence
        payload = comp.VoucherProposed(
            voucher_id=voucher_id, cause=found.cause, cause_event_id=found.cause_event_id, amount_won=v.amount_won,
            voucher_kind=v.voucher_kind, settled=not waits, approval=v.approval, payment=v.payment,
            policy=comp.PolicyRef(promise_id=plan.promise_id,
                                  calendar_version=self.calendar.version if waits else None),
            official_id=found.official_id)
        out = [self._transition(session, row, "proposed", payload, found.occurred_at, now, env, actor="policy")]
        if waits:
            with session.no_autoflush:
                case = session.get(CompensationCaseRow, found.case_id)
            if case is not None and case.resolved_at is not None:  # resolved before the breach reached us
                out += self._settle(session, row, case.resolved_at, env, now)
            return out
        return out + self._auto_approve(session, row, found.occurred_at, env, now)

    def _settle(self, session: Session, row: VoucherRow, completed_at: datetime, cause: Envelope,
                now: datetime) -> list[Envelope]:
        charter = self.charters.get(row.charter_id, row.charter_version)
        voucher = charter.promise(row.promise_id).voucher  # type: ignore[attr-defined]
        assert row.due_at is not None
        late = policy.lateness(self.calendar, row.due_at, completed_at, row.same_day)
        row.amount_won = policy.amount(voucher, late)
        row.settled = True
        out = [self._transition(session, row, "settled", comp.VoucherSettled(
            voucher_id=row.voucher_id, cause=row.cause, amount_won=row.amount_won, lateness=late,
            policy=comp.PolicyRef(promise_id=row.promise_id, calendar_version=self.calendar.version)),
            completed_at, now, cause, actor="policy", status="proposed")]
        if row.amount_won == 0:
            return out + self._cancel(session, row, "late by less than the policy pays for", "policy", completed_at,
                                      cause, now)
        return out + self._auto_approve(session, row, completed_at, cause, now)

    def _auto_approve(self, session: Session, row: VoucherRow, at: datetime, cause: Envelope,
                      now: datetime) -> list[Envelope]:
        if row.approval != "none":
            return []  # waits for the department head (Seongnam)
        return self._approve(session, row, "policy", at, cause, now)

    def _approve(self, session: Session, row: VoucherRow, by: str, at: datetime, cause: Envelope | None,
                 now: datetime) -> list[Envelope]:
        row.status, row.approved_at, row.approved_by = "approved", at, by
        if row.payment == "monthly_batch":
            row.batch_month = _month(at)
        out = [self._transition(session, row, "approved", comp.VoucherApproved(
            voucher_id=row.voucher_id, cause=row.cause, approved_by=by, amount_won=row.amount_won), at, now, cause,
            actor=by)]
        if row.payment == "on_issue":
            out += self._issue(session, row, by, at, cause, now)
        return out

    def _issue(self, session: Session, row: VoucherRow, by: str, at: datetime, cause: Envelope | None,
               now: datetime) -> list[Envelope]:
        row.status, row.issued_at = "issued", at
        return [self._transition(session, row, "issued", comp.VoucherIssued(
            voucher_id=row.voucher_id, cause=row.cause, amount_won=row.amount_won, voucher_kind=row.voucher_kind,
            batch_month=row.batch_month), at, now, cause, actor=by)]

    def _cancel(self, session: Session, row: VoucherRow, reason: str, by: str, at: datetime, cause: Envelope | None,
                now: datetime) -> list[Envelope]:
        row.status, row.cancelled_at, row.cancel_reason = "cancelled", at, reason
        return [self._transition(session, row, "cancelled", comp.VoucherCancelled(
            voucher_id=row.voucher_id, cause=row.cause, reason=reason, cancelled_by=by), at, now, cause, actor=by,
            reason=reason)]

    def _withdraw(self, session: Session, w: Withdrawal, env: Envelope, now: datetime) -> list[Envelope]:
        if w.cause == "discourtesy":
            strike = session.execute(select(StrikeRow).where(StrikeRow.case_id == w.case_id,
                                                             StrikeRow.withdrawn_at.is_(None))
                                     .order_by(StrikeRow.confirmed_at.desc())).scalars().first()
            if strike is not None:
                strike.withdrawn_at = env.occurred_at
        row = session.execute(select(VoucherRow).where(VoucherRow.case_id == w.case_id, VoucherRow.cause == w.cause)
                              ).scalar_one_or_none()
        if row is None or row.status in ("cancelled", "delivered"):
            return []  # nothing owed, already cancelled (a redelivery), or in the citizen's hands
        return self._cancel(session, row, w.reason, w.by_event_id, env.occurred_at, env, now)

    def _action(self, session: Session, kind: str, action_id: str, found: CauseFound, promise_id: str,
                env: Envelope, now: datetime, payload: BaseModel) -> list[Envelope]:
        row = RemedyActionRow(action_id=action_id, kind=kind, case_id=found.case_id, official_id=found.official_id,
                              cause=found.cause, cause_event_id=found.cause_event_id, promise_id=promise_id,
                              at=found.occurred_at)
        if not _inserted(session, row):
            return []
        return [self._queue(session, found.case_id, payload, found.occurred_at, now, env, key=f"{kind}|{action_id}")]

    def _strike(self, session: Session, found: CauseFound, referral, env: Envelope, now: datetime) -> list[Envelope]:
        assert found.official_id is not None
        if not _inserted(session, StrikeRow(event_id=found.cause_event_id, official_id=found.official_id,
                                            case_id=found.case_id, confirmed_at=found.occurred_at)):
            return []
        if referral is None:
            return []
        _lock_official(session, found.official_id)
        window = referral.strike_window_days
        query = select(StrikeRow.event_id).where(StrikeRow.official_id == found.official_id,
                                                 StrikeRow.withdrawn_at.is_(None),
                                                 StrikeRow.confirmed_at <= found.occurred_at)
        if window is not None:
            query = query.where(StrikeRow.confirmed_at > found.occurred_at - timedelta(days=window))
        strikes = list(session.execute(query.order_by(StrikeRow.confirmed_at)).scalars())
        if not policy.referral_due(referral, len(strikes)):
            return []
        referral_id = policy.remedy_id("referral", found.official_id, found.cause_event_id)
        return self._action(session, "referral", referral_id, found, referral.id, env, now,
                            comp.PersonnelActionReferred(referral_id=referral_id, official_id=found.official_id,
                                                         strikes=len(strikes), window_days=window,
                                                         strike_event_ids=tuple(strikes), promise_id=referral.id))

    # -- officials' decisions (HTTP) ---------------------------------------------
    def voucher(self, session: Session, voucher_id: str) -> VoucherRow:
        row = session.get(VoucherRow, voucher_id, with_for_update=True)
        if row is None:
            raise VoucherNotFound(voucher_id)
        return row

    def approve(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        row = self.voucher(session, voucher_id)
        _require(row, "proposed", "approval")
        if not row.settled:
            raise TransitionRefused("voucher-settlement", "the amount is settled when the case is resolved; approve after")
        return self._approve(session, row, official_id, now, None, now)

    def reject(self, session: Session, voucher_id: str, official_id: str, reason: str, now: datetime) -> list[Envelope]:
        row = self.voucher(session, voucher_id)
        _require(row, "proposed", "rejection")
        return self._cancel(session, row, f"rejected: {reason}", official_id, now, None, now)

    def deliver(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        row = self.voucher(session, voucher_id)
        _require(row, "issued", "delivery")
        row.status, row.delivered_at = "delivered", now
        return [self._transition(session, row, "delivered", comp.VoucherDelivered(
            voucher_id=row.voucher_id, cause=row.cause, delivered_by=official_id), now, now, None, actor=official_id)]

    def issue_one(self, session: Session, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        """One voucher of a monthly batch (what ``issue_batch`` does for each; used by the audit replay)."""
        row = self.voucher(session, voucher_id)
        _require(row, "approved", "issue")
        return self._issue(session, row, official_id, now, None, now)

    def issue_batch(self, session: Session, month: str, official_id: str, now: datetime,
                    visible: Callable[[str], bool]) -> list[Envelope]:
        rows = session.execute(select(VoucherRow).where(VoucherRow.status == "approved", VoucherRow.batch_month == month)
                               .order_by(VoucherRow.voucher_id).with_for_update()).scalars()
        out: list[Envelope] = []
        for row in rows:
            if visible(row.case_id):
                out += self._issue(session, row, official_id, now, None, now)
        return out

    # -- events --------------------------------------------------------------------
    def _transition(self, session: Session, row: VoucherRow, step: str, payload: BaseModel, at: datetime,
                    now: datetime, cause: Envelope | None, actor: str, status: str | None = None,
                    reason: str | None = None) -> Envelope:
        env = self._queue(session, row.case_id, payload, at, now, cause, key=f"{row.voucher_id}|{step}",
                          charter=CharterRef(row.charter_id, row.charter_version))
        session.add(VoucherTransitionRow(event_id=str(env.event_id), voucher_id=row.voucher_id,
                                         status=status or step, at=at, actor=actor, amount_won=row.amount_won,
                                         reason=reason))
        return env

    def _queue(self, session: Session, case_id: str, payload: BaseModel, at: datetime, now: datetime,
               cause: Envelope | None, key: str, charter: CharterRef | None = None) -> Envelope:
        env = Envelope(event_id=uuid.uuid5(EVENT_NAMESPACE, key), case_id=case_id,
                       case_version=cause.case_version if cause else 0, occurred_at=at, recorded_at=now,
                       producer=PRODUCER, payload=payload, charter=charter or (cause.charter if cause else None))
        session.add(OutboxRow(event_id=str(env.event_id), producer=PRODUCER, case_id=case_id, value=encode(env),
                              published=False))
        return env


def _require(row: VoucherRow, status: str, what: str) -> None:
    if row.status != status:
        raise TransitionRefused("voucher-state", f"{what} needs a {status} voucher; this one is {row.status}")


def _inserted(session: Session, row: object) -> bool:
    """Add a row whose key is derived from its cause; False when it exists already (added earlier in
    this transaction, or committed before). Two consumers racing both add it: the second commit
    fails on the table's uniqueness rule and the worker replays its batch, which then finds it."""
    key = (type(row), inspect(row).mapper.primary_key_from_instance(row))
    added: set = session.info.setdefault("ledger_added", set())
    if key[1] is not None and tuple(key[1]) and (key[0], tuple(key[1])) in added:
        return False
    with session.no_autoflush:  # a lookup must not flush every pending row one statement at a time
        if session.get(key[0], key[1]) is not None:
            return False
    session.add(row)
    added.add((key[0], tuple(key[1])))
    return True


def _lock_official(session: Session, official_id: str) -> None:
    _inserted(session, OfficialLockRow(official_id=official_id))
    session.flush()
    session.execute(select(OfficialLockRow).where(OfficialLockRow.official_id == official_id).with_for_update())


def strike_counts(session: Session, official_id: str | None = None) -> list[tuple[str, int, int]]:
    """(official, confirmed strikes, withdrawn strikes) per official."""
    query = select(StrikeRow.official_id, func.count(StrikeRow.event_id),
                   func.count(StrikeRow.withdrawn_at)).group_by(StrikeRow.official_id).order_by(StrikeRow.official_id)
    if official_id is not None:
        query = query.where(StrikeRow.official_id == official_id)
    return [(o, total - withdrawn, withdrawn) for o, total, withdrawn in session.execute(query)]
