"""The notify worker: petition, SLA and compensation events in; notices out, once; outcomes on the log.

One thread reads the three topics, the petition topic first, so a case's facts are folded
before the events derived from them. Per batch:
1. one transaction: store the facts, decide the notices owed (``shared.notices``), record each
   as a pending delivery (id derived from the cause: a redelivered event finds it);
2. send every pending delivery (retries with the same reference, exponential backoff);
3. one transaction per outcome: the delivery's status and a NoticeSent / NoticeFailed in the
   outbox; a notice given up on is parked on the dead-letter topic with the reason;
4. publish the outbox, then commit the offsets.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.eventlog.deadletter import DeadLetters
from services.eventlog.port import EventLog, Record
from services.logs import get_logger
from services.notify.channels.port import Channel, Message
from services.notify.delivery import Outcome, RetryPolicy, deliver
from services.notify.store.orm import NoticeDeliveryRow, NotifyCaseEventRow
from services.outbox.orm import OutboxRow
from services.outbox.publisher import Outbox
from shared.charters import CharterBook
from shared.events import Envelope, decode, encode
from shared.events import notice as nv
from shared.notices import sms
from shared.notices.decide import NoticeCase, Order, observe, owed
from shared.notices.render import Renderer
from shared.sealing import Keyring, Sealed, seal, unseal
from shared.working_time import WorkingCalendar

if TYPE_CHECKING:
    from services.bootstrap import Container

GROUP = "charterwatch.notify"
PRODUCER = "notify"
CONTACT = {"sms": "phone", "email": "email"}
log = get_logger("notify")
Clock = Callable[[], datetime]


class NotifyWorker:
    def __init__(self, event_log: EventLog, topics: list[str], notice_topic: str, sessions: sessionmaker, keyring: Keyring, charters: CharterBook, calendar: WorkingCalendar,
                 renderer: Renderer, channels: dict[str, Channel], outbox: Outbox, dead_letters: DeadLetters,
                 clock: Clock, policy: RetryPolicy = RetryPolicy(), concurrency: int = 16, group: str = GROUP) -> None:
        self._log = event_log
        self._topics = topics
        self._notice_topic = notice_topic
        self._sessions = sessions
        self._keyring = keyring
        self._charters = charters
        self._calendar = calendar
        self._renderer = renderer
        self._channels = channels
        self._outbox = outbox
        self._dead = dead_letters
        self._clock = clock
        self._policy = policy
        self._concurrency = concurrency
        self._group = group
        self.stopping = threading.Event()
        self.sent = 0

    # -- one batch -------------------------------------------------------------
    def step(self, records: list[Record]) -> int:
        pending = self._decide(records)
        outcomes = asyncio.run(self._send_all(pending)) if pending else []
        for (row_id, message), outcome in zip(pending, outcomes, strict=True):
            self._settle(row_id, message, outcome)
        self._outbox.publish()
        return sum(1 for o in outcomes if o.sent)

    def _decide(self, records: list[Record]) -> list[tuple[str, Message]]:
        pending: list[tuple[str, Message]] = []
        with self._sessions.begin() as session:
            for _, env in self._dead.events(records):
                case = self._fold(session, env)
                if case is None:
                    continue  # not a case notify knows (its receipt was never seen): nothing to tell anyone
                for order in owed(case, env, self._calendar):
                    message = self._pending(session, case, env, order)
                    if message is not None:
                        pending.append((order.notice_id, message))
        return pending

    def _fold(self, session: Session, env: Envelope) -> NoticeCase | None:
        rows = session.execute(select(NotifyCaseEventRow.event_id, NotifyCaseEventRow.envelope)
                               .where(NotifyCaseEventRow.case_id == env.case_id).order_by(NotifyCaseEventRow.seq)).all()
        seen = {event_id for event_id, _ in rows}
        case: NoticeCase | None = None
        for _, raw in rows:
            case = observe(case, decode(raw.encode()), self._charters)
        if str(env.event_id) not in seen:
            session.add(NotifyCaseEventRow(case_id=env.case_id, event_id=str(env.event_id), envelope=encode(env).decode()))
            case = observe(case, env, self._charters)
        return case

    def _pending(self, session: Session, case: NoticeCase, env: Envelope, order: Order) -> Message | None:
        row = session.get(NoticeDeliveryRow, order.notice_id)
        if row is not None:
            if row.status != "pending":
                return None  # sent or given up already: a redelivered event sends nothing
            return self._message(case, row)  # a crash mid-send: resume with the same reference
        rendered = self._renderer.render(order.kind, order.context)
        contact = self._contact(case, order.channel)
        now = self._clock()
        row = NoticeDeliveryRow(
            notice_id=order.notice_id, case_id=case.state.case_id, kind=order.kind, channel=order.channel,
            cause_event_id=order.cause_event_id, template_id=rendered.template_id,
            template_version=rendered.template_version, content_sha256=rendered.sha256,
            message_sealed=seal(self._keyring, {"subject": rendered.subject, "text": rendered.text},
                                case.state.case_id).model_dump(),
            contact_sealed=seal(self._keyring, contact, case.state.case_id).model_dump() if contact else None,
            status="pending", attempts=0, created_at=now, updated_at=now)
        session.add(row)
        return self._message(case, row)

    def _contact(self, case: NoticeCase, channel: str) -> str | None:
        field = CONTACT.get(channel)
        if field is None:
            return None
        applicant: dict[str, Any] = unseal(self._keyring, case.applicant, case.state.case_id)
        return applicant.get(field)

    def _message(self, case: NoticeCase, row: NoticeDeliveryRow) -> Message:
        body = unseal(self._keyring, Sealed.model_validate(row.message_sealed), row.case_id)
        to = unseal(self._keyring, Sealed.model_validate(row.contact_sealed), row.case_id) if row.contact_sealed else None
        return Message(row.notice_id, row.channel, to, body["subject"], body["text"], row.case_id, row.kind,
                       case.state.applicant_ref, case.agency_id)

    async def _send_all(self, pending: list[tuple[str, Message]]) -> list[Outcome]:
        """Cases in parallel (bounded), each case's notices in order: a receipt never arrives after the completion."""
        gate = asyncio.Semaphore(self._concurrency)
        outcomes: list[Outcome | None] = [None] * len(pending)
        by_case: dict[str, list[int]] = {}
        for i, (_, m) in enumerate(pending):
            by_case.setdefault(m.case_id, []).append(i)

        async def one(message: Message) -> Outcome:
            if message.channel in CONTACT and not message.to:
                return Outcome(False, 0, reason=f"the applicant gave no {CONTACT[message.channel]}")
            channel = self._channels.get(message.channel)
            if channel is None:
                return Outcome(False, 0, reason=f"no {message.channel} channel configured")
            return await deliver(channel, message, self._policy)

        async def case(indexes: list[int]) -> None:
            async with gate:
                for i in indexes:
                    outcomes[i] = await one(pending[i][1])

        await asyncio.gather(*(case(ix) for ix in by_case.values()))
        return [o for o in outcomes if o is not None]

    def _settle(self, notice_id: str, message: Message, outcome: Outcome) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(NoticeDeliveryRow, notice_id, with_for_update=True)
            assert row is not None
            if row.status != "pending":
                return  # another worker settled it
            row.attempts += outcome.attempts
            row.updated_at = now
            lms = message.channel == "sms" and sms.plan(message.text).message_type == "LMS"
            base = dict(notice_id=notice_id, kind=row.kind, channel="lms" if lms else row.channel,
                        cause_event_id=row.cause_event_id, template_id=row.template_id,
                        template_version=row.template_version, attempts=max(1, outcome.attempts))
            if outcome.sent:
                row.status, row.provider_reference = "sent", outcome.provider_reference
                payload: Any = nv.NoticeSent(content_sha256=row.content_sha256,
                                             provider_reference=outcome.provider_reference, **base)
                self.sent += 1
            else:
                row.status = "unreachable" if outcome.attempts == 0 else "failed"
                row.last_error = outcome.reason
                payload = nv.NoticeFailed(reason=outcome.reason or "unknown", failed_at=now, **base)
            env = Envelope(event_id=uuid.uuid5(uuid.UUID(notice_id), "outcome"), case_id=row.case_id, occurred_at=now, recorded_at=now,
                           producer=PRODUCER, payload=payload)
            session.add(OutboxRow(event_id=str(env.event_id), producer=PRODUCER, case_id=row.case_id,
                                  value=encode(env), published=False))
        # Only the notice id, kind, channel and reason: never the body or the contact.
        log.info("notice_sent" if outcome.sent else "notice_failed", case_id=message.case_id, notice_id=notice_id,
                 kind=message.kind, channel=message.channel, attempts=outcome.attempts,
                 reason=None if outcome.sent else outcome.reason)
        if not outcome.sent and outcome.attempts > 0:  # given up on: an operator reads why
            self._dead.park(Record(self._notice_topic, -1, -1, message.case_id, encode(env), 0),
                            outcome.reason or "failed")

    # -- the loop --------------------------------------------------------------
    def run(self, poll_timeout: float = 0.5, until_caught_up: bool = False) -> None:
        self._outbox.publish()
        readers = [self._log.reader(t, self._log.committed(self._group, t)) for t in self._topics]
        ends = [self._log.end_offsets(t) for t in self._topics] if until_caught_up else None
        try:
            while not self.stopping.is_set():
                if ends is not None and all(all(r.positions().get(p, 0) >= e for p, e in end.items())
                                            for r, end in zip(readers, ends, strict=True)):
                    return
                busy = False
                for topic, reader in zip(self._topics, readers, strict=True):  # petition facts first
                    records = reader.poll(max_records=500, timeout=poll_timeout if topic == self._topics[0] else 0)
                    if records:
                        busy = True
                        self.step(records)
                        self._log.commit(self._group, topic, reader.positions())
                if not busy and ends is None:
                    self.stopping.wait(0.05)
        finally:
            for reader in readers:
                reader.close()

    def stop(self) -> None:
        self.stopping.set()


