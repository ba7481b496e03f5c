"""The compensation worker: petition and SLA events into the ledger, on the one consumer runtime.

Strikes cross cases: the ledger records each against its case and publishes it, keyed by the
official, on the findings topic; the strike counter (``services.compensation.strikes``) counts them.

One loop reads both topics (the petition topic first), so the ledger is never decided by two
transactions racing on one case. Each batch's ledger rows, outbox rows and positions commit
together; then the outbox is published. A redelivered event finds its remedies already in the
ledger (their ids derive from their causes) and decides nothing twice.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from services.compensation.ledger.book import (
    Ledger,
    case_row,
    defer_inserts,
    forget,
    grant_access,
    prefetch,
)
from services.compensation.schema import RUNTIME
from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.platform.outbox.publisher import Outbox
from shared.events import Envelope
from shared.events import petition as ev

NAME = "compensation"
GROUP = "charterwatch.compensation"  # where an older release committed its positions
log = get_logger("compensation")
Clock = Callable[[], datetime]


class LedgerHandler:
    # Every effect is in the session: a batch may run without a savepoint per event (the runtime runs it
    # again with them if an event is refused).
    optimistic = True

    def __init__(self, ledger: Ledger, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock
        self.decided = 0

    @staticmethod
    def _access(session: Session, env: Envelope) -> None:
        """Who may see and act on the case's remedies: the filing agency, and any it is transferred to."""
        p = env.payload
        if isinstance(p, ev.PetitionReceived):
            grant_access(session, env.case_id, p.agency_id)
        elif isinstance(p, ev.PetitionTransferred) and p.to_agency_id:
            grant_access(session, env.case_id, p.to_agency_id)

    @staticmethod
    def prefetch(session: Session, case_ids: set[str]) -> None:
        """The batch's cases' ledger rows, read in a few queries before its events (keys are case ids);
        the rows its decisions queue are inserted together at its commit."""
        defer_inserts(session)
        prefetch(session, case_ids)

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if not isinstance(env.payload, ev.PetitionReceived) and env.producer != "intake":
            known = case_row(session, env.case_id)
            if known is None:
                return Wait("the petition's receipt has not been read yet")
            if known.official_id is not None and env.case_version and env.case_version > known.petition_version:
                # a breach names the official assigned when it happened: the facts before it are read first
                return Wait(f"petition facts up to version {env.case_version} not read yet")
        try:
            events = self._ledger.record(session, env, self._clock())
        except BaseException:
            forget(session)  # the savepoint is rolled back: so is what it added
            raise
        self._access(session, env)
        self.decided += len(events)
        for e in events:
            log.info("remedy_decided", case_id=e.case_id, event_type=e.event_type, cause_event_id=str(env.event_id))
        return None


def consumer(log: EventLog, topics: Topics, sessions: sessionmaker, ledger: Ledger, outbox: Outbox, clock: Clock,
             metrics: ConsumerMetrics | None = None, findings: Outbox | None = None) -> Consumer:
    """The worker over its own database (``sessions``); ``outbox``: the one its API and relay share;
    ``findings``: the findings topic's (strikes, for the strike counter)."""
    def publish() -> None:
        outbox.publish()
        if findings is not None:
            findings.publish()

    return Consumer(NAME, log, [topics.petition_events, topics.sla_events], sessions, RUNTIME,
                    LedgerHandler(ledger, clock), topics.dead_letter, topics.dead_letter_decisions, clock,
                    after_commit=publish, metrics=metrics, seed_from_group=GROUP)
