"""Poison never stops a service: a refused event is parked on the dead-letter topic with its reason,
its case's later events wait behind it, every other case flows, and an operator's retry or skip
(through the decisions topic) lets the case go on, each event handled once. On the real logs
(embedded and Kafka) and the real databases (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy.orm import Session

from services import wiring
from services.bootstrap import Container
from services.intake.schema import RUNTIME as INTAKE_RUNTIME
from services.notify.delivery import RetryPolicy
from services.platform.consumer import Consumer, Wait
from services.platform.dead_letters import DeadLetterBook
from services.platform.log.deadletter import DeadLetters
from services.sla_monitor.runner import MonitorLoop, read_all
from services.sla_monitor.schema import RUNTIME as SLA_RUNTIME
from shared.events import Envelope, decode, encode
from shared.events import petition as ev
from tests.integration.test_notify import petition
from tests.unit.test_obligations import Case, kst


class Flaky:
    """Refuses the events named in ``bad`` until ``fixed``; records what it handled, in order."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.fixed = False
        self.handled: list[str] = []

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if str(env.event_id) in self.bad and not self.fixed:
            raise ValueError("cannot count 2206-11-03T10:00:00+09:00: outside the calendar (2000-2060)")
        self.handled.append(str(env.event_id))
        return None


def run(consumer: Consumer) -> None:
    consumer.run(poll_timeout=0.2, until_caught_up=True)


def entries(c: Container) -> list[dict]:
    return [json.loads(r.value) for r in read_all(c.log, c.topics.dead_letter)[0]]


@pytest.mark.parametrize("action", ["retry", "skip"])
def test_a_refused_event_is_parked_its_case_waits_and_the_operator_decides(container: Container, action: str) -> None:
    c = container
    sick, well = Case(), Case()
    later = sick.event(ev.OfficialAssigned(official=_official()), kst(2026, 11, 2, 11))
    for e in (sick.received, later, well.received):
        c.log.append(c.topics.petition_events, e.case_id, encode(e))
    handler = Flaky({str(sick.received.event_id)})

    def consumer() -> Consumer:
        return Consumer("test-consumer", c.log, [c.topics.petition_events], c.database("intake").sessions,
                        INTAKE_RUNTIME, handler, c.topics.dead_letter,
                        c.topics.dead_letter_decisions, c.clock, retry_delay=0.001)

    run(consumer())
    assert handler.handled == [str(well.received.event_id)]  # the other case flowed
    [entry] = entries(c)
    assert entry["service"] == "test-consumer" and entry["case_id"] == sick.case_id
    assert "outside the calendar" in entry["reason"] and entry["event_type"] == "PetitionReceived"
    with c.database("intake").sessions() as s:
        assert sorted(h.state for h in s.query(INTAKE_RUNTIME.held)) == ["held", "parked"]  # the later event waits behind
    run(consumer())  # a restart changes nothing: the case still waits
    assert handler.handled == [str(well.received.event_id)]

    book = DeadLetterBook(c.log, c.topics)
    assert [e.entry_id for e in book.entries() if not e.decision] == [entry["entry_id"]]
    handler.fixed = True
    book.decide(entry["entry_id"], action, "ops-1")
    with pytest.raises(LookupError):
        book.decide(entry["entry_id"], action, "ops-1")  # decided once
    run(consumer())
    expected = [str(sick.received.event_id)] if action == "retry" else []
    assert handler.handled == [str(well.received.event_id), *expected, str(later.event_id)]
    with c.database("intake").sessions() as s:
        assert s.query(INTAKE_RUNTIME.held).count() == 0
    run(consumer())  # the decision is not applied twice
    assert len(handler.handled) == 2 + len(expected)


def _official():  # type: ignore[no-untyped-def]
    from tests.unit.test_obligations import OFFICIAL
    return OFFICIAL


def test_the_monitor_parks_a_far_future_callback_and_keeps_every_other_case(container: Container, calendar) -> None:
    """A callback promised for 2206 (a typo for 2026) once stopped the monitor for good, on every restart."""
    c = container
    sick, well = Case(municipality="yeonje-gu"), Case(municipality="yeonje-gu")
    typo = sick.event(ev.CallbackPromised(callback_id="cb1", requested_at=kst(2206, 11, 3, 10)), kst(2026, 11, 2, 11))
    after = sick.event(ev.OfficialAssigned(official=_official()), kst(2026, 11, 2, 12))
    for e in (sick.received, typo, after, well.received):
        c.log.append(c.topics.petition_events, e.case_id, encode(e))

    def monitor() -> MonitorLoop:
        return MonitorLoop(c.log, c.topics, DeadLetters(c.log, c.topics.dead_letter, "sla_monitor"), calendar,
                           c.charters, lambda: kst(2026, 11, 2, 13), sessions=c.database("sla_monitor").sessions)

    for _ in range(2):  # restored from the log twice: the poison is parked, never a crash
        m = monitor()
        m.restore()
        m.step([])
    parked = [e for e in entries(c) if e["service"] == "sla_monitor"]
    assert len({e["entry_id"] for e in parked}) == 1 and parked[0]["case_id"] == sick.case_id
    assert "CalendarRangeError" in parked[0]["reason"]
    opened = {(d.case_id, d.payload.obligation_id) for d in map(decode, (r.value for r in read_all(
        c.log, c.topics.sla_events)[0])) if d.event_type == "ObligationOpened"}
    assert (well.case_id, "statutory_deadline") in opened
    DeadLetterBook(c.log, c.topics).decide(parked[0]["entry_id"], "skip", "ops-1")
    m = monitor()
    m.restore()
    m.consumer.run(poll_timeout=0.2, until_caught_up=True)  # the decision arrives; the held event is applied
    with c.database("sla_monitor").sessions() as s:
        assert s.query(SLA_RUNTIME.held).filter_by(consumer="sla_monitor").count() == 0
    assert m.book.accepts(after) is False  # applied


def test_notify_parks_a_notice_it_cannot_render_and_tells_every_other_case(container: Container) -> None:
    c = container
    case_id, events = petition(c, channels=("inbox",))
    typo = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=2, occurred_at=kst(2026, 11, 3, 10),
                    recorded_at=kst(2026, 11, 3, 10), producer="intake", charter=events[0].charter,
                    payload=ev.ProcessingExtended(period="7d", reason="협의",
                                                  expected_completion="9999-12-31T23:59:59-12:00"))
    other_id, others = petition(c, channels=("inbox",))
    for e in (events[0], typo, events[3]):
        c.log.append(c.topics.petition_events, case_id, encode(e))
    c.log.append(c.topics.petition_events, other_id, encode(others[0]))
    from services.notify.channels.inbox import InboxChannel

    t = c.topics
    wiring.notify_worker(c, channels={"inbox": InboxChannel(c.database("notify").sessions, c.clock)},
                         policy=RetryPolicy(2, 0.01)).run(poll_timeout=0.2, until_caught_up=True)
    sent = [decode(r.value) for r in read_all(c.log, t.notice_events)[0]]
    assert {(e.case_id, e.payload.kind) for e in sent if e.event_type == "NoticeSent"} == {
        (case_id, "receipt"), (other_id, "receipt")}  # the completion waits behind the parked extension
    [entry] = [e for e in entries(c) if e["service"] == "notify"]
    assert entry["case_id"] == case_id and entry["event_type"] == "ProcessingExtended"