def channels_from(c: "Container") -> dict[str, Channel]:
    """Real providers when configured; otherwise files under the data directory (the embedded newcomer mode)."""
    from services.notify.channels.email import SmtpChannel
    from services.notify.channels.files import FileChannel
    from services.notify.channels.inbox import InboxChannel
    from services.notify.channels.sms import SmsGateway

    s = c.settings
    out: dict[str, Channel] = {"inbox": InboxChannel(c.sessions, c.clock)}
    if s.smtp_host:
        out["email"] = SmtpChannel(s.smtp_host, s.smtp_port, s.smtp_sender, s.smtp_starttls, s.smtp_username,
                                   s.smtp_password)
    else:
        out["email"] = FileChannel(s.data_dir / "outgoing" / "email")
        log.warning("channel_not_configured", channel="email", writes_to=str(s.data_dir / "outgoing" / "email"))
    if s.sms_gateway_url:
        out["sms"] = SmsGateway(s.sms_gateway_url, s.sms_api_key or "", s.sms_user_id, s.sms_sender)
    else:
        out["sms"] = FileChannel(s.data_dir / "outgoing" / "sms")
        log.warning("channel_not_configured", channel="sms", writes_to=str(s.data_dir / "outgoing" / "sms"))
    return out


def loops(c: "Container") -> list[NotifyWorker]:
    t = c.topics
    return [NotifyWorker(c.log, [t.petition_events, t.sla_events, t.compensation_events], t.notice_events,
                         c.sessions, c.keyring, c.charters, c.calendar, Renderer(), channels_from(c),
                         Outbox(c.log, t.notice_events, c.sessions, PRODUCER), c.dead_letters("notify"), c.clock,
                         RetryPolicy(c.settings.notify_attempts, c.settings.notify_retry_base_s))]
