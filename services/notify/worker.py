"""The notify worker: petition, SLA and compensation events in; notices out, once each; outcomes on the log.

Two halves, so that a kill can never lose a notice nor send one twice but for the one in flight:

1. **Decide** (on the consumer runtime, one transaction per batch with the positions): store the
   case's facts, fold the case *as it was at the event* (petition events up to the event's case
   version, never later ones), decide the notices owed (``shared.notices``) and record each as a
   pending delivery, its id derived from the cause. An SLA or compensation event whose petition
   facts have not been read yet (its topic ran ahead) waits, durably, until they have.
2. **Deliver** (after the commit, and at start): each pending delivery is sent and settled on its
   own: the delivery's status and a NoticeSent / NoticeFailed in the outbox commit right after the
   provider answers. A kill repeats at most the sends in flight, with the same reference (the
   notice id). Each case's notices go out in the order they were decided.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from services.notify.channels.port import Channel, Message
from services.notify.delivery import Outcome, RetryPolicy, deliver
from services.notify.failures import failure
from services.notify.metrics import NoticeMetrics
from services.notify.schema import RUNTIME, OutboxRow
from services.notify.store.orm import (
    InboxMessageRow,
    NoticeDeliveryRow,
    NotifyCaseEventRow,
)
from services.platform.consumer import Consumer, ConsumerMetrics, Wait
from services.platform.log.deadletter import DeadLetters, Decision
from services.platform.log.port import EventLog, Record
from services.platform.logs import get_logger
from services.platform.outbox.publisher import Outbox
from shared.charters import CharterBook
from shared.events import Envelope, EventDecodeError, decode, encode
from shared.events import notice as nv
from shared.events import petition as ev
from shared.notices import sms
from shared.notices.decide import NoticeCase, Order, as_of, observe, owed
from shared.notices.render import Renderer
from shared.phones import kind_of
from shared.sealing import (
    Erased,
    KeySource,
    OneCase,
    ScopedKeySource,
    Sealed,
    seal,
    unseal,
)
from shared.working_time import WorkingCalendar

NAME = "notify"
GROUP = "charterwatch.notify"  # where an older release committed its positions
PRODUCER = "notify"
CONTACT = {"sms": "phone", "email": "email"}
NO_CONTACT = {"sms": "no_phone", "email": "no_email"}  # the failure class when the applicant gave none
log = get_logger("notify")
Clock = Callable[[], datetime]
_queued = itertools.count()


def _queue_seq() -> int:
    """Orders pending deliveries as they were decided, across restarts (wall nanoseconds, then a counter)."""
    return time.time_ns() + next(_queued)


_BATCH = "notify_batch"
_PER_QUERY = 500


@dataclass
class _Batch:
    """What one batch's transaction read ahead and has added since, by case."""

    keyring: KeySource
    events: dict[str, list[tuple[str, Envelope]]] = field(default_factory=dict)
    notices: dict[str, set[str]] = field(default_factory=dict)
    keys: dict[str, OneCase] = field(default_factory=dict)


