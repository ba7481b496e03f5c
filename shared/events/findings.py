"""Payloads of the findings topic: each strike against an official, re-keyed by the official.

A confirmed discourtesy (D11, Y4) is a strike against the official of the agency handling the case.
Strikes count across the agency's cases, so they cannot follow the case key: compensation publishes
each one (and each withdrawal) keyed ``agency/official`` (the envelope's ``case_id`` is that key),
and its strike counter, partitioned by official, counts them and raises the personnel-action
referral (``PersonnelActionReferred``, on the compensation topic, keyed by the case). The envelope
carries the finding's charter and case version, so the referral is the one the case's ledger
would have decided.
"""
from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.registry import event


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Strike(_Payload):
    strike_event_id: str = Field(description="the finding's event id: the strike's id, once however often delivered")
    agency_id: str = Field(description="the agency whose official it is (the one handling the case then)")
    official_id: str
    case_id: str = Field(description="the case the finding was made in")


@event("StrikeRecorded", 1)
class StrikeRecorded(_Strike):
    """A confirmed discourtesy counts as a strike against the agency's official."""

    confirmed_at: AwareDatetime


@event("StrikeWithdrawn", 1)
class StrikeWithdrawn(_Strike):
    """The finding was withdrawn: the strike stays, marked, and no longer counts."""

    withdrawn_at: AwareDatetime
    by_event_id: str = Field(description="the FindingWithdrawn event")
