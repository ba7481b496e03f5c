"""Payloads of the SLA monitor's derived events: obligations opened, at risk, breached, discharged.

Each carries its proof (rule, charter and calendar versions, start, period, pauses,
extensions, working time counted) so an auditor can recompute it offline.
"""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.registry import event

ObligationKind = Literal[
    "statutory_deadline",  # Act 19 with the Decree's periods
    "charter_target",  # a charter's shorter internal target (Dangjin D4): a warning, never citizen-facing
    "formal_receipt",  # Decree 6-7: electronic petitions received within 8 working hours
    "interim_notice",  # Decree 23; Dangjin D5: every 30 days while open
    "extension_notice",  # Decree 21: the extension told to the petitioner before the original deadline
    "transfer",  # Decree 13: 1 / 3 / 8 working hours
    "callback",  # Yeonje-gu Y1
    "opinion_acknowledgement",  # Yeonje-gu Y2: expected answer date within 3 working hours
    "opinion_answer",  # Yeonje-gu Y2: 1 / 3 / 7 days by class
]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PauseProof(_Payload):
    start: AwareDatetime
    end: AwareDatetime | None
    reason: str


class Proof(_Payload):
    rule: str = Field(description="the article or charter promise the obligation comes from")
    promise_id: str | None = None
    started_at: AwareDatetime = Field(description="the instant the count started")
    period: str | None = Field(default=None, description="Nh / Nd, or a calendar interval for interim notices")
    counting: str = Field(description="working_time, working_days or calendar_days")
    pauses: tuple[PauseProof, ...] = ()
    extensions: tuple[str, ...] = ()
    working_seconds_counted: int | None = None
    calendar_version: str
    basis_event_id: str = Field(description="the petition event the obligation was derived after")


class _Obligation(_Payload):
    obligation_id: str = Field(description="stable within the case, e.g. statutory_deadline or callback:cb1")
    kind: ObligationKind
    due_at: AwareDatetime
    citizen_facing: bool


@event("ObligationOpened", 1)
class ObligationOpened(_Obligation):
    """An obligation now runs with this due instant (new, resumed after a pause, or moved by an extension)."""

    proof: Proof
    replaces_due_at: AwareDatetime | None = None


@event("ObligationAtRisk", 1)
class ObligationAtRisk(_Obligation):
    """The share of the time given by ``threshold`` has been used and the obligation is still open."""

    threshold: float


@event("ObligationBreached", 1)
class ObligationBreached(_Obligation):
    """Not discharged by its due instant. occurred_at is the due instant, even when detected later."""

    severity: Literal["breach", "warning"]
    proof: Proof


@event("ObligationDischarged", 1)
class ObligationDischarged(_Obligation):
    """Fulfilled by a petition event. ``voids_breach``: a backdated fact shows a breach already emitted was not one."""

    discharged_by_event_id: str
    on_time: bool
    voids_breach: bool = False


@event("ObligationSuspended", 1)
class ObligationSuspended(_Obligation):
    """A pause stopped the clock; the obligation reopens with a new due instant when it ends."""

    reason: str
    remaining_working_seconds: int | None = None
    remaining_working_days: int | None = None
