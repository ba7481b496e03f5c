"""Strike counting, pure: an agency's official's strikes across its cases, and the personnel-action
referral at the charter's threshold (D11: three confirmed discourtesies, within the window if any).

The same decision runs in two places: inline in the case's ledger (the audit's replay, one
in-memory ledger over every case), and in compensation's strike counter, which reads the strikes
re-keyed by official (``shared.events.findings``) so that it scales by partition. Both build the
referral from the finding's case version and charter, so they agree by id and content.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from shared.charters import CharterBook
from shared.charters.model import Remedy
from shared.compensation import policy
from shared.compensation.envelopes import envelope
from shared.compensation.state import RemedyAction, Strike
from shared.events import Envelope
from shared.events import compensation as comp
from shared.events.findings import StrikeRecorded, StrikeWithdrawn


def stream_key(agency_id: str, official_id: str) -> str:
    """The findings topic's key: an official is known only within their agency."""
    return f"{agency_id}/{official_id}"


class StrikeTally(Protocol):
    """What counting reads and writes (the case ledger's ``LedgerState`` is one)."""

    def has_strike(self, event_id: str) -> bool: ...

    def add_strike(self, strike: Strike) -> None: ...

    def strikes_in_window(self, agency_id: str, official_id: str, since: datetime | None,
                          until: datetime) -> list[str]: ...

    def has_action(self, action_id: str) -> bool: ...

    def add_action(self, action: RemedyAction) -> None: ...

    def later_strikes(self, strike: Strike, until: datetime | None) -> list[Strike]: ...


class WithdrawingTally(StrikeTally, Protocol):
    def withdraw(self, event_id: str, at: datetime) -> None:
        """Mark the strike withdrawn (once: a repeat keeps the first instant)."""
        ...


def count(state: StrikeTally, strike: Strike, referral: Remedy | None, now: datetime) -> list[Envelope]:
    """After ``strike`` was added: the referrals it raises. At the strike itself if the official reached
    the threshold there; and at each later-confirmed strike whose window it now completes, since strikes
    may be read in another order than they were confirmed in (cases on other partitions, a backdated
    finding): the referrals owed do not depend on the order strikes arrive in, only on the strikes."""
    if referral is None:
        return []  # no referral threshold in this charter (Yeonje-gu, Y4): the strike is only kept
    window = referral.strike_window_days
    out = _referral_at(state, strike, referral, now)
    until = strike.confirmed_at + timedelta(days=window) if window is not None else None
    for later in state.later_strikes(strike, until):
        out += _referral_at(state, later, referral, now)
    return out


def _referral_at(state: StrikeTally, strike: Strike, referral: Remedy, now: datetime) -> list[Envelope]:
    window = referral.strike_window_days
    since = strike.confirmed_at - timedelta(days=window) if window is not None else None
    strikes = state.strikes_in_window(strike.agency_id, strike.official_id, since, strike.confirmed_at)
    if not policy.referral_due(referral, len(strikes)):
        return []
    # The id is unchanged from when strikes were not kept per agency: the cause event makes it unique.
    referral_id = policy.remedy_id("referral", strike.official_id, strike.event_id)
    if state.has_action(referral_id):
        return []
    state.add_action(RemedyAction(referral_id, "referral", strike.case_id, strike.official_id, "discourtesy",
                                  strike.event_id, referral.id, strike.confirmed_at))
    payload = comp.PersonnelActionReferred(referral_id=referral_id, official_id=strike.official_id,
                                           strikes=len(strikes), window_days=window,
                                           strike_event_ids=tuple(strikes), promise_id=referral.id)
    env = envelope(strike.case_id, payload, strike.confirmed_at, now, None, key=f"referral|{referral_id}",
                   charter=strike.charter)
    return [replace(env, case_version=strike.case_version)]  # the finding's place in its case, as decided there


class StrikeCounter:
    """The strike counter's decision on one event of the findings topic."""

    def __init__(self, charters: CharterBook) -> None:
        self.charters = charters

    def record(self, state: WithdrawingTally, env: Envelope, now: datetime) -> list[Envelope]:
        p = env.payload
        if isinstance(p, StrikeWithdrawn):
            state.withdraw(p.strike_event_id, p.withdrawn_at)
            return []
        if not isinstance(p, StrikeRecorded) or state.has_strike(p.strike_event_id):
            return []  # a redelivered strike is counted once
        strike = Strike(p.strike_event_id, p.agency_id, p.official_id, p.case_id, p.confirmed_at,
                        case_version=env.case_version, charter=env.charter)
        state.add_strike(strike)
        charter = self.charters.get(env.charter.charter_id, env.charter.version) if env.charter else None
        return count(state, strike, policy.plan(charter, "discourtesy").referral, now)
