"""Every clock of one case, as of an instant: what it owes, by when, how much working time is left, whether
it runs, is paused, was kept or was breached, and the notices that discharged it. Pure.

The decisions are the SLA monitor's own, made by the same core: a fresh ``ObligationBook`` is fed the
case's petition events and the notices sent about it, in the order the monitor applies them
(``fact_order``), with each fact's timers fired before it, then up to ``now`` (as the audit replay does).
So intake can answer ``GET /v1/petitions/{id}/obligations`` from its own data without asking the monitor,
and both agree.

``remaining`` tells the working time left before a due instant at a given instant: the figures a running
clock shows (Act 19: a period of days is counted in working days, one of hours in working hours; a
working day is 8 working hours).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from shared.charters import CharterBook
from shared.deadline_report import working_time_text
from shared.events import Envelope, notice, sla
from shared.events import petition as ev
from shared.instants import to_kst
from shared.obligations import ObligationBook, fact_order
from shared.working_time import WORKING_DAY_SECONDS, WorkingCalendar

RUNNING, PAUSED, KEPT, BREACHED = "running", "paused", "kept", "breached"
RULES = {"transfer": "Decree 13"}  # a transfer kept in time is judged at once: no opening names its rule


@dataclass(frozen=True)
class Remaining:
    as_of: datetime
    working_seconds: int
    working_days: int
    day_counted: bool = False  # a period of days: told in days

    @property
    def text(self) -> str:
        """In the law's units: "2 working days" (a period of days), "1 working day and 3 working hours"."""
        if self.day_counted:
            return f"{working_time_text(self.working_days, None)} left"
        return f"{working_time_text(self.working_days, self.working_seconds - self.working_days * WORKING_DAY_SECONDS)} left"


