"""Payloads of petition (민원) events: facts recorded through intake."""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.registry import event
from shared.periods import PetitionType
from shared.sealing import Sealed


class Channel(str, Enum):
    """How the petition reached the agency (D1)."""

    VISIT = "visit"
    PHONE = "phone"
    POST = "post"
    FAX = "fax"
    INTERNET = "internet"
    API = "api"


class NoticeChannel(str, Enum):
    SMS = "sms"
    EMAIL = "email"
    INBOX = "inbox"  # the municipality's homepage inbox
    POST = "post"


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@event("PetitionReceived", 1)
class PetitionReceived(Payload):
    """A petition was filed and received (접수); the statutory clock starts at occurred_at."""

    municipality_id: str = Field(min_length=1, max_length=64, description="charter id of the receiving municipality")
    agency_id: str = Field(min_length=1, max_length=64, description="the integrating agency that filed it")
    petition_type: PetitionType
    petition_kind: str | None = Field(default=None, max_length=120, description="statutory petitions: kind in the agency's table")
    channel: Channel
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20_000)
    applicant: Sealed = Field(description="applicant name, phone, e-mail and address, encrypted")
    applicant_ref: str = Field(min_length=16, max_length=64, description="keyed hash of the applicant, for duplicate detection")
    notice_channels: tuple[NoticeChannel, ...] = ()
    electronic_consent: bool = False
