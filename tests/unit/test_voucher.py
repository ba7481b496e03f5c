"""A voucher as a value: its lifecycle, the refusals naming their rule, settlement, and the fold
that rebuilds it from its events."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from shared.charters import CharterBook
from shared.charters.model import Remedy
from shared.compensation import policy, voucher
from shared.compensation.causes import Breach, CauseFound
from shared.compensation.envelopes import envelope
from shared.compensation.voucher import Step, TransitionRefused, Voucher
from shared.events import Envelope
from shared.events import compensation as comp
from shared.events.envelope import CharterRef
from shared.holiday_source import korean_calendar
from shared.instants import KST
from shared.periods import Period

CHARTERS = CharterBook.bundled()
CALENDAR = korean_calendar()
DUE = datetime(2027, 3, 11, 18, tzinfo=KST)  # a Thursday's end of work
NOW = datetime(2027, 4, 1, 9, tzinfo=KST)


def kst(*a: int) -> datetime:
    return datetime(*a, tzinfo=KST)


def proposal(municipality: str, cause: str = "statutory_deadline_missed", period: str = "7d",
             case_id: str = "case-1") -> Step:
    charter = CHARTERS.in_force(municipality, kst(2027, 3, 2, 10))
    breach = Breach(DUE, Period.parse(period)) if cause == "statutory_deadline_missed" else None
    found = CauseFound(cause, case_id, "cause-1", DUE, CharterRef(charter.id, charter.version),
                       official_id="o-1", breach=breach)
    plan = policy.plan(charter, cause).voucher
    assert plan is not None
    return voucher.propose(found, charter, plan, CALENDAR.version)


def rule(v: Voucher) -> Remedy:
    promise = CHARTERS.get(v.charter_id, v.charter_version).promise(v.promise_id)
    assert isinstance(promise, Remedy)
    return promise


def events(*steps: Step) -> list[Envelope]:
    return [envelope(s.voucher.case_id, s.payload, s.at, NOW, None, s.key, s.voucher.charter) for s in steps]


def test_proposed_approved_issued_delivered() -> None:
    proposed = proposal("seongnam")  # Seongnam: the department head approves
    v = proposed.voucher
    assert (v.status, v.settled, v.amount_won, v.approval, v.payment) == (
        "proposed", True, 10_000, "department_head", "on_issue")
    assert v.voucher_id == str(uuid.uuid5(uuid.UUID("0b8c9d1e-6f3a-4c2b-9e7d-5a4f3c2b1a09"),
                                          "voucher|case-1|statutory_deadline_missed"))
    approved = voucher.approve(v, "head-1", kst(2027, 3, 12, 10))
    issued = voucher.issue(approved.voucher, "head-1", kst(2027, 3, 12, 10))
    delivered = voucher.deliver(issued.voucher, "clerk-1", kst(2027, 3, 15, 14))
    assert [s.name for s in (proposed, approved, issued, delivered)] == ["proposed", "approved", "issued", "delivered"]
    assert [s.voucher.status for s in (proposed, approved, issued, delivered)] == [
        "proposed", "approved", "issued", "delivered"]
    assert approved.payload == comp.VoucherApproved(voucher_id=v.voucher_id, cause=v.cause, approved_by="head-1",
                                                    amount_won=10_000)
    assert (approved.voucher.approved_by, approved.voucher.approved_at) == ("head-1", kst(2027, 3, 12, 10))
    assert issued.payload.batch_month is None and issued.voucher.issued_at == kst(2027, 3, 12, 10)
    assert delivered.voucher.delivered_at == kst(2027, 3, 15, 14) and delivered.actor == "clerk-1"
    assert v.status == "proposed"  # a value: the transitions changed nothing in place
    # the event ids are derived as they always were: one per voucher and step
    assert delivered.event_id == uuid.uuid5(uuid.UUID("3d2f8a61-97c4-4b1e-8f0a-6c5e4d3b2a19"),
                                            f"{v.voucher_id}|delivered")


def test_a_rejection_cancels_with_the_reason() -> None:
    v = proposal("seongnam").voucher
    rejected = voucher.reject(v, "head-1", "민원인 귀책", kst(2027, 3, 12, 10))
    assert (rejected.name, rejected.voucher.status) == ("cancelled", "cancelled")
    assert rejected.voucher.cancel_reason == rejected.reason == "rejected: 민원인 귀책"
    assert rejected.payload == comp.VoucherCancelled(voucher_id=v.voucher_id, cause=v.cause,
                                                     reason="rejected: 민원인 귀책", cancelled_by="head-1")


def _moved(*names: str) -> Voucher:
    """Seongnam's voucher taken through ``names``."""
    v = proposal("seongnam").voucher
    at = kst(2027, 3, 12, 10)
    moves: dict[str, Callable[[Voucher], Step]] = {
        "approved": lambda v: voucher.approve(v, "head-1", at), "issued": lambda v: voucher.issue(v, "head-1", at),
        "delivered": lambda v: voucher.deliver(v, "clerk-1", at),
        "cancelled": lambda v: voucher.cancel(v, "finding withdrawn", "e-1", at)}
    for name in names:
        v = moves[name](v).voucher
    return v


AT = kst(2027, 3, 12, 10)


