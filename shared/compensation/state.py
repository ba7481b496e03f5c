"""What the remedy decider reads and writes (the port), and an in-memory ledger that keeps it.

The compensation service implements ``LedgerState`` over its SQL tables (uniqueness rules and
row locks make it hold under redelivery and racing consumers); the audit's replay and the
tests use ``InMemoryLedgerState``. Both answer alike: what was added is seen at once, and ties
between instants keep the order things were added in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from shared.compensation.voucher import Step, Voucher
from shared.events.envelope import CharterRef


@dataclass(frozen=True)
class CompensationCase:
    """What compensation needs to know of a case: who may see it and when it was resolved."""

    case_id: str
    agency_id: str
    charter_id: str | None
    charter_version: str | None
    resolved_at: datetime | None = None
    # The agency handling the case now: the filing one, or the agency it was last transferred to (Decree
    # 13). A finding is against one of its officials: the strike counts there, never at the filing agency.
    handling_agency: str | None = None
    # The official the case is assigned to now (OfficialAssigned; a transfer clears it), whom a voucher for a
    # missed deadline names. None: not followed, a case filed before case numbers existed (PetitionReceived v1,
    # or v2 without numbers): its vouchers name no official, as they were decided then, so the audit's replay
    # of old cases agrees with what was recorded. "": followed, nobody assigned.
    official_id: str | None = None
    petition_version: int = 0  # the newest petition fact read: an SLA event of a later version waits for it

    @property
    def officials_agency(self) -> str:
        return self.handling_agency or self.agency_id


ActionKind = Literal["apology", "retraining", "referral"]


@dataclass(frozen=True)
class RemedyAction:
    """An apology owed, a retraining order or a personnel-action referral: each once (its id)."""

    action_id: str
    kind: ActionKind
    case_id: str
    official_id: str | None
    cause: str
    cause_event_id: str
    promise_id: str
    at: datetime


@dataclass(frozen=True)
class Strike:
    """A confirmed discourtesy by an official (D11, Y4); a withdrawn strike stays, marked.

    An official is known only within an agency: ``official_id`` is the agency's own id for them, so
    a strike is counted under (``agency_id``, ``official_id``), the agency being its case's."""

    event_id: str
    agency_id: str
    official_id: str
    case_id: str
    confirmed_at: datetime
    withdrawn_at: datetime | None = None
    # the finding's place in its case's stream and its charter: what a referral at this strike carries,
    # decided when it arrives or when an earlier-confirmed strike arrives after it
    case_version: int = 0
    charter: CharterRef | None = None


class LedgerState(Protocol):
    def case(self, case_id: str) -> CompensationCase | None: ...

    def add_case(self, case: CompensationCase) -> None: ...

    def save_case(self, case: CompensationCase) -> None: ...

    def voucher(self, voucher_id: str) -> Voucher | None:
        """The voucher an official acts on (SQL: its row locked until the transaction ends)."""
        ...

    def voucher_for(self, case_id: str, cause: str) -> Voucher | None:
        """The one voucher a (case, cause) may have."""
        ...

    def unsettled(self, case_id: str) -> list[Voucher]:
        """The case's proposed vouchers whose amount waits for its resolution."""
        ...

    def batch(self, month: str) -> list[Voucher]:
        """The approved vouchers of a monthly batch, by voucher id."""
        ...

    def add_voucher(self, step: Step) -> None:
        """A proposed voucher, with the first line of its history."""
        ...

    def save_voucher(self, step: Step) -> None:
        """A voucher after a transition, with one more line of its history."""
        ...

    def has_action(self, action_id: str, case_id: str | None = None) -> bool:
        """``case_id``: the action's case, when the caller knows it (a store may answer from what it read)."""
        ...

    def add_action(self, action: RemedyAction) -> None: ...

    def has_strike(self, event_id: str) -> bool: ...

    def add_strike(self, strike: Strike) -> None: ...

    def latest_strike(self, case_id: str) -> Strike | None:
        """The case's latest strike not withdrawn."""
        ...

    def save_strike(self, strike: Strike) -> None: ...

    def strikes_in_window(self, agency_id: str, official_id: str, since: datetime | None,
                          until: datetime) -> list[str]:
        """The agency's official's strikes not withdrawn, confirmed after ``since`` (None: ever) and
        by ``until``, oldest first; another agency's official of the same id is someone else (SQL:
        counted under the (agency, official) lock, so two consumers cannot both miss the third)."""
        ...

    def later_strikes(self, strike: Strike, until: datetime | None) -> list[Strike]:
        """The official's standing strikes confirmed at or after ``strike`` (itself aside), up to ``until``."""
        ...


