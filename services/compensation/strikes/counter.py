"""The strike counter: the findings topic (keyed by official) into strikes and personnel-action referrals.

A consumer of its own on the one runtime, part of the compensation service and in its database,
with its own tables and consumer group: an official's strikes all reach one member, in the order
they were published, whichever case they were found in. Each batch's strikes, referrals (their
rows and their outbox rows) and positions commit in one transaction: a redelivered strike finds its
row and counts nothing, and a crash between counting and publishing leaves the referral in the
outbox for the relay, never lost nor doubled (its id derives from the strike).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.compensation.ledger.orm import RemedyActionRow
from services.compensation.schema import STRIKES_RUNTIME, OutboxRow
from services.compensation.strikes.orm import OfficialStrikeRow
from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.failpoints import failpoint
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.platform.outbox.publisher import Outbox
from shared.charters import CharterBook
from shared.compensation.state import RemedyAction, Strike
from shared.compensation.strikes import StrikeCounter
from shared.events import Envelope, encode
from shared.events.envelope import CharterRef

NAME = "strike_counter"
log = get_logger("compensation")
Clock = Callable[[], datetime]


class SqlStrikeTally:
    """``WithdrawingTally`` over the counter's table, inside the batch's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def has_strike(self, event_id: str) -> bool:
        with self.session.no_autoflush:
            return self.session.get(OfficialStrikeRow, event_id) is not None

    def add_strike(self, strike: Strike) -> None:
        charter = strike.charter
        self.session.add(OfficialStrikeRow(event_id=strike.event_id, agency_id=strike.agency_id,
                                           official_id=strike.official_id, case_id=strike.case_id,
                                           confirmed_at=strike.confirmed_at, case_version=strike.case_version,
                                           charter_id=charter.charter_id if charter else None,
                                           charter_version=charter.version if charter else None))
        self.session.flush()

    def later_strikes(self, strike: Strike, until: datetime | None) -> list[Strike]:
        t = OfficialStrikeRow
        query = select(t).where(t.agency_id == strike.agency_id, t.official_id == strike.official_id,
                                t.withdrawn_at.is_(None), t.event_id != strike.event_id,
                                t.confirmed_at >= strike.confirmed_at)
        if until is not None:
            query = query.where(t.confirmed_at <= until)
        return [Strike(r.event_id, r.agency_id, r.official_id, r.case_id, r.confirmed_at, r.withdrawn_at,
                       r.case_version, CharterRef(r.charter_id, r.charter_version)
                       if r.charter_id and r.charter_version else None)
                for r in self.session.execute(query.order_by(t.confirmed_at)).scalars()]

    def withdraw(self, event_id: str, at: datetime) -> None:
        row = self.session.get(OfficialStrikeRow, event_id)
        if row is not None and row.withdrawn_at is None:
            row.withdrawn_at = at

    def strikes_in_window(self, agency_id: str, official_id: str, since: datetime | None,
                          until: datetime) -> list[str]:
        t = OfficialStrikeRow
        query = select(t.event_id).where(t.agency_id == agency_id, t.official_id == official_id,
                                         t.withdrawn_at.is_(None), t.confirmed_at <= until)
        if since is not None:
            query = query.where(t.confirmed_at > since)
        return list(self.session.execute(query.order_by(t.confirmed_at)).scalars())

    def has_action(self, action_id: str) -> bool:
        with self.session.no_autoflush:
            return self.session.get(RemedyActionRow, action_id) is not None

    def add_action(self, action: RemedyAction) -> None:
        self.session.add(RemedyActionRow(action_id=action.action_id, kind=action.kind, case_id=action.case_id,
                                         official_id=action.official_id, cause=action.cause,
                                         cause_event_id=action.cause_event_id, promise_id=action.promise_id,
                                         at=action.at))


class StrikeHandler:
    def __init__(self, charters: CharterBook, clock: Clock) -> None:
        self._counter = StrikeCounter(charters)
        self._clock = clock
        self.referred = 0

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        decided = self._counter.record(SqlStrikeTally(session), env, self._clock())
        if decided:
            failpoint("strike_counted")  # counted, the referral not yet in the outbox: the batch never commits
        for e in decided:
            session.add(OutboxRow(event_id=str(e.event_id), case_id=e.case_id, value=encode(e), published=False,
                                  created_at=self._clock()))
            log.info("referral_decided", case_id=e.case_id, event_type=e.event_type,
                     official_id=getattr(e.payload, "official_id", None))
        self.referred += len(decided)
        return None


def consumer(log: EventLog, topics: Topics, sessions: sessionmaker, charters: CharterBook, outbox: Outbox,
             clock: Clock, metrics: ConsumerMetrics | None = None) -> Consumer:
    """``outbox``: compensation's own (the referral goes to the compensation topic, keyed by its case)."""
    handler = StrikeHandler(charters, clock)
    announced = [0]

    def published() -> None:
        if handler.referred > announced[0]:
            announced[0] = handler.referred
            failpoint("referral_committed")  # committed, not yet on the log: published after a restart
        outbox.publish()

    # The runtime's "case" here is the official (the findings' envelope key): a refused strike holds that
    # official's later strikes behind it, and the operator's decision, keyed so, reaches this member.
    return Consumer(NAME, log, [topics.finding_events], sessions, STRIKES_RUNTIME, handler,
                    topics.dead_letter, topics.dead_letter_decisions, clock, after_commit=published,
                    metrics=metrics)
