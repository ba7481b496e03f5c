"""Intake's command handlers: validate against the rules, build the event, append it.

Plain functions over the container's ports; the HTTP layer only translates.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.bootstrap import Container
from services.eventlog.port import Position
from shared.charters import NoCharterInForce
from shared.deadline import Deadline
from shared.events import Envelope, encode
from shared.events.envelope import CharterRef
from shared.events.petition import Channel, NoticeChannel, PetitionReceived
from shared.instants import to_kst
from shared.periods import PetitionType, UnknownPetitionKind
from shared.petition_clock import statutory_deadline
from shared.sealing import seal
from shared.working_time import CalendarRangeError

CLOCK_SKEW = timedelta(minutes=5)  # a caller's clock may run slightly ahead of ours


class CommandRejected(ValueError):
    """The command breaks a rule: ``field`` is what the caller must fix."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


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


@dataclass(frozen=True)
class Filed:
    envelope: Envelope
    deadline: Deadline
    position: Position


def applicant_ref(key: bytes, applicant: Applicant) -> str:
    """A keyed hash identifying the same applicant across cases without storing who they are."""
    contact = re.sub(r"\D", "", applicant.phone or "") or (applicant.email or "").strip().lower()
    ident = f"{applicant.name.strip()}|{contact}"
    return hmac.new(key, ident.encode(), hashlib.sha256).hexdigest()[:32]


_CHANNEL_NEEDS = {NoticeChannel.SMS: "phone", NoticeChannel.EMAIL: "email", NoticeChannel.POST: "address"}


def _check_reachable(cmd: FilePetition) -> None:
    for i, channel in enumerate(cmd.notice_channels):
        needed = _CHANNEL_NEEDS.get(channel)
        if needed and not getattr(cmd.applicant, needed):
            raise CommandRejected(f"notice_channels[{i}]", f"{channel.value} needs applicant.{needed}")


def file_petition(cmd: FilePetition, c: Container) -> Filed:
    now = c.clock()
    _check_reachable(cmd)
    received_at = to_kst(cmd.received_at, "received_at")
    if received_at > now + CLOCK_SKEW:
        raise CommandRejected("received_at", "is in the future")
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
    case_id = str(uuid.uuid4())
    personal = {k: v for k, v in vars(cmd.applicant).items() if v is not None}
    payload = PetitionReceived(
        municipality_id=cmd.municipality_id,
        agency_id=cmd.agency_id,
        petition_type=cmd.petition_type,
        petition_kind=cmd.petition_kind,
        channel=cmd.channel,
        title=cmd.title,
        body=cmd.body,
        applicant=seal(c.keyring, personal, case_id),
        applicant_ref=applicant_ref(c.applicant_ref_key, cmd.applicant),
        notice_channels=cmd.notice_channels,
        electronic_consent=cmd.electronic_consent,
    )
    envelope = Envelope(
        event_id=uuid.uuid4(),
        case_id=case_id,
        occurred_at=received_at,
        recorded_at=now,
        producer="intake",
        payload=payload,
        charter=CharterRef(charter.id, charter.version),
    )
    position = c.log.append(c.topics.petition_events, case_id, encode(envelope))
    return Filed(envelope, deadline, position)
