"""Intake's command handlers: fold the case, check the rules, append exactly one event.

Plain functions over the rules they use (``Rules``) and a session the caller owns: the caller
(the HTTP layer) commits, so the idempotency record, the case-stream row (the
version claim) and the event queued in intake's outbox commit together or not
at all. Nothing touches the log inside the transaction: the outbox relay
publishes after commit, in per-case order.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake.schema import OutboxRow
from services.intake.store.orm import StreamEventRow
from services.platform.http.problems import CommandRejected
from shared.bounds import OutOfBounds, check_fact, in_calendar, latest_completion
from shared.charters import CharterBook, NoCharterInForce
from shared.charters.model import Charter
from shared.deadline import Deadline, DeadlineInputError
from shared.events import Envelope, decode, encode
from shared.events.envelope import CharterRef, chain_hash
from shared.events.petition import Channel, NoticeChannel, PetitionReceived
from shared.periods import PetitionType, UnknownPetitionKind
from shared.petition_case import CaseState, RuleViolation, apply, check, fold, period_of
from shared.petition_clock import case_deadlines, statutory_deadline
from shared.sealing import KeySource, seal
from shared.working_time import CalendarRangeError, WorkingCalendar

CLOCK_SKEW = timedelta(minutes=5)  # a caller's clock may run slightly ahead of ours


@dataclass(frozen=True)
class Rules:
    """What a command handler uses, and nothing else: the clock, the law's calendar, the charters,
    and the keys that seal and pseudonymise the applicant."""

    clock: Callable[[], datetime]
    calendar: WorkingCalendar
    charters: CharterBook
    keyring: KeySource
    applicant_ref_key: bytes


@dataclass(frozen=True)
class Applicant:
    """민원인 (applicant): personal data, sealed before it leaves this module."""

    name: str
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True)
class FilePetition:
    agency_id: str
    municipality_id: str
    petition_type: PetitionType
    petition_kind: str | None
    channel: Channel
    title: str
    body: str
    received_at: datetime
    applicant: Applicant
    notice_channels: tuple[NoticeChannel, ...]
    electronic_consent: bool
    # chosen before the command's transaction, so the case's data key can be made first (in the vault,
    # its own database): the applicant is sealed under it
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Recorded:
    envelope: Envelope
    state: CaseState
    deadline: Deadline | None


def applicant_ref(key: bytes, applicant: Applicant, case_id: str) -> str:
    """The applicant's reference (their homepage inbox, and how duplicates are found): a keyed hash of
    name and contact, the same across cases without storing who they are. Without a phone or an
    e-mail two citizens of the same name cannot be told apart, so such an applicant is never merged
    with anyone: the reference is the case's own."""
    contact = re.sub(r"\D", "", applicant.phone or "") or (applicant.email or "").strip().lower()
    ident = f"{applicant.name.strip()}|{contact}" if contact else f"case|{case_id}"
    return hmac.new(key, ident.encode(), hashlib.sha256).hexdigest()[:32]


_CHANNEL_NEEDS = {NoticeChannel.SMS: "phone", NoticeChannel.EMAIL: "email", NoticeChannel.POST: "address"}


def _check_reachable(cmd: FilePetition) -> None:
    for i, channel in enumerate(cmd.notice_channels):
        needed = _CHANNEL_NEEDS.get(channel)
        if needed and not getattr(cmd.applicant, needed):
            raise CommandRejected(f"notice_channels[{i}]", f"{channel.value} needs applicant.{needed}")


def _check_instant(c: Rules, at: datetime, field: str, not_before: datetime | None = None) -> datetime:
    try:
        at = in_calendar(c.calendar, at, field)
    except OutOfBounds as exc:
        raise CommandRejected(exc.field, exc.message) from exc
    if at > c.clock() + CLOCK_SKEW:
        raise CommandRejected(field, "is in the future")
    if not_before is not None and at < not_before:
        raise CommandRejected(field, f"is before the petition arrived ({not_before.isoformat()})")
    return at


def _latest_completion(state: CaseState, payload: BaseModel, charter: Charter | None,
                       calendar: WorkingCalendar) -> datetime | None:
    """What bounds an expected completion date: the deadline with every extension Decree 21 still allows
    (for an extension, counting itself). Unknown while a pause is open or before the clock starts."""
    if state.open_pause is not None or state.received_at is None or state.petition_type is None:
        return None
    period = period_of(state, dict(charter.statutory_periods) if charter else {})
    return latest_completion(state.received_at, period, state.pauses, state.extensions, calendar)