def remaining(calendar: WorkingCalendar, due_at: datetime, counting: str, now: datetime) -> Remaining:
    """The working time left before ``due_at`` at ``now`` (nothing once it passed). ``counting``:
    working_days (the days still to be counted, today among them while its desks are open, with the working
    seconds to the due instant beside them) or working_time / calendar_days (working seconds, and the whole
    8-hour working days in them)."""
    seconds = max(0, calendar.working_seconds_until(due_at) - calendar.working_seconds_until(now))
    if counting == "working_days":
        local = to_kst(now)
        first = calendar.working_days_before(local.date())
        if calendar.is_working_day(local.date()) and local >= calendar.end_of_working_day(local.date()):
            first += 1  # today's desks have closed: it is no longer counted
        last = calendar.working_days_before(to_kst(due_at).date())  # the due instant ends its day (18:00)
        days = max(0, last - first + 1) if seconds else 0
        return Remaining(now, min(seconds, days * WORKING_DAY_SECONDS), days, day_counted=True)
    return Remaining(now, seconds, seconds // WORKING_DAY_SECONDS)


@dataclass(frozen=True)
class NoticeGiven:
    """A notice that discharged a clock: sent by notify (``notice_id``, channel) or recorded by an official
    (InterimNoticeRecorded: ``event_id``, no channel)."""

    kind: str
    sent_at: datetime
    event_id: str
    notice_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Discharge:
    event_id: str
    event_type: str
    occurred_at: datetime
    on_time: bool
    voided_breach: bool = False


@dataclass(frozen=True)
class Clock:
    obligation_id: str
    kind: str
    rule: str
    citizen_facing: bool
    started_at: datetime
    period: str | None
    counting: str
    state: str  # running | paused | kept | breached
    due_at: datetime | None  # None while paused
    at_risk: bool = False
    remaining: Remaining | None = None  # as of the instant asked about (a paused clock's stands still)
    discharged_by: Discharge | None = None
    breached_due_at: tuple[datetime, ...] = ()  # every due instant it was breached at
    notices: tuple[NoticeGiven, ...] = ()
    promise_id: str | None = None


def case_clocks(case_id: str, petition_events: Iterable[Envelope], notices_sent: Iterable[Envelope],
                charters: CharterBook, calendar: WorkingCalendar, now: datetime) -> list[Clock]:
    """Every clock the case has had, in the order each first opened, as of ``now``."""
    facts = sorted([*petition_events, *(n for n in notices_sent if isinstance(n.payload, notice.NoticeSent))],
                   key=fact_order)
    book = ObligationBook(calendar, charters)
    derived: list[Envelope] = []
    for env in facts:
        if env.recorded_at > now:
            break  # not known yet at ``now``
        derived += book.due_before(env, now)
        derived += book.observe(env, now)
    derived += book.due(now)
    by_id = {str(env.event_id): env for env in facts}
    sent = [n for n in facts if isinstance(n.payload, notice.NoticeSent)]
    clocks: dict[str, Clock] = {}
    for env in derived:
        p = env.payload
        if env.case_id != case_id or not isinstance(p, (sla.ObligationOpened, sla.ObligationAtRisk,
                                                         sla.ObligationBreached, sla.ObligationDischarged,
                                                         sla.ObligationSuspended)):
            continue
        clock = clocks.get(p.obligation_id)
        if clock is None:
            proof = getattr(p, "proof", None)
            clock = Clock(p.obligation_id, p.kind, proof.rule if proof else RULES.get(p.kind, ""), p.citizen_facing,
                          proof.started_at if proof else env.occurred_at, proof.period if proof else None,
                          proof.counting if proof else "working_time", RUNNING, p.due_at,
                          promise_id=proof.promise_id if proof else None)
        if isinstance(p, sla.ObligationOpened):
            clock = replace(clock, state=RUNNING, due_at=p.due_at, discharged_by=None, remaining=None,
                            at_risk=False if p.replaces_due_at is not None else clock.at_risk,
                            started_at=p.proof.started_at, period=p.proof.period, counting=p.proof.counting)
        elif isinstance(p, sla.ObligationAtRisk):
            clock = replace(clock, at_risk=True)
        elif isinstance(p, sla.ObligationSuspended):
            left = None
            if p.remaining_working_seconds is not None or p.remaining_working_days is not None:
                days = p.remaining_working_days or 0
                left = Remaining(env.occurred_at, p.remaining_working_seconds
                                 if p.remaining_working_seconds is not None else days * WORKING_DAY_SECONDS,
                                 days if p.remaining_working_days is not None
                                 else (p.remaining_working_seconds or 0) // WORKING_DAY_SECONDS,
                                 day_counted=p.remaining_working_days is not None)
            clock = replace(clock, state=PAUSED, due_at=None, remaining=left)
        elif isinstance(p, sla.ObligationBreached):
            clock = replace(clock, state=BREACHED, due_at=p.due_at, remaining=None,
                            breached_due_at=clock.breached_due_at + (p.due_at,))
        elif isinstance(p, sla.ObligationDischarged):
            cause = by_id.get(p.discharged_by_event_id)
            discharge = Discharge(p.discharged_by_event_id, cause.event_type if cause else "", env.occurred_at,
                                  p.on_time, p.voids_breach)
            voided = tuple(d for d in clock.breached_due_at if d != p.due_at) if p.voids_breach else clock.breached_due_at
            clock = replace(clock, state=KEPT if p.on_time else BREACHED, due_at=p.due_at, remaining=None,
                            discharged_by=discharge, breached_due_at=voided,
                            notices=clock.notices + _notices(cause, sent))
        clocks[p.obligation_id] = clock
    out = []
    for clock in clocks.values():
        if clock.state == RUNNING and clock.due_at is not None:
            clock = replace(clock, remaining=remaining(calendar, clock.due_at, clock.counting, now))
        elif clock.state == PAUSED and clock.remaining is not None:
            clock = replace(clock, remaining=replace(clock.remaining, as_of=now))  # it stands still while paused
        out.append(clock)
    return out


def _notices(cause: Envelope | None, sent: list[Envelope]) -> tuple[NoticeGiven, ...]:
    """The notice that discharged a clock, with the same notice sent on the case's other channels."""
    if cause is None:
        return ()
    p = cause.payload
    if isinstance(p, ev.InterimNoticeRecorded):
        return (NoticeGiven("interim", cause.occurred_at, str(cause.event_id)),)
    if not isinstance(p, notice.NoticeSent):
        return ()
    same = [n for n in sent if n.payload.cause_event_id == p.cause_event_id and n.payload.kind == p.kind]  # type: ignore[attr-defined]
    return tuple(NoticeGiven(n.payload.kind, n.occurred_at, str(n.event_id), n.payload.notice_id,  # type: ignore[attr-defined]
                             n.payload.channel) for n in same)  # type: ignore[attr-defined]