class NoticeDecider:
    """The handler: facts stored, the case folded as it was at the event, deliveries recorded as pending."""

    # Its effects are the session's (an erasure's removal of a channel's files is idempotent, and wanted
    # even if the batch runs again): a batch runs without a savepoint per event (the runtime's rerun with
    # them handles a refused one).
    optimistic = True

    def __init__(self, keyring: KeySource, charters: CharterBook, calendar: WorkingCalendar, renderer: Renderer,
                 clock: Clock, forget: Callable[[list[str]], None] = lambda notice_ids: None) -> None:
        self._keyring = keyring
        self._forget = forget  # removes what a channel kept of these notices outside the database (files)
        self._charters = charters
        self._calendar = calendar
        self._renderer = renderer
        self._clock = clock

    def prefetch(self, session: Session, case_ids: set[str]) -> None:
        """The batch's cases' stored events and decided notices, read in a few queries before its events."""
        ids = sorted(case_ids)
        batch = session.info[_BATCH] = _Batch(
            keyring=self._keyring.scoped(ids) if isinstance(self._keyring, ScopedKeySource) else self._keyring)
        for i in range(0, len(ids), _PER_QUERY):
            chunk = ids[i:i + _PER_QUERY]
            for case_id in chunk:
                batch.events[case_id] = []
                batch.notices[case_id] = set()
            unreadable: set[str] = set()
            for case_id, event_id, text in session.execute(
                    select(NotifyCaseEventRow.case_id, NotifyCaseEventRow.event_id, NotifyCaseEventRow.envelope)
                    .where(NotifyCaseEventRow.case_id.in_(chunk)).order_by(NotifyCaseEventRow.seq)):
                try:
                    batch.events[case_id].append((event_id, decode(text.encode())))
                except EventDecodeError:  # read again in ``handle``: refused there, that case alone is parked
                    unreadable.add(case_id)
            for case_id in unreadable:
                del batch.events[case_id]
            for case_id, notice_id in session.execute(
                    select(NoticeDeliveryRow.case_id, NoticeDeliveryRow.notice_id)
                    .where(NoticeDeliveryRow.case_id.in_(chunk))):
                batch.notices[case_id].add(notice_id)

    def handle(self, session: Session, env: Envelope, raw: bytes) -> Wait | None:
        stored = self._stored(session, env.case_id)
        if any(event_id == str(env.event_id) for event_id, _ in stored):
            return None  # redelivered (or published twice by a relay): decided before
        petition_version = max((e.case_version for _, e in stored if e.producer == "intake"), default=0)
        is_fact = env.producer == "intake"
        if not is_fact and (petition_version == 0 or petition_version < env.case_version):
            return Wait(f"petition facts up to version {env.case_version} not read yet")
        session.add(NotifyCaseEventRow(case_id=env.case_id, event_id=str(env.event_id), envelope=raw.decode()))
        before = [e for _, e in stored]
        stored.append((str(env.event_id), env))  # the batch's copy (a fresh list when read in a savepoint)
        if isinstance(env.payload, ev.PersonalDataErased):
            self._erase(session, env.case_id)
            return None
        case = self._as_at(before, env)
        if case is None:
            return None
        for order in owed(case, env, self._calendar):
            self._pending(session, case, order)
        return None

    @staticmethod
    def _batch(session: Session) -> _Batch | None:
        """What the batch read ahead; not trusted inside a savepoint (the runtime's careful rerun), whose
        rollback would leave it holding rows the database no longer has."""
        return None if session.in_nested_transaction() else session.info.get(_BATCH)

    def _stored(self, session: Session, case_id: str) -> list[tuple[str, Envelope]]:
        """The case's events read before (event id, envelope), in the order read."""
        batch = self._batch(session)
        if batch is not None and case_id in batch.events:
            return batch.events[case_id]
        stored = [(event_id, decode(text.encode())) for event_id, text in session.execute(
            select(NotifyCaseEventRow.event_id, NotifyCaseEventRow.envelope)
            .where(NotifyCaseEventRow.case_id == case_id).order_by(NotifyCaseEventRow.seq))]
        if batch is not None:
            batch.events[case_id] = stored
        return stored

    def _decided(self, session: Session, case_id: str, notice_id: str) -> bool:
        batch = self._batch(session)
        if batch is None:
            return session.get(NoticeDeliveryRow, notice_id) is not None
        if case_id not in batch.notices:
            batch.notices[case_id] = set(session.execute(
                select(NoticeDeliveryRow.notice_id).where(NoticeDeliveryRow.case_id == case_id)).scalars())
        return notice_id in batch.notices[case_id]

    def _keys(self, session: Session, case_id: str) -> OneCase:
        """The case's key from the vault once per batch (once per event inside a savepoint), not per field.
        A key erased while the batch runs may still seal its pending notices: the deliverer reads the keys
        again after the commit, finds it erased, and sends nothing."""
        batch = self._batch(session)
        if batch is None:
            return OneCase(self._keyring, case_id)
        if case_id not in batch.keys:
            batch.keys[case_id] = OneCase(batch.keyring, case_id)
        return batch.keys[case_id]

    def _as_at(self, stored: list[Envelope], env: Envelope) -> NoticeCase | None:
        """The case as it stood when ``env`` happened: petition facts up to its case version and the
        derived events read before it; never a later fact (a redelivered receipt must not be judged as
        if the formal receipt that followed it had already happened)."""
        case: NoticeCase | None = None
        for e in stored:
            if e.producer == "intake" and e.case_version > env.case_version:
                continue
            case = observe(case, e, self._charters)
        return observe(case, env, self._charters)

    def _erase(self, session: Session, case_id: str) -> None:
        """The case's personal data was erased: what notify kept that names the applicant goes (the inbox
        messages, the files a channel wrote); the delivery records stay, their sealed copies emptied;
        nothing more is sent."""
        session.execute(delete(InboxMessageRow).where(InboxMessageRow.case_id == case_id))
        rows = list(session.execute(select(NoticeDeliveryRow).where(NoticeDeliveryRow.case_id == case_id)).scalars())
        for row in rows:
            row.message_sealed, row.contact_sealed = {}, None
            if row.status == "pending":
                row.status = "erased"
        self._forget([row.notice_id for row in rows])
        log.info("personal_data_erased", case_id=case_id, notices=len(rows))

    def _pending(self, session: Session, case: NoticeCase, order: Order) -> None:
        if case.state.personal_data_erased or self._decided(session, case.state.case_id, order.notice_id):
            return
        now = self._clock()
        # Rendered now only to check the context renders and to name the template; the text sent is rendered
        # when it is sent, its figures as of then (``shared.notices.decide.as_of``).
        rendered = self._renderer.render(order.kind, as_of(order.context, self._calendar, now))
        keys = self._keys(session, case.state.case_id)
        try:
            contact = self._contact(keys, case, order.channel)
            message = seal(keys, {"kind": order.kind, "context": order.context,
                                  "applicant_ref": case.state.applicant_ref,
                                  "agency_id": case.agency_id}, case.state.case_id).model_dump()
            sealed_contact = seal(keys, contact, case.state.case_id).model_dump() if contact else None
        except Erased:  # erased before its erasure fact reached notify: nothing to send it with
            return
        session.add(NoticeDeliveryRow(
            notice_id=order.notice_id, case_id=case.state.case_id, kind=order.kind, channel=order.channel,
            cause_event_id=order.cause_event_id, template_id=rendered.template_id,
            template_version=rendered.template_version, content_sha256=rendered.sha256,
            message_sealed=message, contact_sealed=sealed_contact,
            status="pending", attempts=0, queued_seq=_queue_seq(), created_at=now, updated_at=now))
        batch = self._batch(session)
        if batch is not None and case.state.case_id in batch.notices:
            batch.notices[case.state.case_id].add(order.notice_id)

    @staticmethod
    def _contact(keys: KeySource, case: NoticeCase, channel: str) -> str | None:
        field = CONTACT.get(channel)
        if field is None:
            return None
        applicant: dict[str, Any] = unseal(keys, case.applicant, case.state.case_id)
        return applicant.get(field)


