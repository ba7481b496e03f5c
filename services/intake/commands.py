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
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake.schema import OutboxRow
from services.intake.store.orm import (
    CaseNumberRow,
    CaseNumberSequenceRow,
    StreamEventRow,
)
from services.platform.http.problems import CommandRejected
from shared.bounds import OutOfBounds, check_fact, in_calendar, latest_completion
from shared.charters import CharterBook, NoCharterInForce
from shared.charters.model import Charter
from shared.deadline import Deadline, DeadlineInputError, due_epoch
from shared.events import Envelope, decode, encode
from shared.events.envelope import CharterRef, chain_hash
from shared.events.petition import (
    ELECTRONIC_CHANNELS,
    RECEIPT_NUMBER_PATTERN,
    Channel,
    NoticeChannel,
    PetitionReceived,
    ReceiptRecorded,
)
from shared.instants import KST, to_kst
from shared.notices.channels import Contacts, default_channels
from shared.obligations import FORMAL_RECEIPT
from shared.periods import PetitionType, UnknownPetitionKind
from shared.petition_case import CaseState, RuleViolation, apply, check, fold, period_of
from shared.petition_clock import case_deadlines, statutory_deadline
from shared.phones import domestic, kind_of
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
    """민원인 (applicant): personal data, sealed before it leaves this module. ``phone`` in E.164 (+8210...)."""

    name: str
    phone: str | None
    email: str | None
    address: str | None

    @property
    def contacts(self) -> Contacts:
        return Contacts(mobile=kind_of(self.phone) == "mobile", email=bool(self.email), address=bool(self.address))


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
    notice_channels: tuple[NoticeChannel, ...] | None  # None: the integrator named none (the default applies)
    electronic_consent: bool
    receipt_number: str | None = None  # the agency's own 접수번호, when its system gave one
    # chosen before the command's transaction, so the case's data key can be made first (in the vault,
    # its own database): the applicant is sealed under it
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Notices:
    """How the petitioner will be told: the channels stored on the case, who chose them, and what could
    not be done (an SMS to a landline)."""

    channels: tuple[str, ...]
    chosen_by: str  # "integrator" | "default" (the charter's promised channels with a contact)
    warnings: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Recorded:
    envelope: Envelope
    state: CaseState
    deadline: Deadline | None
    notices: Notices | None = None  # a filing's answer only


def applicant_ref(key: bytes, applicant: Applicant, case_id: str) -> str:
    """The applicant's reference (their homepage inbox, and how duplicates are found): a keyed hash of
    name and contact, the same across cases without storing who they are. Without a phone or an
    e-mail two citizens of the same name cannot be told apart, so such an applicant is never merged
    with anyone: the reference is the case's own."""
    # the number's digits as dialled in Korea: the same reference whether it came as 010-..., +82 10 ... or E.164
    contact = re.sub(r"\D", "", domestic(applicant.phone or "")) or (applicant.email or "").strip().lower()
    ident = f"{applicant.name.strip()}|{contact}" if contact else f"case|{case_id}"
    return hmac.new(key, ident.encode(), hashlib.sha256).hexdigest()[:32]


_CHANNEL_NEEDS = {NoticeChannel.SMS: "phone", NoticeChannel.EMAIL: "email", NoticeChannel.POST: "address"}


def _check_reachable(cmd: FilePetition) -> None:
    for i, channel in enumerate(cmd.notice_channels or ()):
        needed = _CHANNEL_NEEDS.get(channel)
        if needed and not getattr(cmd.applicant, needed):
            raise CommandRejected(f"notice_channels[{i}]", f"{channel.value} needs applicant.{needed}")


def choose_channels(cmd: FilePetition, charter: Charter) -> Notices:
    """The channels the case is noticed on. Named by the integrator: those, less an SMS the number cannot
    take (a landline: said in a warning), and the default if nothing is left; named by nobody (omitted or
    null): the charter's promised channels for which a contact exists (``default_channels``)."""
    contacts = cmd.applicant.contacts
    if cmd.notice_channels is None:
        return Notices(default_channels(charter, contacts), "default")
    warnings: list[dict[str, str]] = []
    chosen: list[str] = []
    for channel in cmd.notice_channels:
        if channel is NoticeChannel.SMS and not contacts.mobile:
            warnings.append({"field": "notice_channels", "code": "sms_impossible",
                             "message": f"no SMS: applicant.phone is a {kind_of(cmd.applicant.phone) or 'number'}, "
                                        "not a mobile number; SMS goes to mobiles only"})
            continue
        if channel.value not in chosen:
            chosen.append(channel.value)
    if not chosen and cmd.notice_channels:  # every channel named was impossible: the petitioner is still told
        fallback = default_channels(charter, contacts)
        warnings.append({"field": "notice_channels", "code": "default_channels",
                         "message": f"none of the channels named can be used; the default is: {', '.join(fallback)}"})
        return Notices(fallback, "default", tuple(warnings))
    if not chosen:
        warnings.append({"field": "notice_channels", "code": "no_channels",
                         "message": "notice_channels is empty: the applicant is told of nothing (omit it for the "
                                    "charter's channels)"})
    return Notices(tuple(chosen), "integrator", tuple(warnings))


