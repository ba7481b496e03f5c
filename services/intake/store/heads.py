"""What intake's command store answers about a case's chain (for the audit's verify, via the root)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake.store.orm import StreamEventRow
from shared.events.envelope import chain_hash


def last_chain_hash(session: Session, case_id: str) -> str | None:
    raw = session.execute(select(StreamEventRow.envelope).where(StreamEventRow.case_id == case_id)
                          .order_by(StreamEventRow.version.desc()).limit(1)).scalar_one_or_none()
    return chain_hash(raw.encode()) if raw is not None else None
