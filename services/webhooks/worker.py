"""The webhooks worker: each event of the petition, SLA, compensation and notice topics becomes one delivery per
matching subscription of the agency handling its case, on the one consumer runtime.

Whose case it is: the agency that filed it (``PetitionReceived.agency_id``), then the one it was transferred to
(``PetitionTransferred`` with scope ``other_agency``), by case version. A derived event (SLA, compensation,
notice) is judged by the agency handling the case at the version it was made from, and waits (``Wait``) until
the case's petition facts up to that version are read. The transfer itself goes to both agencies: the one it
leaves and the one it reaches; every later event only to the latter. Deliveries commit with the consumer's
positions and are unique per (subscription, event): a redelivered record adds nothing.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.webhooks.orm import CaseAgencyRow, CaseRow, DeliveryRow, SubscriptionRow
from services.webhooks.payload import body
from services.webhooks.schema import RUNTIME
from shared.events import Envelope
from shared.events import petition as ev

NAME = "webhooks"
FACTS = "intake"  # the producer of petition facts; every other producer's events are derived
log = get_logger("webhooks")
Clock = Callable[[], datetime]


def agency_at(session: Session, case_id: str, version: int) -> str | None:
    """The agency handling the case at ``version`` (its filing agency for a version before the first fact)."""
    rows = session.execute(select(CaseAgencyRow).where(CaseAgencyRow.case_id == case_id)
                           .order_by(CaseAgencyRow.from_version)).scalars().all()
    if not rows:
        return None
    handling = rows[0].agency_id
    for row in rows:
        if row.from_version <= version:
            handling = row.agency_id
    return handling


def matches(sub: SubscriptionRow, env: Envelope, case: CaseRow) -> bool:
    """The subscription's event types and filters (the obligation kinds filter only obligation events)."""
    if env.event_type not in sub.event_types:
        return False
    if sub.municipality_ids and case.municipality_id not in sub.municipality_ids:
        return False
    if sub.petition_types and case.petition_type not in sub.petition_types:
        return False
    kind = getattr(env.payload, "kind", None) if hasattr(env.payload, "obligation_id") else None
    return not (sub.obligation_kinds and kind is not None and kind not in sub.obligation_kinds)


class DeliveryRecorder:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.recorded = 0

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        p = env.payload
        with session.no_autoflush:
            case = session.get(CaseRow, env.case_id)
        if isinstance(p, ev.PetitionReceived):
            if case is None:
                case = CaseRow(case_id=env.case_id, municipality_id=p.municipality_id,
                               petition_type=p.petition_type.value, version=env.case_version)
                session.add(case)
                session.add(CaseAgencyRow(case_id=env.case_id, from_version=env.case_version, agency_id=p.agency_id))
                session.flush()
            agencies = [p.agency_id]
        elif case is None:
            return Wait("the petition's receipt has not been read yet")
        elif env.producer == FACTS:
            before = agency_at(session, env.case_id, env.case_version - 1)
            agencies = [before] if before else []
            if isinstance(p, ev.PetitionTransferred) and p.scope == "other_agency" and p.to_agency_id:
                if session.get(CaseAgencyRow, (env.case_id, env.case_version)) is None:
                    session.add(CaseAgencyRow(case_id=env.case_id, from_version=env.case_version,
                                              agency_id=p.to_agency_id))
                agencies.append(p.to_agency_id)
            case.version = max(case.version, env.case_version)
            session.flush()
        else:
            if env.case_version > case.version:
                return Wait(f"the petition's facts up to version {env.case_version} have not been read yet")
            handling = agency_at(session, env.case_id, env.case_version)
            agencies = [handling] if handling else []
        self._record(session, env, case, list(dict.fromkeys(agencies)))
        return None

    def _record(self, session: Session, env: Envelope, case: CaseRow, agencies: list[str]) -> None:
        if not agencies:
            return
        subs = session.execute(select(SubscriptionRow).where(SubscriptionRow.agency_id.in_(agencies))
                               .order_by(SubscriptionRow.created_at, SubscriptionRow.webhook_id)).scalars().all()
        wanted = [s for s in subs if matches(s, env, case)]
        if not wanted:
            return
        event_id = str(env.event_id)
        have = set(session.execute(select(DeliveryRow.webhook_id).where(
            DeliveryRow.webhook_id.in_([s.webhook_id for s in wanted]), DeliveryRow.dedup_key == event_id)).scalars())
        data = body(env)
        now = self._clock()
        for sub in wanted:
            if sub.webhook_id in have:
                continue  # the log redelivered the event: its delivery is recorded already
            session.add(DeliveryRow(delivery_id=str(uuid.uuid4()), webhook_id=sub.webhook_id, dedup_key=event_id,
                                    event_id=event_id, event_type=env.event_type, case_id=env.case_id, body=data,
                                    status="pending", attempts=0, next_attempt_at=now, created_at=now))
            self.recorded += 1
        session.flush()
        log.info("webhook_deliveries_recorded", case_id=env.case_id, event_type=env.event_type,
                 subscriptions=len(wanted) - len(have))


def consumer(log: EventLog, topics: Topics, sessions: sessionmaker, clock: Clock,
             metrics: ConsumerMetrics | None = None, after_commit: Callable[[], object] = lambda: None) -> Consumer:
    """``after_commit``: wakes the sender (new deliveries are due at once)."""
    return Consumer(NAME, log, [topics.petition_events, topics.sla_events, topics.compensation_events,
                                topics.notice_events], sessions, RUNTIME, DeliveryRecorder(clock), topics.dead_letter,
                    topics.dead_letter_decisions, clock, after_commit=after_commit, metrics=metrics)