def next_case_number(session: Session, municipality_id: str, received_at: datetime, case_id: str) -> str:
    """The case's number: ``<municipality>-<year of receipt in KST>-<sequence, six digits or more>``, the
    sequence per (municipality, year) claimed in the caller's transaction by one upsert (the year's first
    filing inserts the row, later ones increment it), which holds the row (PostgreSQL) or the database's
    write lock (SQLite) until the command commits, so a racing filing waits and takes the next value; a
    rolled-back command gives its value back (no gaps). The number is recorded under unique constraints as a last guard."""
    return next_case_numbers(session, [(municipality_id, received_at, case_id)])[0]


def next_case_numbers(session: Session, cases: list[tuple[str, datetime, str]]) -> list[str]:
    """Numbers for many new cases (municipality, received at, case id) in their order: one block of each
    (municipality, year) sequence claimed by one increment, recorded by one insert."""
    seq = CaseNumberSequenceRow
    years = [to_kst(received_at).year for _, received_at, _ in cases]
    wanted: dict[tuple[str, int], int] = {}
    for (municipality_id, _, _), year in zip(cases, years):
        wanted[(municipality_id, year)] = wanted.get((municipality_id, year), 0) + 1
    dialect = session.get_bind().dialect.name
    next_value: dict[tuple[str, int], int] = {}
    for (municipality_id, year), count in wanted.items():
        if dialect in ("postgresql", "sqlite"):
            # one statement: the first of the year inserts the row, every later one increments it
            upsert = (postgresql.insert(seq) if dialect == "postgresql" else sqlite.insert(seq)).values(
                municipality_id=municipality_id, year=year, last_value=count)
            last = session.execute(upsert.on_conflict_do_update(
                index_elements=[seq.municipality_id, seq.year], set_={"last_value": seq.last_value + count})
                .returning(seq.last_value)).scalar_one()
        else:
            if session.get(seq, (municipality_id, year)) is None:
                with session.begin_nested():
                    session.execute(insert(seq).values(municipality_id=municipality_id, year=year, last_value=0))
            last = session.execute(update(seq).where(seq.municipality_id == municipality_id, seq.year == year)
                                   .values(last_value=seq.last_value + count).returning(seq.last_value)).scalar_one()
        next_value[(municipality_id, year)] = last - count + 1
    rows = []
    for (municipality_id, _, case_id), year in zip(cases, years):
        value = next_value[(municipality_id, year)]
        next_value[(municipality_id, year)] = value + 1
        rows.append({"case_number": f"{municipality_id}-{year}-{value:06d}", "case_id": case_id,
                     "municipality_id": municipality_id, "year": year, "sequence": value})
    session.execute(insert(CaseNumberRow), rows)
    return [row["case_number"] for row in rows]


def formal_receipt_due(c: "Rules", arrived_at: datetime) -> datetime:
    """When an electronic petition must be formally received: 8 working hours after it arrived (Decree 6-7)."""
    return datetime.fromtimestamp(due_epoch(c.calendar, int(arrived_at.timestamp()), FORMAL_RECEIPT), KST)


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
    # Core inserts: the ORM's unit of work cost more than the rest of the command (profile, issue 21)
    try:
        session.execute(insert(StreamEventRow), {"case_id": env.case_id, "version": env.case_version,
                                                 "event_id": str(env.event_id), "envelope": raw.decode()})
    except IntegrityError as exc:
        raise CommandRejected("case_id", "the case changed concurrently; read it again and retry", 409,
                              rule="concurrent-change") from exc
    session.execute(insert(OutboxRow), {"event_id": str(env.event_id), "case_id": env.case_id, "value": raw,
                                        "published": False, "created_at": env.recorded_at})


