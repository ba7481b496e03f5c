"""Which events are causes for a remedy, and which withdraw one. Pure: read from envelopes.

A citizen-facing statutory-deadline breach is a cause (D10; Busan Gangseo-gu); a
charter's internal-target warning never is (D4: a warning, not a breach of a
promise to the citizen). Confirmed faults recorded through intake are causes
(Y3, D10, D11, Y4). A breach voided by a backdated fact, or a finding withdrawn,
takes the cause back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events import Envelope, sla
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.periods import Period

FINDINGS: dict[type, str] = {
    ev.RepeatVisitRecorded: "repeat_visit",
    ev.AdministrativeErrorConfirmed: "administrative_error",
    ev.InsincereHandlingConfirmed: "insincere_handling",
    ev.DiscourtesyConfirmed: "discourtesy",
}


@dataclass(frozen=True)
class Breach:
    due_at: datetime
    period: Period | None

    @property
    def same_day(self) -> bool:
        """A same-day petition (당일민원): its period is at most one working day (8 working hours)."""
        if self.period is None:
            return False
        return self.period.amount <= (8 if self.period.unit == "h" else 1)


@dataclass(frozen=True)
class CauseFound:
    cause: str
    case_id: str
    cause_event_id: str
    occurred_at: datetime
    charter: CharterRef | None
    official_id: str | None = None
    breach: Breach | None = None


@dataclass(frozen=True)
class Withdrawal:
    cause: str
    case_id: str
    reason: str
    by_event_id: str


def cause_of(env: Envelope) -> CauseFound | None:
    p = env.payload
    if isinstance(p, sla.ObligationBreached):
        if p.kind != "statutory_deadline" or not p.citizen_facing:
            return None  # the charter target is internal; other obligations carry no voucher in any charter
        period = Period.parse(p.proof.period) if p.proof.period else None
        return CauseFound("statutory_deadline_missed", env.case_id, str(env.event_id), env.occurred_at, env.charter,
                          breach=Breach(p.due_at, period))
    cause = FINDINGS.get(type(p))
    if cause is None:
        return None
    return CauseFound(cause, env.case_id, str(env.event_id), env.occurred_at, env.charter,
                      official_id=getattr(p, "official_id", None))


def withdrawal_of(env: Envelope) -> Withdrawal | None:
    p = env.payload
    if isinstance(p, sla.ObligationDischarged) and p.voids_breach and p.kind == "statutory_deadline":
        return Withdrawal("statutory_deadline_missed", env.case_id,
                          f"breach voided: the deadline was met by event {p.discharged_by_event_id}", str(env.event_id))
    if isinstance(p, ev.FindingWithdrawn):
        return Withdrawal(p.finding, env.case_id, f"finding withdrawn: {p.reason}", str(env.event_id))
    return None
