"""Workers of one service share partitions through a Kafka consumer group (real Kafka, real PostgreSQL).

Two members of one consumer, as threads of this process, split the partitions (the same numbers on
every topic) and each event is handled once; one member dies mid-batch without committing (its
handler raises, its Kafka client closes) and the other takes its partitions over from the positions
in the database, reloads the events its cases were waiting with, and finishes everything: every
event's effect exactly once, and a join across two topics completes though its two facts arrived on
different topics and the member that held the first one died.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from services.platform.consumer import Consumer, Wait
from services.platform.consumer_orm import consumer_tables
from services.platform.db.types import TYPE_MAP
from services.platform.log.kafka import KafkaLog
from services.platform.log.partitioner import partition_for
from services.platform.log.port import TopicSpec
from shared.events import Envelope, encode
from shared.events import petition as ev

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
PARTITIONS = 6


class Base(DeclarativeBase):
    type_annotation_map = TYPE_MAP


RUNTIME = consumer_tables(Base, "grouptest")


class Effect(Base):
    """One row per event a committed batch handled: counted to prove each event took effect once."""

    __tablename__ = "grouptest_effects"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    case_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    member: Mapped[str] = mapped_column(String(8))


class Died(BaseException):
    """The member's process dies here (not an event's fault: never parked, nothing committed)."""


class Recorder:
    """A 'join' event needs its case's 'fact' (read from the other topic) first; counts every call."""

    def __init__(self, member: str, calls: Counter[str]) -> None:
        self.member = member
        self.calls = calls
        self.dies = False

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        if self.dies:
            raise Died()
        kind = env.payload.reason  # type: ignore[attr-defined]
        if kind == "join" and session.scalar(select(func.count()).select_from(Effect).where(
                Effect.case_id == env.case_id, Effect.kind == "fact")) == 0:
            return Wait("the case's fact, from the other topic, is not read yet")
        self.calls[str(env.event_id)] += 1
        session.add(Effect(event_id=str(env.event_id), case_id=env.case_id, kind=kind, member=self.member))
        return None


def event(case_id: str, kind: str) -> Envelope:
    now = datetime(2026, 11, 2, 1, tzinfo=timezone.utc)
    return Envelope(event_id=uuid.uuid4(), case_id=case_id, occurred_at=now, recorded_at=now, producer="intake",
                    payload=ev.PersonalDataErased(reason=kind))


def wait_until(what: str, done: Callable[[], bool], failed: Callable[[], str | None] = lambda: None,
               limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while not done():
        problem = failed()
        if problem:
            pytest.fail(problem)
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.1)


@pytest.fixture
def database(postgres_url: str) -> Iterator[sessionmaker]:
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    name = f"cw_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name)
    Base.metadata.create_all(engine)
    yield sessionmaker(bind=engine)
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


class Worker:
    """One member: its own Kafka client and database connections, on a thread as a worker process would."""

    def __init__(self, name: str, bootstrap: str, topics: list[str], dead: str, group: str,
                 sessions: sessionmaker, calls: Counter[str]) -> None:
        self.log = KafkaLog(bootstrap, session_timeout_ms=6000)
        self.handler = Recorder(name, calls)
        self.consumer = Consumer("grouptest", self.log, topics, sessions, RUNTIME, self.handler, dead,
                                 group=group, batch=20)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.consumer.run(poll_timeout=0.2)
        except BaseException as exc:  # a death the test caused, or a failure it reports
            self.error = exc
        finally:
            self.log.close()

    def held(self) -> dict[str, set[int]]:
        member = self.consumer._member
        return {t: set(at) for t, at in member.positions().items()} if member is not None else {}

    def stop(self) -> None:
        self.consumer.stop()
        self.thread.join(30)


