"""A voucher (상품권 등) as a value: its lifecycle as pure transitions, and a fold over its events.

proposed -> approved -> issued -> delivered, or cancelled from proposed, approved or issued,
with a reason (never deleted; a rejection is a cancellation whose reason starts "rejected: ").
An escalating amount is settled while still proposed, at the case's resolution. Each
transition returns a ``Step``: the voucher after it and the event payload recording it; a
move the voucher's state forbids raises ``TransitionRefused`` naming the rule. ``evolve`` is
the one mutator per event, shared by the transitions and by ``fold``, so a voucher rebuilt
from its events equals the one its transitions produced.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from shared.charters import model
from shared.compensation import envelopes, policy
from shared.compensation.causes import Breach, CauseFound
from shared.events import Envelope
from shared.events import compensation as comp
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.words import a
from shared.working_time import WorkingCalendar

Status = Literal["proposed", "approved", "issued", "delivered", "cancelled"]
VoucherEvent = (comp.VoucherProposed | comp.VoucherSettled | comp.VoucherApproved | comp.VoucherIssued
                | comp.VoucherDelivered | comp.VoucherCancelled)
CANCELLABLE: frozenset[str] = frozenset({"proposed", "approved", "issued"})  # delivered: in the citizen's hands


class TransitionRefused(Exception):
    """A voucher cannot move that way from where it is (HTTP 409, the rule named)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class VoucherNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Voucher:
    voucher_id: str
    case_id: str
    cause: comp.Cause
    cause_event_id: str
    charter_id: str
    charter_version: str
    promise_id: str
    amount_won: int
    voucher_kind: comp.VoucherKind
    approval: Literal["none", "department_head"]
    payment: Literal["on_issue", "monthly_batch"]
    settled: bool  # False: the amount waits for the case's resolution (escalating policy)
    status: Status
    proposed_at: datetime
    official_id: str | None = None
    # The breached deadline, to count lateness from at settlement. A fact of the breach, not of
    # the voucher: VoucherProposed does not carry it (``fold`` takes the breach to restore it).
    due_at: datetime | None = None
    same_day: bool = False
    batch_month: str | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None
    issued_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def charter(self) -> CharterRef:
        return CharterRef(self.charter_id, self.charter_version)


@dataclass(frozen=True)
class Step:
    """One transition: the voucher after it, the event recording it, and who moved it."""

    voucher: Voucher
    name: str  # proposed / settled / approved / issued / delivered / cancelled: each once per voucher
    payload: VoucherEvent
    at: datetime
    actor: str
    reason: str | None = None

    @property
    def key(self) -> str:
        return f"{self.voucher.voucher_id}|{self.name}"

    @property
    def event_id(self) -> uuid.UUID:
        return envelopes.event_id(self.key)


def month(at: datetime) -> str:
    """The monthly batch an approval falls in, counted in Korean time."""
    return at.astimezone(KST).strftime("%Y-%m")


# -- transitions -------------------------------------------------------------------
def propose(found: CauseFound, charter: model.Charter, plan: policy.VoucherPlan, calendar_version: str) -> Step:
    """A new voucher for this cause. Once per (case, cause): the caller checks the ledger first."""
    v = plan.voucher
    waits = plan.waits_for_resolution and found.breach is not None
    voucher_id = policy.voucher_id(found.case_id, found.cause)
    payload = comp.VoucherProposed(
        voucher_id=voucher_id, cause=found.cause, cause_event_id=found.cause_event_id, amount_won=v.amount_won,
        voucher_kind=v.voucher_kind, settled=not waits, approval=v.approval, payment=v.payment,
        policy=comp.PolicyRef(promise_id=plan.promise_id, calendar_version=calendar_version if waits else None),
        official_id=found.official_id)
    proposed = _proposed(payload, found.case_id, CharterRef(charter.id, charter.version), found.occurred_at,
                         found.breach)
    return Step(proposed, "proposed", payload, found.occurred_at, "policy")


def settle(voucher: Voucher, rule: model.Voucher, calendar: WorkingCalendar, completed_at: datetime) -> Step:
    """Fix an escalating amount from how late the case finished (Act 19 working time), capped."""
    _require(voucher, "proposed", "settlement")
    if voucher.settled:
        raise TransitionRefused("voucher-settlement", "the amount of this voucher is settled already")
    assert voucher.due_at is not None  # only a breach's voucher waits for settlement
    late = policy.lateness(calendar, voucher.due_at, completed_at, voucher.same_day)
    payload = comp.VoucherSettled(voucher_id=voucher.voucher_id, cause=voucher.cause,
                                  amount_won=policy.amount(rule, late), lateness=late,
                                  policy=comp.PolicyRef(promise_id=voucher.promise_id,
                                                        calendar_version=calendar.version))
    return _step(voucher, "settled", payload, completed_at, "policy")