@dataclass(frozen=True)
class PreparedFiling:
    """A filing checked and its event's payload built, all but the case number: no transaction needed yet."""

    cmd: FilePetition
    received_at: datetime
    charter: Charter
    deadline: Deadline
    notices: Notices
    payload: PetitionReceived  # case_number still empty


def prepare_filing(cmd: FilePetition, c: Rules) -> PreparedFiling:
    """Every check of a filing and the sealing of its applicant, before the transaction: on SQLite the
    transaction holds the database's one write lock, so only the writes are done while holding it.
    The case's data key must exist (``Intake.prepare_case_key``)."""
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
    notices = choose_channels(cmd, charter)
    case_id = cmd.case_id
    personal = {k: v for k, v in vars(cmd.applicant).items() if v is not None}
    payload = PetitionReceived(
        municipality_id=cmd.municipality_id, agency_id=cmd.agency_id, petition_type=cmd.petition_type,
        petition_kind=cmd.petition_kind, channel=cmd.channel, title=cmd.title, body=cmd.body,
        applicant=seal(c.keyring, personal, case_id), applicant_ref=applicant_ref(c.applicant_ref_key, cmd.applicant, case_id),
        notice_channels=tuple(NoticeChannel(ch) for ch in notices.channels), electronic_consent=cmd.electronic_consent,
        receipt_number=cmd.receipt_number,
    )
    return PreparedFiling(cmd, received_at, charter, deadline, notices, payload)


def commit_filing(session: Session, p: PreparedFiling, c: Rules) -> Recorded:
    """The filing's writes in the caller's transaction: its case number, the case stream and the outbox."""
    cmd = p.cmd
    payload = p.payload.model_copy(update={
        "case_number": next_case_number(session, cmd.municipality_id, p.received_at, cmd.case_id)})
    env = Envelope(event_id=uuid.uuid4(), case_id=cmd.case_id, case_version=1, occurred_at=p.received_at,
                   recorded_at=c.clock(), producer="intake", payload=payload,
                   charter=CharterRef(p.charter.id, p.charter.version))
    _commit_event(session, env)
    state = apply(CaseState(cmd.case_id), env)
    # An electronic petition's clock starts at formal receipt: until then it has no deadline (the answer and
    # every read say so alike), only the instant by which it must be formally received.
    return Recorded(env, state, None if cmd.channel in ELECTRONIC_CHANNELS else p.deadline, p.notices)


def commit_filings(session: Session, filings: list[PreparedFiling], c: Rules) -> list[Recorded]:
    """Many filings' writes in the caller's transaction, batched: one block of case numbers per
    (municipality, year) and one multi-row insert each into the case streams and the outbox. New cases
    cannot race on a version; a key or id collision raises IntegrityError for the caller to retry one by one."""
    numbers = next_case_numbers(session, [(p.cmd.municipality_id, p.received_at, p.cmd.case_id) for p in filings])
    out: list[Recorded] = []
    for p, number in zip(filings, numbers):
        env = Envelope(event_id=uuid.uuid4(), case_id=p.cmd.case_id, case_version=1, occurred_at=p.received_at,
                       recorded_at=c.clock(), producer="intake", payload=p.payload.model_copy(update={"case_number": number}),
                       charter=CharterRef(p.charter.id, p.charter.version))
        state = apply(CaseState(p.cmd.case_id), env)
        out.append(Recorded(env, state, None if p.cmd.channel in ELECTRONIC_CHANNELS else p.deadline, p.notices))
    if out:
        raws = [encode(r.envelope) for r in out]
        session.execute(insert(StreamEventRow), [
            {"case_id": r.envelope.case_id, "version": 1, "event_id": str(r.envelope.event_id), "envelope": raw.decode()}
            for r, raw in zip(out, raws)])
        session.execute(insert(OutboxRow), [
            {"event_id": str(r.envelope.event_id), "case_id": r.envelope.case_id, "value": raw, "published": False,
             "created_at": r.envelope.recorded_at} for r, raw in zip(out, raws)])
    return out


def file_petition(session: Session, cmd: FilePetition, c: Rules) -> Recorded:
    return commit_filing(session, prepare_filing(cmd, c), c)


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
    if isinstance(payload, ReceiptRecorded) and payload.receipt_number is not None \
            and not re.match(RECEIPT_NUMBER_PATTERN, payload.receipt_number):
        raise CommandRejected("receipt_number", "is not a receipt number: a letter, digit or Hangul, then at most 39 "
                                                "of those or . _ : / ( ) -")
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