def test_two_workers_split_the_partitions_and_one_takes_over_when_the_other_dies(
        kafka_bootstrap: str, topic_prefix: str, database: sessionmaker) -> None:
    facts, joins, dead = (topic_prefix + name for name in ("facts", "joins", "dead-letter"))
    producer = KafkaLog(kafka_bootstrap)
    producer.create_topics([TopicSpec(facts, PARTITIONS, -1), TopicSpec(joins, PARTITIONS, -1), TopicSpec(dead, 1, -1)])
    calls: Counter[str] = Counter()
    group = topic_prefix + "charterwatch-grouptest"
    assert producer.partitions(facts) == producer.partitions(joins) == PARTITIONS
    a = Worker("a", kafka_bootstrap, [facts, joins], dead, group, database, calls)
    workers: tuple[Worker, ...] = (a,)

    def failure() -> str | None:
        return next((f"worker {w.thread.name} failed: {w.error!r}" for w in workers
                     if w.error is not None and not isinstance(w.error, Died)), None)

    def split() -> bool:
        held = [w.held() for w in workers]
        return all(h.get(facts) for h in held) and set().union(*(h[facts] for h in held)) == set(range(PARTITIONS))
    try:
        # the first member holds every partition; the second one's joining takes half of them from it
        wait_until("the first member holds every partition", lambda: a.held().get(facts) == set(range(PARTITIONS)),
                   failure)
        b = Worker("b", kafka_bootstrap, [facts, joins], dead, group, database, calls)
        workers = (a, b)
        wait_until("both members hold partitions", split, failure)
        held = {w.thread.name: w.held() for w in workers}
        for name, topics in held.items():  # the range assignor: one member, the same numbers on every topic
            assert topics[facts] == topics[joins], (name, topics)
        assert not held["a"][facts] & held["b"][facts]

        # 1. Both work: each event once, each member some of them, a join waits for its fact.
        first = [f"case-1-{i}" for i in range(40)]
        sent = _publish(producer, joins, first, "join") + _publish(producer, facts, first, "fact")
        wait_until("the first events handled", lambda: _effect_count(database) == len(sent), failure)
        assert all(calls[e] == 1 for e in sent), "an event was handled twice while the members split the work"
        by_member = _effects(database)
        assert by_member["a"] and by_member["b"]
        for case in first:  # the member holding the case's partition handled both of its topics' events
            owner = "a" if partition_for(case, PARTITIONS) in held["a"][facts] else "b"
            assert {m for m, cases in by_member.items() if case in cases} == {owner}

        # 2. The joins of new cases wait, held durably by whichever member holds each case...
        second = [f"case-2-{i}" for i in range(40)]
        joined = _publish(producer, joins, second, "join")
        wait_until("the new joins held", lambda: _waiting(database) == len(second), failure)
        of_a = [c for c in second if partition_for(c, PARTITIONS) in held["a"][facts]]
        assert of_a, "no case of the second batch is on the first member's partitions"
        # ...then the first member dies on its next event, mid-batch, before committing anything.
        a.handler.dies = True
        sent2 = _publish(producer, facts, second, "fact")
        a.thread.join(60)
        assert isinstance(a.error, Died)
        wait_until("the survivor holds every partition", lambda: b.held().get(facts) == set(range(PARTITIONS)), failure)
        wait_until("every event handled", lambda: _effect_count(database) == len(sent) + len(joined) + len(sent2),
                   failure)
        counted = Counter(_effect_ids(database))
        assert set(counted) == set(sent) | set(joined) | set(sent2)
        assert max(counted.values()) == 1, "an event took effect twice"
        assert _waiting(database) == 0
        assert {case for case in _effects(database)["b"]} >= set(of_a)  # the survivor finished the dead one's cases
    finally:
        for w in workers:
            w.stop()
        producer.close()


def _publish(log: KafkaLog, topic: str, cases: list[str], kind: str) -> list[str]:
    events = [event(case, kind) for case in cases]
    log.append_many(topic, [(e.case_id, encode(e)) for e in events])
    return [str(e.event_id) for e in events]


def _effects(sessions: sessionmaker) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"a": set(), "b": set()}
    with sessions() as s:
        for member, case in s.execute(select(Effect.member, Effect.case_id)):
            out[member].add(case)
    return out


def _effect_ids(sessions: sessionmaker) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(Effect.event_id)))


def _effect_count(sessions: sessionmaker) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Effect)) or 0)


def _waiting(sessions: sessionmaker) -> int:
    with sessions() as s:
        held = RUNTIME.held
        return int(s.scalar(select(func.count()).select_from(held).where(held.state == "waiting")) or 0)
