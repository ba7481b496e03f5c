"""The whole remedy decision (시정 및 보상조치), pure: given a petition or SLA event, or an official's
decision on a voucher, which compensation events are owed.

It reads and writes a ``LedgerState`` (the compensation service's SQL ledger, or an in-memory
one in the audit's replay) and returns the events in the order they were decided; the caller
persists them (the service's outbox). Nothing here reads a clock: ``now`` is the instant the
decision is recorded at. Every remedy is decided once per cause: a voucher per (case, cause),
an apology per (case, cause), a retraining order and a strike per confirmed finding, a
referral per strike from the threshold on, however often the cause is delivered. Officials belong
to an agency (the case's): their strikes, and the referral threshold, count one agency's findings
(``shared.compensation.strikes``: here, or in the strike counter the service runs by official).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel

from shared.charters import CharterBook
from shared.charters.model import Charter, Remedy
from shared.compensation import policy, strikes
from shared.compensation import voucher as vouchers
from shared.compensation.causes import CauseFound, Withdrawal, cause_of, withdrawal_of
from shared.compensation.envelopes import envelope
from shared.compensation.state import (
    ActionKind,
    CompensationCase,
    LedgerState,
    RemedyAction,
    Strike,
)
from shared.compensation.voucher import Step, Voucher, VoucherNotFound
from shared.events import Envelope, findings
from shared.events import compensation as comp
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.working_time import WorkingCalendar


class Remedies:
    def __init__(self, charters: CharterBook, calendar: WorkingCalendar, count_inline: bool = True) -> None:
        """``count_inline``: count an official's strikes in this ledger and decide the referral here (one
        ledger over every case: the audit's replay). False (the compensation service): each strike and
        withdrawal is returned as a findings event (``StrikeRecorded``, ``StrikeWithdrawn``, keyed by the
        official) for the strike counter, which decides the referral (``shared.compensation.strikes``)."""
        self.charters = charters
        self.calendar = calendar
        self.count_inline = count_inline

    # -- incoming events ---------------------------------------------------------
    def record(self, state: LedgerState, env: Envelope, now: datetime) -> list[Envelope]:
        """One petition or SLA event: the remedies it owes or withdraws."""
        out: list[Envelope] = []
        p = env.payload
        if isinstance(p, ev.PetitionReceived):
            if state.case(env.case_id) is None:
                numbered = p.case_number is not None or p.receipt_number is not None
                state.add_case(CompensationCase(env.case_id, p.agency_id,
                                                env.charter.charter_id if env.charter else None,
                                                env.charter.version if env.charter else None,
                                                official_id="" if numbered else None,
                                                petition_version=env.case_version or 0))
        elif isinstance(p, ev.PetitionResolved):
            out += self._resolved(state, env, now)
        elif isinstance(p, ev.PetitionTransferred) and p.scope == "other_agency" and p.to_agency_id:
            case = state.case(env.case_id)
            if case is not None:
                state.save_case(replace(case, handling_agency=p.to_agency_id))
        self._follow(state, env)
        found = cause_of(env)
        if found is not None:
            out += self._cause(state, found, env, now)
        withdrawal = withdrawal_of(env)
        if withdrawal is not None:
            out += self._withdraw(state, withdrawal, env, now)
        return out

    @staticmethod
    def _follow(state: LedgerState, env: Envelope) -> None:
        """Keep the official the case is assigned to (a transfer clears it, as the case's fold does) and the
        newest petition version read."""
        p = env.payload
        if env.producer != "intake" or not env.case_version:
            return
        case = state.case(env.case_id)
        if case is None or env.case_version <= case.petition_version:
            return
        official = case.official_id
        if official is not None and isinstance(p, ev.OfficialAssigned):
            official = p.official.official_id
        elif official is not None and isinstance(p, ev.PetitionTransferred):
            official = ""
        state.save_case(replace(case, official_id=official, petition_version=env.case_version))

    def _resolved(self, state: LedgerState, env: Envelope, now: datetime) -> list[Envelope]:
        case = state.case(env.case_id)
        if case is not None and case.resolved_at is None:
            state.save_case(replace(case, resolved_at=env.occurred_at))
        out: list[Envelope] = []
        for v in state.unsettled(env.case_id):
            out += self._settle(state, v, env.occurred_at, env, now)
        return out

    def _charter(self, ref: CharterRef | None) -> Charter | None:
        return self.charters.get(ref.charter_id, ref.version) if ref else None

    def _cause(self, state: LedgerState, found: CauseFound, env: Envelope, now: datetime) -> list[Envelope]:
        charter = self._charter(found.charter)
        plan = policy.plan(charter, found.cause)
        out: list[Envelope] = []
        if plan.voucher is not None and charter is not None:
            out += self._propose(state, found, charter, plan.voucher, env, now)
        if plan.apology_promise is not None:
            apology = policy.remedy_id("apology", found.case_id, found.cause)
            out += self._action(state, "apology", apology, found, plan.apology_promise, env, now,
                                comp.ApologyOwed(apology_id=apology, cause=found.cause,
                                                 cause_event_id=found.cause_event_id,
                                                 promise_id=plan.apology_promise))
        if found.cause == "discourtesy" and found.official_id is not None:
            if plan.retraining_promise is not None:
                order = policy.remedy_id("retraining", found.cause_event_id)
                out += self._action(state, "retraining", order, found, plan.retraining_promise, env, now,
                                    comp.RetrainingOrdered(order_id=order, official_id=found.official_id,
                                                           cause_event_id=found.cause_event_id,
                                                           promise_id=plan.retraining_promise))
            out += self._strike(state, found, plan.referral, env, now)
        return out

    def _propose(self, state: LedgerState, found: CauseFound, charter: Charter, plan: policy.VoucherPlan,
                 env: Envelope, now: datetime) -> list[Envelope]:
        if state.voucher_for(found.case_id, found.cause) is not None:
            return []  # this (case, cause) already has its voucher: a redelivery, a race or a second occurrence
        if found.official_id is None:  # a missed deadline: the voucher names the official the case was assigned to
            case = state.case(found.case_id)
            found = replace(found, official_id=(case.official_id or None) if case is not None else None)
        step = vouchers.propose(found, charter, plan, self.calendar.version)
        state.add_voucher(step)
        out = [_event(step, now, env)]
        v = step.voucher
        if not v.settled:
            case = state.case(found.case_id)
            if case is not None and case.resolved_at is not None:  # resolved before the breach reached us
                out += self._settle(state, v, case.resolved_at, env, now)
            return out
        return out + self._auto_approve(state, v, found.occurred_at, env, now)

    def _settle(self, state: LedgerState, v: Voucher, completed_at: datetime, cause: Envelope,
                now: datetime) -> list[Envelope]:
        promise = self.charters.get(v.charter_id, v.charter_version).promise(v.promise_id)
        assert isinstance(promise, Remedy) and promise.voucher is not None
        step = _saved(state, vouchers.settle(v, promise.voucher, self.calendar, completed_at))
        out = [_event(step, now, cause)]
        if step.voucher.amount_won == 0:
            cancelled = vouchers.cancel(step.voucher, "late by less than the policy pays for", "policy", completed_at)
            return out + [_event(_saved(state, cancelled), now, cause)]
        return out + self._auto_approve(state, step.voucher, completed_at, cause, now)

    def _auto_approve(self, state: LedgerState, v: Voucher, at: datetime, cause: Envelope,
                      now: datetime) -> list[Envelope]:
        if v.approval != "none":
            return []  # waits for the department head (Seongnam)
        return self._approve(state, v, "policy", at, cause, now)

    def _approve(self, state: LedgerState, v: Voucher, by: str, at: datetime, cause: Envelope | None,
                 now: datetime) -> list[Envelope]:
        approved = _saved(state, vouchers.approve(v, by, at))
        out = [_event(approved, now, cause)]
        if approved.voucher.payment == "on_issue":
            out.append(_event(_saved(state, vouchers.issue(approved.voucher, by, at)), now, cause))
        return out

    def _withdraw(self, state: LedgerState, w: Withdrawal, env: Envelope, now: datetime) -> list[Envelope]:
        out: list[Envelope] = []
        if w.cause == "discourtesy":
            strike = state.latest_strike(w.case_id)
            if strike is not None:
                state.save_strike(replace(strike, withdrawn_at=env.occurred_at))
                if not self.count_inline:  # the counter no longer counts it either
                    out.append(envelope(strikes.stream_key(strike.agency_id, strike.official_id),
                                        findings.StrikeWithdrawn(strike_event_id=strike.event_id,
                                                                 agency_id=strike.agency_id,
                                                                 official_id=strike.official_id,
                                                                 case_id=strike.case_id, withdrawn_at=env.occurred_at,
                                                                 by_event_id=str(env.event_id)),
                                        env.occurred_at, now, env, key=f"strike-withdrawn|{strike.event_id}"))
        v = state.voucher_for(w.case_id, w.cause)
        if v is None or v.status not in vouchers.CANCELLABLE:
            return out  # nothing owed, already cancelled (a redelivery), or in the citizen's hands
        return out + [_event(_saved(state, vouchers.cancel(v, w.reason, w.by_event_id, env.occurred_at)), now, env)]

    def _action(self, state: LedgerState, kind: ActionKind, action_id: str, found: CauseFound, promise_id: str,
                env: Envelope, now: datetime, payload: BaseModel) -> list[Envelope]:
        if state.has_action(action_id, found.case_id):
            return []
        state.add_action(RemedyAction(action_id, kind, found.case_id, found.official_id, found.cause,
                                      found.cause_event_id, promise_id, found.occurred_at))
        return [envelope(found.case_id, payload, found.occurred_at, now, env, key=f"{kind}|{action_id}")]

    def _strike(self, state: LedgerState, found: CauseFound, referral: Remedy | None, env: Envelope,
                now: datetime) -> list[Envelope]:
        assert found.official_id is not None
        case = state.case(found.case_id)
        if case is None:
            # An official is known only within an agency, the one handling the case (the filing agency,
            # or the one it was transferred to): without the receipt no strike can be put on anyone.
            # The worker waits for the receipt.
            return []
        if state.has_strike(found.cause_event_id):
            return []
        strike = Strike(found.cause_event_id, case.officials_agency, found.official_id, found.case_id,
                        found.occurred_at, case_version=env.case_version, charter=env.charter)
        state.add_strike(strike)
        if self.count_inline:
            return strikes.count(state, strike, referral, now)
        return [envelope(strikes.stream_key(strike.agency_id, strike.official_id),
                         findings.StrikeRecorded(strike_event_id=strike.event_id, agency_id=strike.agency_id,
                                                 official_id=strike.official_id, case_id=strike.case_id,
                                                 confirmed_at=strike.confirmed_at),
                         found.occurred_at, now, env, key=f"strike|{strike.event_id}")]

    # -- officials' decisions ----------------------------------------------------------
    def approve(self, state: LedgerState, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        """The department head approves (Seongnam); issued at once unless paid in a monthly batch."""
        return self._approve(state, _voucher(state, voucher_id), official_id, now, None, now)

    def reject(self, state: LedgerState, voucher_id: str, official_id: str, reason: str,
               now: datetime) -> list[Envelope]:
        return self._decided(state, vouchers.reject(_voucher(state, voucher_id), official_id, reason, now), now)

    def deliver(self, state: LedgerState, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        return self._decided(state, vouchers.deliver(_voucher(state, voucher_id), official_id, now), now)

    def issue_one(self, state: LedgerState, voucher_id: str, official_id: str, now: datetime) -> list[Envelope]:
        """One voucher of a monthly batch (what ``issue_batch`` does for each; used by the audit replay)."""
        return self._decided(state, vouchers.issue(_voucher(state, voucher_id), official_id, now), now)

    def issue_batch(self, state: LedgerState, month: str, official_id: str, now: datetime,
                    visible: Callable[[str], bool]) -> list[Envelope]:
        """A month's approved vouchers (Gochang, Busan) of the cases ``visible`` admits."""
        out: list[Envelope] = []
        for v in state.batch(month):
            if visible(v.case_id):
                out += self._decided(state, vouchers.issue(v, official_id, now), now)
        return out

    @staticmethod
    def _decided(state: LedgerState, step: Step, now: datetime) -> list[Envelope]:
        """An official's decision: no event of the case caused it (case version 0)."""
        return [_event(_saved(state, step), now, None)]


def _saved(state: LedgerState, step: Step) -> Step:
    state.save_voucher(step)
    return step


def _voucher(state: LedgerState, voucher_id: str) -> Voucher:
    v = state.voucher(voucher_id)
    if v is None:
        raise VoucherNotFound(voucher_id)
    return v


def _event(step: Step, now: datetime, cause: Envelope | None) -> Envelope:
    """A voucher's transition always names the charter the voucher was decided under."""
    v = step.voucher
    return envelope(v.case_id, step.payload, step.at, now, cause, key=step.key, charter=v.charter)