def load_case(session: Session, case_id: str) -> tuple[CaseState, CharterRef | None, str | None]:
    """The case folded from its stream, the charter version it was received under, and the hash
    of its last event (the next event's ``prev_hash``)."""
    raws = [r.encode() for r in session.execute(
        select(StreamEventRow.envelope).where(StreamEventRow.case_id == case_id).order_by(StreamEventRow.version)
    ).scalars()]
    events = [decode(r) for r in raws]
    return fold(case_id, events), (events[0].charter if events else None), (chain_hash(raws[-1]) if raws else None)


PRODUCER = "intake"


def _commit_event(session: Session, env: Envelope) -> None:
    """Claim the case version and queue the event in the outbox, in the caller's transaction.
    A lost race on the version is a 409, with nothing queued."""
    raw = encode(env)
    session.add(StreamEventRow(case_id=env.case_id, version=env.case_version, event_id=str(env.event_id),
                               envelope=raw.decode()))
    try:
        session.flush()
    except IntegrityError as exc:
        raise CommandRejected("case_id", "the case changed concurrently; read it again and retry", 409,
                              rule="concurrent-change") from exc
    session.add(OutboxRow(event_id=str(env.event_id), case_id=env.case_id, value=raw,
                          published=False, created_at=env.recorded_at))


def file_petition(session: Session, cmd: FilePetition, c: Rules) -> Recorded:
    _check_reachable(cmd)
    received_at = _check_instant(c, cmd.received_at, "received_at")
    try:
        charter = c.charters.in_force(cmd.municipality_id, received_at)
    except NoCharterInForce as exc:
        raise CommandRejected("municipality_id", str(exc).split(": ", 1)[-1]) from exc
    try:
        deadline = statutory_deadline(c.calendar, charter, cmd.petition_type, cmd.petition_kind, received_at)
    except UnknownPetitionKind as exc:
        raise CommandRejected("petition_kind", str(exc).split(": ", 1)[-1]) from exc
    except CalendarRangeError as exc:
        raise CommandRejected("received_at", str(exc)) from exc
    case_id = cmd.case_id
    personal = {k: v for k, v in vars(cmd.applicant).items() if v is not None}
    payload = PetitionReceived(
        municipality_id=cmd.municipality_id, agency_id=cmd.agency_id, petition_type=cmd.petition_type,
        petition_kind=cmd.petition_kind, channel=cmd.channel, title=cmd.title, body=cmd.body,
        applicant=seal(c.keyring, personal, case_id), applicant_ref=applicant_ref(c.applicant_ref_key, cmd.applicant, case_id),
        notice_channels=cmd.notice_channels, electronic_consent=cmd.electronic_consent,
    )
    env = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=1, occurred_at=received_at,
                   recorded_at=c.clock(), producer="intake", payload=payload,
                   charter=CharterRef(charter.id, charter.version))
    _commit_event(session, env)
    state = apply(CaseState(case_id), env)
    # An electronic petition's clock starts at formal receipt; until then this is the earliest possible deadline.
    return Recorded(env, state, deadline)


def record_fact(session: Session, c: Rules, case_id: str, payload: BaseModel, occurred_at: datetime,
                agency_id: str, if_match: int | None) -> Recorded:
    """Record one fact on an existing case, under the rules of shared.petition_case."""
    state, charter_ref, head = load_case(session, case_id)
    if not state.exists or not state.can_be_seen_by(agency_id):
        raise CommandRejected("case_id", f"no petition {case_id}", 404)  # another agency's case does not exist for you
    if if_match is not None and if_match != state.version:
        raise CommandRejected("If-Match", f"the case is at version {state.version}, not {if_match}", 412,
                              rule="stale-version")
    at = _check_instant(c, occurred_at, "occurred_at", not_before=state.arrived_at)
    charter = c.charters.get(charter_ref.charter_id, charter_ref.version) if charter_ref else None
    try:
        check(state, payload, at)
    except RuleViolation as exc:
        raise CommandRejected("case_id", exc.message, 409, rule=exc.rule) from exc
    try:
        check_fact(payload, at, state.arrived_at, c.calendar, _latest_completion(state, payload, charter, c.calendar))
    except OutOfBounds as exc:
        raise CommandRejected(exc.field, exc.message) from exc
    env = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=state.version + 1, occurred_at=at,
                   recorded_at=c.clock(), producer="intake", payload=payload, charter=charter_ref, prev_hash=head)
    new_state = apply(state, env)
    try:
        deadlines = case_deadlines(new_state, charter, c.calendar)
    except DeadlineInputError as exc:
        raise CommandRejected(exc.field, exc.message, 409, rule="Decree 21" if "xtension" in exc.field else None) from exc
    _commit_event(session, env)
    return Recorded(env, new_state, deadlines.statutory if deadlines else None)
