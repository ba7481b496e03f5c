"""Live and replay agree under any clock schedule (issue 17 part 2).

Random cases (pauses, extensions with their notices, interim notices, completion; facts recorded late)
are driven through both monitor runtimes, the embedded loop on the log and the faust runtime's handler
(in process, its snapshot table in memory), under random clock schedules: one jump to each fact, small
steps with the timers fired between, a monitor clock behind the recorder's, and restarts while deadlines
fall due. Both must emit the same decisions, and the audit replay must re-derive exactly those.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.audit.replay import CaseLog, replay_decisions
from services.platform.log.deadletter import DeadLetters
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.topics import Topics
from services.sla_monitor import agents
from services.sla_monitor.runner import MonitorLoop, read_all
from services.sla_monitor.tables import PARTITIONS
from shared.charters import CharterBook
from shared.events import Envelope, decode, encode
from shared.events import notice as nv
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.instants import KST
from shared.notices.render import Renderer
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar

CHARTERS = CharterBook.bundled()
OFFICIAL = ev.Official(official_id="o-1", name="박주무관", department="도로과", phone="041-350-1234", email="p@x.kr")
KINDS = [("dangjin", "grievance", ["3d", "7d"]), ("yeonje-gu", "other", ["2h", "3h"]),
         ("dangjin", "question_statute", ["7d", "14d"]), ("yeonje-gu", "suggestion", ["5d", "14d"])]
EXAMPLES = int(os.environ.get("CHARTERWATCH_PROPERTY_EXAMPLES", "100"))


@dataclass
class Fact:
    env: Envelope
    topic: str  # "petition" or "notice"


@dataclass
class Script:
    facts: list[Fact] = field(default_factory=list)
    end: datetime | None = None


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


gaps = st.one_of(st.integers(0, 0).map(lambda _: timedelta(0)), st.integers(1, 600).map(lambda m: timedelta(minutes=m)),
                 st.integers(1, 72).map(lambda h: timedelta(hours=h)), st.integers(1, 25).map(lambda d: timedelta(days=d)))


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    """One or two cases, their facts recorded in time order (causes before the notices answering them)."""
    script = Script()
    pending: list[Fact] = []
    for _ in range(draw(st.integers(1, 2))):
        municipality, petition_type, extensions = draw(st.sampled_from(KINDS))
        at = datetime(2027, 1, 4, tzinfo=KST) + timedelta(days=draw(st.integers(0, 150)),
                                                           minutes=draw(st.integers(0, 24 * 60 - 1)))
        charter = CHARTERS.in_force(municipality, at)
        case_id, version = str(uuid.uuid4()), 0
        occurred = at

        def event(payload: object, recorded: datetime, late: timedelta = timedelta(0)) -> Envelope:
            nonlocal version, occurred
            version += 1
            occurred = max(occurred, recorded - late)
            return Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=version, occurred_at=occurred,
                            recorded_at=recorded, producer="intake", payload=payload,
                            charter=CharterRef(charter.id, charter.version))

        def notice(kind: str, cause: Envelope, recorded: datetime) -> Fact:
            nid = str(uuid.uuid5(cause.event_id, kind))
            return Fact(Envelope(event_id=uuid.uuid4(), case_id=case_id, occurred_at=recorded, recorded_at=recorded,
                                 producer="notify", payload=nv.NoticeSent(
                                     notice_id=nid, kind=kind, channel="sms", cause_event_id=str(cause.event_id),
                                     template_id=kind, template_version="1", content_sha256="0" * 64, attempts=1)),
                        "notice")

        facts = [Fact(event(ev.PetitionReceived(
            municipality_id=municipality, agency_id="a", petition_type=petition_type, channel="visit", title="t",
            applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="), applicant_ref="r" * 32), at), "petition")]
        now, paused, extended = at, False, 0
        for _ in range(draw(st.integers(0, 7))):
            now += draw(gaps)
            late = draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(hours=2), timedelta(days=2)]))
            action = draw(st.sampled_from(["assign", "pause", "extend", "interim", "resolve"]))
            if action == "assign":
                facts.append(Fact(event(ev.OfficialAssigned(official=OFFICIAL), now, late), "petition"))
            elif action == "pause":
                payload = ev.SupplementReceived() if paused else ev.SupplementRequested(items="사진")
                facts.append(Fact(event(payload, now, late), "petition"))
                paused = not paused
            elif action == "extend" and extended < 2 and not paused:
                extended += 1
                fact = event(ev.ProcessingExtended(period=draw(st.sampled_from(extensions)), reason="협의",
                                                   expected_completion=now + timedelta(days=20),
                                                   petitioner_consent=extended == 2), now, late)
                facts.append(Fact(fact, "petition"))
                if draw(st.booleans()):  # notify answers it: at once (a frozen drill clock) or later
                    pending.append(notice("extension", fact, now + draw(st.sampled_from(
                        [timedelta(0), timedelta(minutes=1), timedelta(hours=5)]))))
            elif action == "interim" and now - at >= timedelta(days=25):
                facts.append(notice("interim", facts[0].env, now))
            elif action == "resolve" and not paused:
                facts.append(Fact(event(ev.PetitionResolved(outcome="accepted", explanation="처리"), now, late),
                                  "petition"))
                break
        script.facts += facts
    script.facts += pending
    order = {id(f): i for i, f in enumerate(script.facts)}
    # Causes before their notices at one instant (a stable sort keeps the order they were written in).
    script.facts.sort(key=lambda f: (f.env.recorded_at, f.topic == "notice", order[id(f)]))
    last = script.facts[-1].env.recorded_at
    script.end = last + draw(st.sampled_from([timedelta(0), timedelta(days=3), timedelta(days=70)]))
    return script


@st.composite
def schedules(draw: st.DrawFn, script: Script) -> list[tuple]:
    """How the monitor's clock moves and when it restarts: ("tick", instant), ("fact", i, monitor now),
    ("restart",)."""
    ops: list[tuple] = []
    now = script.facts[0].env.recorded_at - timedelta(minutes=1)
    # The order facts reach the monitor: each case's in the order recorded, the cases interleaved at
    # random (two partitions read at their own pace).
    order = list(range(len(script.facts)))
    if draw(st.booleans()):
        queues: dict[str, list[int]] = {}
        for i in order:
            queues.setdefault(script.facts[i].env.case_id, []).append(i)
        order = []
        while any(queues.values()):
            case = draw(st.sampled_from([k for k, q in queues.items() if q]))  # in order of first fact
            order.append(queues[case].pop(0))

    def watermark(k: int) -> datetime:
        """The clock may move past a fact only once it has been read (the runtimes fire when caught up)."""
        unread = [script.facts[j].env.recorded_at for j in order[k:]]
        return min(unread) if unread else datetime.max.replace(tzinfo=KST)

    for k, i in enumerate(order):
        fact = script.facts[i]
        at = fact.env.recorded_at
        style = draw(st.sampled_from(["jump", "steps", "behind", "restart"]))
        limit = min(at, watermark(k))
        if style == "steps" and limit > now:
            for _ in range(draw(st.integers(1, 4))):
                now = now + (limit - now) * draw(st.floats(0.05, 0.9))
                ops.append(("tick", now))
        if style == "restart":
            now = max(now, limit)
            ops.append(("tick", now))
            ops.append(("restart",))
        lag = timedelta(minutes=draw(st.integers(1, 120))) if style == "behind" else timedelta(0)
        now = max(now, min(limit, at - lag))  # a monitor whose clock is behind the recorder's
        ops.append(("fact", i, now))
        if draw(st.booleans()):
            now = max(now, min(at, watermark(k + 1)))
            ops.append(("tick", now))
    assert script.end is not None
    ops.append(("tick", max(now, script.end)))
    return ops


class DictTable(dict):
    """The faust snapshot table, in memory (faust writes its changelog only inside a running app)."""

    @property
    def data(self) -> dict:
        return self


class InProcessFaust(agents.FaustMonitor):
    """The faust runtime's handler and timer, without a broker: what it emits is collected."""

    def __init__(self, calendar: WorkingCalendar, clock: Clock, table: DictTable, out: list[Envelope]) -> None:
        import faust

        app = faust.App(f"prop-{uuid.uuid4().hex[:8]}", broker="memory://", store="memory://")
        with mock.patch.object(agents, "case_snapshots", lambda app: table):
            super().__init__(app, Topics(""), calendar, CHARTERS, clock)
        self.assigned = set(range(PARTITIONS))
        self.out = out

    async def emit(self, events: list[Envelope]) -> None:
        self.out.extend(events)

    async def flush(self) -> None:
        pass  # emitted in place