def approve(voucher: Voucher, by: str, at: datetime) -> Step:
    """``by``: the department head (Seongnam), or "policy" where the charter needs no approval."""
    _require(voucher, "proposed", "approval")
    if not voucher.settled:
        raise TransitionRefused("voucher-settlement", "the amount is settled when the case is resolved; approve after")
    return _step(voucher, "approved", comp.VoucherApproved(
        voucher_id=voucher.voucher_id, cause=voucher.cause, approved_by=by, amount_won=voucher.amount_won), at, by)


def issue(voucher: Voucher, by: str, at: datetime) -> Step:
    _require(voucher, "approved", "issue")
    return _step(voucher, "issued", comp.VoucherIssued(
        voucher_id=voucher.voucher_id, cause=voucher.cause, amount_won=voucher.amount_won,
        voucher_kind=voucher.voucher_kind, batch_month=voucher.batch_month), at, by)


def deliver(voucher: Voucher, by: str, at: datetime) -> Step:
    _require(voucher, "issued", "delivery")
    return _step(voucher, "delivered", comp.VoucherDelivered(
        voucher_id=voucher.voucher_id, cause=voucher.cause, delivered_by=by), at, by)


def reject(voucher: Voucher, by: str, reason: str, at: datetime) -> Step:
    _require(voucher, "proposed", "rejection")
    return cancel(voucher, f"rejected: {reason}", by, at)


def cancel(voucher: Voucher, reason: str, by: str, at: datetime) -> Step:
    """``by``: an official, "policy", or the event that voided the cause."""
    if voucher.status not in CANCELLABLE:
        raise TransitionRefused("voucher-state", f"cancellation needs a proposed, approved or issued voucher; "
                                                 f"this one is {voucher.status}")
    return _step(voucher, "cancelled", comp.VoucherCancelled(
        voucher_id=voucher.voucher_id, cause=voucher.cause, reason=reason, cancelled_by=by), at, by, reason)


def _require(voucher: Voucher, status: str, what: str) -> None:
    if voucher.status != status:
        raise TransitionRefused("voucher-state", f"{what} needs {a(status)} voucher; this one is {voucher.status}")


def _step(voucher: Voucher, name: str, payload: VoucherEvent, at: datetime, actor: str,
          reason: str | None = None) -> Step:
    return Step(evolve(voucher, payload, at), name, payload, at, actor, reason)


# -- the fold ----------------------------------------------------------------------
def fold(events: Iterable[Envelope], breach: Breach | None = None) -> Voucher | None:
    """One voucher rebuilt from its events (the first proposal names it; other events are skipped).
    ``breach``: the breach that caused it, for the deadline its events do not carry."""
    voucher: Voucher | None = None
    for env in events:
        voucher = apply(voucher, env, breach)
    return voucher


def apply(voucher: Voucher | None, env: Envelope, breach: Breach | None = None) -> Voucher | None:
    p = env.payload
    if isinstance(p, comp.VoucherProposed):
        if voucher is not None:
            return voucher  # the fold follows the first voucher proposed: a redelivery or another's changes nothing
        assert env.charter is not None  # a proposal always names the charter it was decided under
        return _proposed(p, env.case_id, env.charter, env.occurred_at, breach)
    if voucher is None or getattr(p, "voucher_id", None) != voucher.voucher_id:
        return voucher  # another voucher's event, or not a voucher's
    return evolve(voucher, p, env.occurred_at)


def evolve(voucher: Voucher, p: VoucherEvent, at: datetime) -> Voucher:
    """The voucher after one of its events (a proposal starts a voucher: see ``apply``)."""
    if isinstance(p, comp.VoucherSettled):
        return replace(voucher, amount_won=p.amount_won, settled=True, due_at=p.lateness.due_at,
                       same_day=p.lateness.same_day)
    if isinstance(p, comp.VoucherApproved):
        return replace(voucher, status="approved", approved_at=at, approved_by=p.approved_by, amount_won=p.amount_won,
                       batch_month=month(at) if voucher.payment == "monthly_batch" else voucher.batch_month)
    if isinstance(p, comp.VoucherIssued):
        return replace(voucher, status="issued", issued_at=at, batch_month=p.batch_month)
    if isinstance(p, comp.VoucherDelivered):
        return replace(voucher, status="delivered", delivered_at=at)
    if isinstance(p, comp.VoucherCancelled):
        return replace(voucher, status="cancelled", cancelled_at=at, cancel_reason=p.reason)
    return voucher


def _proposed(p: comp.VoucherProposed, case_id: str, charter: CharterRef, at: datetime,
              breach: Breach | None) -> Voucher:
    return Voucher(voucher_id=p.voucher_id, case_id=case_id, cause=p.cause, cause_event_id=p.cause_event_id,
                   charter_id=charter.charter_id, charter_version=charter.version, promise_id=p.policy.promise_id,
                   amount_won=p.amount_won, voucher_kind=p.voucher_kind, approval=p.approval, payment=p.payment,
                   settled=p.settled, status="proposed", proposed_at=at, official_id=p.official_id,
                   due_at=breach.due_at if breach else None, same_day=breach.same_day if breach else False)