class Deliverer:
    """Sends pending deliveries, each settled as soon as its provider answers."""

    def __init__(self, sessions: sessionmaker, keyring: KeySource, channels: dict[str, Channel], outbox: Outbox,
                 dead_letters: DeadLetters, notice_topic: str, clock: Clock, policy: RetryPolicy,
                 renderer: Renderer, calendar: WorkingCalendar,
                 concurrency: int = 1, before_settle: Callable[[str], None] = lambda notice_id: None,
                 metrics: NoticeMetrics | None = None) -> None:
        self._sessions = sessions
        self.metrics = metrics or NoticeMetrics()
        self._renderer = renderer
        self._calendar = calendar
        self._keyring = keyring
        self._channels = channels
        self._outbox = outbox
        self._dead = dead_letters
        self._notice_topic = notice_topic
        self._clock = clock
        self._policy = policy
        self._concurrency = concurrency
        self._before_settle = before_settle  # tests kill the process here: sent, not yet settled
        self.sent = 0
        # a worker sends the deliveries of the cases whose partitions it holds (its consumer's): another
        # worker of the group sends the rest, so no notice goes out twice from two workers
        self.owns: Callable[[str], bool] = lambda case_id: True

    def deliver_pending(self) -> int:
        """Every pending delivery, then the outbox published. Returns how many were sent."""
        with self._sessions() as session:
            rows = list(session.execute(select(NoticeDeliveryRow).where(NoticeDeliveryRow.status == "pending")
                                        .order_by(NoticeDeliveryRow.queued_seq, NoticeDeliveryRow.created_at,
                                                  NoticeDeliveryRow.notice_id)).scalars())
        rows = [row for row in rows if self.owns(row.case_id)]
        keyring = self._keyring
        if isinstance(keyring, ScopedKeySource):  # every pending case's key in a few queries, not one each
            keyring = keyring.scoped({row.case_id for row in rows})
        messages = []
        for row in rows:
            try:
                messages.append(self._message(row, keyring))
            except Erased:  # its key destroyed since it was decided: never sent
                self._mark_erased(row.notice_id)
        sent = asyncio.run(self._send_all(messages)) if messages else 0
        self._outbox.publish()
        return sent

    def _mark_erased(self, notice_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(NoticeDeliveryRow, notice_id, with_for_update=True)
            if row is not None and row.status == "pending":
                row.status, row.message_sealed, row.contact_sealed = "erased", {}, None

    def _message(self, row: NoticeDeliveryRow, keyring: KeySource) -> Message:
        if not row.message_sealed:
            raise Erased(row.case_id)
        keys = OneCase(keyring, row.case_id)
        body = unseal(keys, Sealed.model_validate(row.message_sealed), row.case_id)
        to = unseal(keys, Sealed.model_validate(row.contact_sealed), row.case_id) if row.contact_sealed else None
        at: datetime | None = None
        if "context" in body:  # rendered now: its figures as of the sending instant
            at = self._clock()
            rendered = self._renderer.render(body["kind"], as_of(body["context"], self._calendar, at))
            subject, text = rendered.subject, rendered.text
        else:  # decided by an older release, rendered then
            subject, text = body["subject"], body["text"]
        return Message(row.notice_id, row.channel, to, subject, text, row.case_id, row.kind,
                       body.get("applicant_ref", ""), body.get("agency_id", ""), figures_as_of=at)

    async def _send_all(self, messages: list[Message]) -> int:
        """Cases in parallel (bounded), each case's notices in order: a receipt never arrives after the completion."""
        gate = asyncio.Semaphore(self._concurrency)
        by_case: dict[str, list[Message]] = {}
        for m in messages:
            by_case.setdefault(m.case_id, []).append(m)
        sent = 0

        async def one(message: Message) -> Outcome:
            if message.channel in CONTACT and not message.to:
                return Outcome(False, 0, failure=failure(NO_CONTACT[message.channel]))
            if message.channel == "sms" and kind_of(message.to) not in (None, "mobile"):
                # a landline given as the contact: unreachable by SMS, like no phone (not parked for an operator)
                return Outcome(False, 0, failure=failure("no_mobile"))
            channel = self._channels.get(message.channel)
            if channel is None:
                return Outcome(False, 0, failure=failure("no_channel"))
            return await deliver(channel, message, self._policy)

        settling: asyncio.Queue[tuple[Message, Outcome, asyncio.Future[None]]] = asyncio.Queue()

        async def case(queue: list[Message]) -> None:
            nonlocal sent
            async with gate:
                for m in queue:
                    outcome = await one(m)
                    self._before_settle(m.notice_id)
                    settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    await settling.put((m, outcome, settled))
                    await settled  # the case's next notice goes out once this one is on record
                    sent += int(outcome.sent)

        async def settler() -> None:
            """Group commit: every outcome that arrived while the last transaction ran, settled in one."""
            while True:
                batch = [await settling.get()]
                while not settling.empty():
                    batch.append(settling.get_nowait())
                try:
                    await asyncio.to_thread(self._settle_many, [(m, o) for m, o, _ in batch])
                except Exception as exc:  # the database: every waiting case hears it, as it would alone
                    for _, _, settled in batch:
                        if not settled.done():
                            settled.set_exception(exc)
                    continue
                for _, _, settled in batch:
                    if not settled.done():
                        settled.set_result(None)

        settling_task = asyncio.create_task(settler())
        cases = [asyncio.create_task(case(q)) for q in by_case.values()]
        try:
            await asyncio.gather(*cases)
        finally:
            for task in cases:  # one case failed (a channel crashed): the others stop before the channels close
                task.cancel()
            await asyncio.gather(*cases, return_exceptions=True)
            settling_task.cancel()
            for channel in self._channels.values():
                close = getattr(channel, "aclose", None)  # connections kept open for this batch (SMTP)
                if close is not None:
                    await close()
        return sent

    def _settle_many(self, outcomes: list[tuple[Message, Outcome]]) -> None:
        """Each delivery's outcome on its row and its NoticeSent or NoticeFailed in the outbox, all in one
        transaction; then the metrics, logs and dead-letter entries of those it settled."""
        now = self._clock()
        settled: list[tuple[Message, Outcome, Envelope]] = []
        with self._sessions.begin() as session:
            ids = [m.notice_id for m, _ in outcomes]
            rows = {r.notice_id: r for r in session.execute(
                select(NoticeDeliveryRow).where(NoticeDeliveryRow.notice_id.in_(ids)).with_for_update()).scalars()}
            for message, outcome in outcomes:
                row = rows.get(message.notice_id)
                assert row is not None
                if row.status != "pending":
                    continue  # another worker settled it
                settled.append((message, outcome, self._settle_row(session, row, message, outcome, now)))
        for message, outcome, env in settled:
            self._told(message, outcome, env)

    def _settle_row(self, session: Session, row: NoticeDeliveryRow, message: Message, outcome: Outcome,
                    now: datetime) -> Envelope:
        notice_id = message.notice_id
        first = row.attempts == 0  # a notice sent again after an operator's retry settles under a new id
        row.attempts += outcome.attempts
        row.updated_at = now
        lms = message.channel == "sms" and sms.plan(message.text).message_type == "LMS"
        base = dict(notice_id=notice_id, kind=row.kind, channel="lms" if lms else row.channel,
                    cause_event_id=row.cause_event_id, template_id=row.template_id,
                    template_version=row.template_version, attempts=max(1, outcome.attempts))
        if outcome.sent:
            row.status, row.provider_reference = "sent", outcome.provider_reference
            if message.figures_as_of is not None:  # what was sent, as rendered for sending
                row.content_sha256 = hashlib.sha256(message.text.encode("utf-8")).hexdigest()
            payload: Any = nv.NoticeSent(content_sha256=row.content_sha256,
                                         provider_reference=outcome.provider_reference,
                                         figures_as_of=message.figures_as_of, **base)
        else:
            f = outcome.failure
            assert f is not None  # deliver() and one() classify every failure
            row.status = "unreachable" if outcome.attempts == 0 else "failed"
            # the classified failure only: the provider's text may echo the contact (docs/notify.md)
            row.last_error, row.error_class, row.error_provider = f.description, f.error_class, f.provider
            row.error_code, row.error_retryable = f.code, f.retryable
            payload = nv.NoticeFailed(reason=f.description, error_class=f.error_class, provider=f.provider,
                                      code=f.code, retryable=f.retryable, failed_at=now, **base)
        env = Envelope(event_id=uuid.uuid5(uuid.UUID(notice_id), "outcome" if first else f"outcome|{row.attempts}"),
                       case_id=row.case_id, occurred_at=now,
                       recorded_at=now, producer=PRODUCER, payload=payload)
        session.add(OutboxRow(event_id=str(env.event_id), case_id=row.case_id,
                              value=encode(env), published=False, created_at=now))
        return env

    def _told(self, message: Message, outcome: Outcome, env: Envelope) -> None:
        """After the commit: the settlement in the metrics and the log, a given-up notice parked."""
        notice_id = message.notice_id
        # The notice id, kind, channel and the classified failure: never the body, the contact, nor the
        # provider's text (which may echo the contact).
        f = outcome.failure
        provider = f.provider if f is not None else getattr(self._channels.get(message.channel), "provider", "unknown")
        status = "sent" if outcome.sent else ("unreachable" if outcome.attempts == 0 else "failed")  # as the row
        self.sent += int(outcome.sent)
        self.metrics.settled(message.channel, provider, status, outcome.attempts)
        log.info("notice_sent" if outcome.sent else "notice_failed", case_id=message.case_id, notice_id=notice_id,
                 kind=message.kind, channel=message.channel, attempts=outcome.attempts,
                 **({} if outcome.sent or f is None else {"error_class": f.error_class, "provider": f.provider,
                                                          "code": f.code, "retryable": f.retryable,
                                                          "reason": f.description}))
        if not outcome.sent and outcome.attempts > 0:  # refused or given up on: an operator reads why, may retry
            self._dead.park(Record(self._notice_topic, -1, -1, message.case_id, encode(env), 0),
                            outcome.reason(), entry_id=given_up_entry(notice_id), case_id=message.case_id)


def given_up_entry(notice_id: str) -> str:
    """The dead-letter entry of a notice given up on: one per notice, found again from the decision."""
    return str(uuid.uuid5(uuid.UUID(notice_id), "given-up"))


def on_decision(session: Session, d: Decision) -> None:
    """``retry`` on a given-up notice sends it again (the same notice id: the same reference);
    ``skip`` leaves it failed."""
    if d.action != "retry":
        return
    for row in session.execute(select(NoticeDeliveryRow).where(NoticeDeliveryRow.case_id == d.case_id,
                                                               NoticeDeliveryRow.status == "failed")).scalars():
        if given_up_entry(row.notice_id) == d.entry_id:
            row.status = "pending"
            log.info("notice_retried", case_id=d.case_id, notice_id=row.notice_id)


class NotifyWorker:
    """Decide on the consumer runtime, deliver after each commit: one supervised loop."""

    def __init__(self, event_log: EventLog, topics: list[str], notice_topic: str, sessions: sessionmaker,
                 keyring: KeySource, charters: CharterBook, calendar: WorkingCalendar, renderer: Renderer,
                 channels: dict[str, Channel], outbox: Outbox, dead_letters: DeadLetters, clock: Clock,
                 policy: RetryPolicy = RetryPolicy(), concurrency: int = 1, group: str = GROUP,
                 decisions_topic: str | None = None, metrics: ConsumerMetrics | None = None,
                 before_settle: Callable[[str], None] = lambda notice_id: None,
                 forget: Callable[[list[str]], None] = lambda notice_ids: None,
                 notice_metrics: NoticeMetrics | None = None) -> None:
        self.decider = NoticeDecider(keyring, charters, calendar, renderer, clock, forget)
        self.deliverer = Deliverer(sessions, keyring, channels, outbox, dead_letters, notice_topic, clock, policy,
                                   renderer, calendar, concurrency, before_settle, notice_metrics)
        self.consumer = Consumer(NAME, event_log, topics, sessions, RUNTIME, self.decider, dead_letters.topic,
                                 decisions_topic, clock, after_commit=self.deliverer.deliver_pending,
                                 metrics=metrics, seed_from_group=group, on_decision=on_decision)
        self.deliverer.owns = self.consumer.owns_case

    @property
    def sent(self) -> int:
        return self.deliverer.sent

    def step(self, records: list[Record], positions: dict[str, dict[int, int]] | None = None) -> int:
        before = self.deliverer.sent
        self.consumer.step(records, positions or {})
        return self.deliverer.sent - before

    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False) -> None:
        self.consumer.run(poll_timeout, until_caught_up)

    def stop(self) -> None:
        self.consumer.stop()