def run_embedded(tmp: Path, script: Script, ops: list[tuple], calendar: WorkingCalendar) -> list[Envelope]:
    log = EmbeddedLog(tmp / f"{uuid.uuid4().hex}.db")
    topics = Topics("")
    log.create_topics(topics.specs())
    clock = Clock(script.facts[0].env.recorded_at)

    def start() -> MonitorLoop:
        loop = MonitorLoop(log, topics, DeadLetters(log, topics.dead_letter, "sla"), calendar, CHARTERS, clock)
        loop.restore()
        return loop

    loop = start()
    try:
        for op in ops:
            if op[0] == "tick":
                clock.now = max(clock.now, op[1])
                loop.tick()
            elif op[0] == "restart":
                loop = start()
            else:
                fact = script.facts[op[1]]
                clock.now = max(clock.now, op[2])
                topic = topics.petition_events if fact.topic == "petition" else topics.notice_events
                log.append(topic, fact.env.case_id, encode(fact.env))
                loop.consumer.run(poll_timeout=0.01, until_caught_up=True)
        return [decode(r.value) for r in read_all(log, topics.sla_events)[0]]
    finally:
        log.close()


def run_faust(script: Script, ops: list[tuple], calendar: WorkingCalendar) -> list[Envelope]:
    table, out = DictTable(), []
    clock = Clock(script.facts[0].env.recorded_at)
    monitor = InProcessFaust(calendar, clock, table, out)

    async def drive() -> None:
        nonlocal monitor
        for op in ops:
            if op[0] == "tick":
                clock.now = max(clock.now, op[1])
                await monitor.tick()
            elif op[0] == "restart":
                monitor = InProcessFaust(calendar, clock, table, out)
                monitor.rebuild()
            else:
                clock.now = max(clock.now, op[2])
                await monitor.observe(script.facts[op[1]].env)

    asyncio.run(drive())
    return out


