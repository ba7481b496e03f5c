"""The compensation worker: petition and SLA events into the ledger, on the one consumer runtime.

One loop reads both topics (the petition topic first), so the ledger is never decided by two
transactions racing on one case. Each batch's ledger rows, outbox rows and positions commit
together; then the outbox is published. A redelivered event finds its remedies already in the
ledger (their ids derive from their causes) and decides nothing twice.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from services.bootstrap import Container
from services.compensation.ledger.book import Ledger
from services.compensation.ledger.orm import CompensationCaseRow
from services.platform.logs import get_logger
from services.platform.outbox.publisher import Outbox
from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from shared.events import Envelope
from shared.events import petition as ev

NAME = "compensation"
GROUP = "charterwatch.compensation"  # where an older release committed its positions
log = get_logger("compensation")
Clock = Callable[[], datetime]


class LedgerHandler:
    def __init__(self, ledger: Ledger, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock
        self.decided = 0

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if not isinstance(env.payload, ev.PetitionReceived) and env.producer != "intake":
            with session.no_autoflush:
                known = session.get(CompensationCaseRow, env.case_id)
            if known is None:
                return Wait("the petition's receipt has not been read yet")
        try:
            events = self._ledger.record(session, env, self._clock())
        except BaseException:
            session.info.pop("ledger_added", None)  # the savepoint is rolled back: so is what it added
            raise
        self.decided += len(events)
        for e in events:
            log.info("remedy_decided", case_id=e.case_id, event_type=e.event_type, cause_event_id=str(env.event_id))
        return None


def consumer(c: Container, outbox: Outbox, metrics: ConsumerMetrics | None = None) -> Consumer:
    handler = LedgerHandler(Ledger(c.charters, c.calendar), c.clock)
    return Consumer(NAME, c.log, [c.topics.petition_events, c.topics.sla_events], c.sessions, handler,
                    c.topics.dead_letter, c.topics.dead_letter_decisions, c.clock, after_commit=outbox.publish,
                    metrics=metrics, seed_from_group=GROUP)


def loops(c: Container, outbox: Outbox | None = None) -> list[Consumer]:
    return [consumer(c, outbox or Outbox(c.log, c.topics.compensation_events, c.sessions, NAME))]
