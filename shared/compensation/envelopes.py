"""How compensation's decisions travel: one envelope each, its id derived from what caused it.

A redelivered cause re-derives the same ids, so the outbox (unique event ids) and the audit
(which matches decisions by id) both see one decision however often it was made.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.events import Envelope
from shared.events.envelope import CharterRef

PRODUCER = "compensation"
EVENT_NAMESPACE = uuid.UUID("3d2f8a61-97c4-4b1e-8f0a-6c5e4d3b2a19")


def event_id(key: str) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, key)


def envelope(case_id: str, payload: BaseModel, at: datetime, now: datetime, cause: Envelope | None, key: str,
             charter: CharterRef | None = None) -> Envelope:
    """``cause``: the event decided on (its case version and charter travel on); None for an
    official's decision, which has no place in the case's petition stream (version 0)."""
    return Envelope(event_id=event_id(key), case_id=case_id, case_version=cause.case_version if cause else 0,
                    occurred_at=at, recorded_at=now, producer=PRODUCER, payload=payload,
                    charter=charter or (cause.charter if cause else None))