def later_in(strikes: list[Strike], after: Strike, until: datetime | None) -> list[Strike]:
    """The standing strikes confirmed after ``after`` (ties: added after it), up to ``until`` (None: any)."""
    return [s for s in strikes if s.event_id != after.event_id and s.withdrawn_at is None
            and s.confirmed_at >= after.confirmed_at and (until is None or s.confirmed_at <= until)]


class InMemoryLedgerState:
    """``LedgerState`` in dictionaries (insertion-ordered, as SQL keeps ties in insertion order)."""

    def __init__(self) -> None:
        self.cases: dict[str, CompensationCase] = {}
        self.vouchers: dict[str, Voucher] = {}
        self.history: dict[str, list[Step]] = {}  # voucher id -> every transition, in order
        self.actions: dict[str, RemedyAction] = {}
        self.strikes: dict[str, Strike] = {}
        # indexes: the audit replays a whole log's cases into one ledger
        self._by_cause: dict[tuple[str, str], str] = {}
        self._case_vouchers: dict[str, list[str]] = {}
        self._case_strikes: dict[str, list[str]] = {}
        self._official_strikes: dict[tuple[str, str], list[str]] = {}  # (agency, official) -> strikes

    def case(self, case_id: str) -> CompensationCase | None:
        return self.cases.get(case_id)

    def add_case(self, case: CompensationCase) -> None:
        self.cases[case.case_id] = case

    def save_case(self, case: CompensationCase) -> None:
        self.cases[case.case_id] = case

    def voucher(self, voucher_id: str) -> Voucher | None:
        return self.vouchers.get(voucher_id)

    def voucher_for(self, case_id: str, cause: str) -> Voucher | None:
        voucher_id = self._by_cause.get((case_id, cause))
        return None if voucher_id is None else self.vouchers[voucher_id]

    def unsettled(self, case_id: str) -> list[Voucher]:
        vouchers = (self.vouchers[i] for i in self._case_vouchers.get(case_id, ()))
        return [v for v in vouchers if v.status == "proposed" and not v.settled]

    def batch(self, month: str) -> list[Voucher]:
        return sorted((v for v in self.vouchers.values() if v.status == "approved" and v.batch_month == month),
                      key=lambda v: v.voucher_id)

    def add_voucher(self, step: Step) -> None:
        v = step.voucher
        self._by_cause[(v.case_id, v.cause)] = v.voucher_id
        self._case_vouchers.setdefault(v.case_id, []).append(v.voucher_id)
        self.vouchers[v.voucher_id] = v
        self.history[v.voucher_id] = [step]

    def save_voucher(self, step: Step) -> None:
        self.vouchers[step.voucher.voucher_id] = step.voucher
        self.history[step.voucher.voucher_id].append(step)

    def has_action(self, action_id: str, case_id: str | None = None) -> bool:
        return action_id in self.actions

    def add_action(self, action: RemedyAction) -> None:
        self.actions[action.action_id] = action

    def has_strike(self, event_id: str) -> bool:
        return event_id in self.strikes

    def add_strike(self, strike: Strike) -> None:
        self.strikes[strike.event_id] = strike
        self._case_strikes.setdefault(strike.case_id, []).append(strike.event_id)
        self._official_strikes.setdefault((strike.agency_id, strike.official_id), []).append(strike.event_id)

    def latest_strike(self, case_id: str) -> Strike | None:
        strikes = (self.strikes[i] for i in self._case_strikes.get(case_id, ()))
        standing = [s for s in strikes if s.withdrawn_at is None]
        return max(standing, key=lambda s: s.confirmed_at, default=None)  # a tie: the first added

    def save_strike(self, strike: Strike) -> None:
        self.strikes[strike.event_id] = strike

    def strikes_in_window(self, agency_id: str, official_id: str, since: datetime | None,
                          until: datetime) -> list[str]:
        strikes = (self.strikes[i] for i in self._official_strikes.get((agency_id, official_id), ()))
        found = [s for s in strikes if s.withdrawn_at is None and s.confirmed_at <= until
                 and (since is None or s.confirmed_at > since)]
        return [s.event_id for s in sorted(found, key=lambda s: s.confirmed_at)]

    def later_strikes(self, strike: Strike, until: datetime | None) -> list[Strike]:
        strikes = [self.strikes[i] for i in self._official_strikes.get((strike.agency_id, strike.official_id), ())]
        return sorted(later_in(strikes, strike, until), key=lambda s: s.confirmed_at)
