"""Request and response bodies of the webhooks API."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.webhooks.api.examples import CHANGE, SUBSCRIPTION
from shared.events import registered
from shared.events.sla import ObligationKind
from shared.instants import to_kst
from shared.periods import PetitionType

MUNICIPALITY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def event_types() -> list[str]:
    return sorted({t for t, _ in registered()})


class Filters(BaseModel):
    """Optional: each narrows the events sent; an empty or absent list means any. ``municipality_id`` and
    ``petition_type`` may be given as one value instead of a list."""

    model_config = ConfigDict(extra="forbid")
    municipality_ids: list[str] | None = Field(default=None, max_length=50,
                                               description="the case's municipality (charter id), e.g. dangjin")
    petition_types: list[PetitionType] | None = Field(default=None, max_length=20)
    obligation_kinds: list[ObligationKind] | None = Field(default=None, max_length=20, description=(
        "obligation events (ObligationOpened, ...AtRisk, ...Breached, ...Discharged, ...Suspended) only of these "
        "kinds; other events are not filtered by it"))

    @model_validator(mode="before")
    @classmethod
    def _singular(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for one, many in (("municipality_id", "municipality_ids"), ("petition_type", "petition_types")):
                if one in data:
                    value = data.pop(one)
                    if many in data:
                        raise ValueError(f"{one}: give {one} or {many}, not both")
                    data[many] = None if value is None else [value]
        return data

    @field_validator("municipality_ids")
    @classmethod
    def _municipalities(cls, value: list[str] | None) -> list[str] | None:
        for m in value or ():
            if not MUNICIPALITY.fullmatch(m):
                raise ValueError(f"{m!r} is not a municipality id")
        return value


class _Events(BaseModel):
    @field_validator("event_types", check_fields=False)
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        known = set(event_types())
        unknown = [t for t in value if t not in known]
        if unknown:
            raise ValueError(f"not an event type: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if len(set(value)) != len(value):
            raise ValueError("an event type is listed twice")
        return value


class SubscriptionIn(_Events):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SUBSCRIPTION["breaches"]["value"]]})
    url: str = Field(min_length=8, max_length=2000, description="https (or http) URL the events are posted to")
    event_types: list[str] = Field(min_length=1, max_length=100, description="event types (docs/events), e.g. "
                                   "PetitionReceived, ObligationBreached")
    filters: Filters = Field(default_factory=Filters)
    description: str | None = Field(default=None, max_length=200)


class SubscriptionPatch(_Events):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CHANGE["narrow"]["value"]]})
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    filters: Filters | None = None
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = Field(default=None, description="false pauses it (deliveries wait); true enables it")


class _Out(BaseModel):
    """Instants answered in KST (+09:00), as every CharterWatch API answers them."""

    @field_validator("*", mode="after")
    @classmethod
    def _kst(cls, value: Any) -> Any:
        return to_kst(value) if isinstance(value, datetime) else value


class SecretOut(_Out):
    secret_id: str
    created_at: datetime
    expires_at: datetime | None = Field(description="null: the current secret; otherwise it signs until then")


class SubscriptionOut(_Out):
    webhook_id: str
    url: str
    event_types: list[str]
    filters: Filters
    description: str | None
    status: Literal["enabled", "disabled"]
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None = Field(description="the first failed attempt since the last success")
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime
    secrets: list[SecretOut]


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="whsec_...: shown once, never again; verify each delivery with it")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class NewSecret(_Out):
    secret_id: str
    secret: str = Field(description="whsec_...: shown once, never again")
    created_at: datetime
    previous_valid_until: datetime | None = Field(
        description="the secrets it replaces still sign (a second signature) until then")


class AttemptOut(_Out):
    model_config = ConfigDict(from_attributes=True)
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None = Field(description=(
        "null (delivered), http_4xx, http_5xx, redirect_not_followed, timeout, connect_error, tls_error, "
        "transport_error, target_refused, secret_unavailable, internal_error"))
    duration_ms: int


class DeliveryOut(_Out):
    model_config = ConfigDict(from_attributes=True)
    delivery_id: str
    event_id: str = Field(description="also the webhook-id header")
    event_type: str
    case_id: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    settled_at: datetime | None
    redelivery_of: str | None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class NoticeOut(_Out):
    model_config = ConfigDict(from_attributes=True)
    notice_id: str
    webhook_id: str
    kind: Literal["webhook_disabled"]
    at: datetime
    detail: str