@pytest.mark.parametrize(("state", "move", "rule_id", "detail"), [
    (("approved", "issued"), lambda v: voucher.approve(v, "head-1", AT), "voucher-state",
     "approval needs a proposed voucher; this one is issued"),
    (("cancelled",), lambda v: voucher.approve(v, "head-1", AT), "voucher-state",
     "approval needs a proposed voucher; this one is cancelled"),
    (("approved",), lambda v: voucher.reject(v, "head-1", "늦음", AT), "voucher-state",
     "rejection needs a proposed voucher; this one is approved"),
    ((), lambda v: voucher.deliver(v, "clerk-1", AT), "voucher-state",
     "delivery needs an issued voucher; this one is proposed"),
    ((), lambda v: voucher.issue(v, "clerk-1", AT), "voucher-state",
     "issue needs an approved voucher; this one is proposed"),
    (("approved", "issued", "delivered"), lambda v: voucher.cancel(v, "voided", "e-2", AT), "voucher-state",
     "cancellation needs a proposed, approved or issued voucher; this one is delivered"),
])
def test_a_move_the_state_forbids_is_refused_naming_the_rule(state: tuple[str, ...], move: Callable[[Voucher], Step],
                                                             rule_id: str, detail: str) -> None:
    v = _moved(*state)
    with pytest.raises(TransitionRefused) as refused:
        move(v)
    assert (refused.value.rule, refused.value.detail) == (rule_id, detail)


def test_an_escalating_amount_is_settled_at_resolution_before_approval() -> None:
    proposed = proposal("namhae")  # Namhae: 10,000 on the first started day late, 5,000 per further day
    v = proposed.voucher
    assert not v.settled and proposed.payload.policy.calendar_version == CALENDAR.version
    with pytest.raises(TransitionRefused) as refused:
        voucher.approve(v, "policy", DUE)
    assert refused.value.rule == "voucher-settlement"
    settled = voucher.settle(v, rule(v).voucher, CALENDAR, kst(2027, 3, 15, 11))  # Fri 8 h + Mon 2 h late
    assert (settled.name, settled.voucher.status, settled.voucher.settled) == ("settled", "proposed", True)
    assert settled.voucher.amount_won == settled.payload.amount_won == 15_000
    assert settled.payload.lateness.days_late == 2 and settled.payload.lateness.completed_at == kst(2027, 3, 15, 11)
    with pytest.raises(TransitionRefused) as again:
        voucher.settle(settled.voucher, rule(v).voucher, CALENDAR, kst(2027, 3, 16, 11))
    assert again.value.rule == "voucher-settlement"
    assert voucher.approve(settled.voucher, "policy", kst(2027, 3, 15, 11)).voucher.amount_won == 15_000


def test_a_monthly_batch_is_the_month_of_approval_in_korean_time() -> None:
    v = proposal("gochang").voucher
    approved = voucher.approve(v, "policy", kst(2027, 4, 1, 8))  # still March in UTC
    assert approved.voucher.batch_month == "2027-04"
    assert voucher.issue(approved.voucher, "clerk-1", kst(2027, 4, 30, 10)).payload.batch_month == "2027-04"


def _paths() -> dict[str, list[Step]]:
    at = kst(2027, 3, 12, 10)
    seongnam = proposal("seongnam")
    approved = voucher.approve(seongnam.voucher, "head-1", at)
    issued = voucher.issue(approved.voucher, "head-1", at)
    delivered = voucher.deliver(issued.voucher, "clerk-1", kst(2027, 3, 15, 10))
    rejected = voucher.reject(seongnam.voucher, "head-1", "민원인 귀책", at)
    namhae = proposal("namhae", period="3h")
    settled = voucher.settle(namhae.voucher, rule(namhae.voucher).voucher, CALENDAR, kst(2027, 3, 12, 16, 30))
    paid = voucher.approve(settled.voucher, "policy", settled.at)
    gangseo = proposal("busan-gangseo-gu")  # nothing under a full day late
    unpaid = voucher.settle(gangseo.voucher, rule(gangseo.voucher).voucher, CALENDAR, kst(2027, 3, 12, 13))
    cancelled = voucher.cancel(unpaid.voucher, "late by less than the policy pays for", "policy", unpaid.at)
    gochang = proposal("gochang")
    batched = voucher.approve(gochang.voucher, "policy", at)
    visit = proposal("yeonje-gu", cause="repeat_visit")
    return {"delivered": [seongnam, approved, issued, delivered], "rejected": [seongnam, rejected],
            "settled": [namhae, settled, paid, voucher.issue(paid.voucher, "policy", paid.at)],
            "cancelled at settlement": [gangseo, unpaid, cancelled],
            "batch": [gochang, batched, voucher.issue(batched.voucher, "clerk-1", kst(2027, 4, 1, 10))],
            "repeat visit": [visit]}


@pytest.mark.parametrize("path", sorted(_paths()))
def test_the_fold_of_a_vouchers_events_is_the_voucher_its_transitions_made(path: str) -> None:
    steps = _paths()[path]
    last = steps[-1].voucher
    breach = Breach(last.due_at, None) if last.due_at else None
    assert voucher.fold(events(*steps), breach) == last


def test_the_deadline_comes_from_the_breach_until_a_settlement_records_it() -> None:
    steps = _paths()["settled"]
    assert voucher.fold(events(*steps)) == steps[-1].voucher  # VoucherSettled carries the lateness
    flat = _paths()["delivered"]
    assert voucher.fold(events(*flat)) == replace(flat[-1].voucher, due_at=None, same_day=False)


def test_the_fold_skips_other_vouchers_and_a_second_proposal() -> None:
    mine = _paths()["rejected"]
    other = proposal("busan-gangseo-gu", case_id="case-2")
    assert other.voucher.voucher_id != mine[0].voucher.voucher_id
    cancelled = voucher.cancel(other.voucher, "breach voided", "e-9", kst(2027, 3, 12, 9))
    mixed = [events(*mine)[0], *events(other, cancelled), events(*mine)[0], events(*mine)[1]]
    assert voucher.fold(mixed, Breach(DUE, None)) == mine[-1].voucher
    assert voucher.fold([]) is None