def decisions(events: list[Envelope]) -> dict[str, str]:
    """By event id, the decision as recorded (when it was written aside). A redelivered decision (a
    restart between emitting and marking it) is the same decision; the same id with other content is not."""
    out: dict[str, dict] = {}
    for e in events:
        wire = {**e.to_dict(), "recorded_at": None}
        first = out.setdefault(str(e.event_id), wire)
        assert first == wire, (f"{e.event_type} {e.event_id} emitted twice, differently: "
                               f"{ {k: (first.get(k), wire.get(k)) for k in wire if first.get(k) != wire.get(k)} }")
    return out


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_both_runtimes_and_the_replay_agree_under_any_clock_schedule(tmp_path: Path, calendar: WorkingCalendar,
                                                                     data: st.DataObject) -> None:
    script = data.draw(scripts())
    ops = data.draw(schedules(script))
    embedded = run_embedded(tmp_path, script, ops, calendar)
    faust_out = run_faust(script, ops, calendar)
    assert decisions(embedded) == decisions(faust_out)
    assert script.end is not None
    for case_id in {f.env.case_id for f in script.facts}:
        case = CaseLog(case_id, petition=[f.env for f in script.facts if f.topic == "petition" and
                                          f.env.case_id == case_id],
                       sla_wire=[encode(e) for e in embedded if e.case_id == case_id],
                       notices=[f.env for f in script.facts if f.topic == "notice" and f.env.case_id == case_id])
        report = replay_decisions(case, calendar, CHARTERS, Renderer(), now=script.end)
        assert report.undecided is None, report.undecided
        # the notices here are stand-ins (their texts are not rendered): the SLA decisions are compared
        assert [d for d in report.differences if d.kind == "sla"] == [], report.differences


@pytest.fixture
def calendar() -> WorkingCalendar:
    from services.bootstrap import load_calendar

    return load_calendar(None)
