"""Subscriptions, their secrets and deliveries, as the API and the sender change them (in the caller's
transaction)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.webhooks.orm import (
    AttemptRow,
    DeliveryRow,
    NoticeRow,
    SecretRow,
    SubscriptionRow,
)
from services.webhooks.payload import new_secret
from shared.sealing import KeySource, Sealed, seal, unseal

ROTATION_OVERLAP = timedelta(hours=24)  # a replaced secret still signs for this long


def _secret_ad(secret_id: str) -> str:
    return f"webhook-secret|{secret_id}"  # bound as associated data: a sealed secret cannot move to another row


def add_secret(session: Session, keys: KeySource, webhook_id: str, now: datetime) -> tuple[SecretRow, str]:
    """A new signing secret for the subscription (returned once, in clear); the ones in force before it stay
    valid for 24 hours (both signatures are sent meanwhile); those expired are deleted."""
    for old in session.execute(select(SecretRow).where(SecretRow.webhook_id == webhook_id)).scalars():
        if old.expires_at is not None and old.expires_at <= now:
            session.delete(old)
        elif old.expires_at is None or old.expires_at > now + ROTATION_OVERLAP:
            old.expires_at = now + ROTATION_OVERLAP
    secret = new_secret()
    secret_id = str(uuid.uuid4())
    row = SecretRow(secret_id=secret_id, webhook_id=webhook_id, created_at=now, expires_at=None,
                    sealed=seal(keys, secret, _secret_ad(secret_id)).model_dump())
    session.add(row)
    session.flush()
    return row, secret


def secrets_in_force(session: Session, webhook_id: str, now: datetime) -> list[SecretRow]:
    """Newest first."""
    rows = session.execute(select(SecretRow).where(SecretRow.webhook_id == webhook_id)
                           .order_by(SecretRow.created_at.desc(), SecretRow.secret_id)).scalars()
    return [r for r in rows if r.expires_at is None or r.expires_at > now]


def open_secret(keys: KeySource, row: SecretRow) -> str:
    return unseal(keys, Sealed.model_validate(row.sealed), _secret_ad(row.secret_id))  # type: ignore[no-any-return]


def enable(session: Session, sub: SubscriptionRow, now: datetime) -> None:
    """Enabled again: its failure record cleared, and what waited (pending deliveries) sent from now, each
    with a fresh retry window."""
    sub.enabled, sub.disabled_at, sub.disabled_reason, sub.failing_since = True, None, None, None
    sub.updated_at = now
    session.execute(update(DeliveryRow).where(DeliveryRow.webhook_id == sub.webhook_id,
                                              DeliveryRow.status == "pending")
                    .values(next_attempt_at=now, first_attempt_at=None))


def disable(session: Session, sub: SubscriptionRow, now: datetime, reason: str, notice: bool) -> None:
    sub.enabled, sub.disabled_at, sub.disabled_reason, sub.updated_at = False, now, reason, now
    if notice:
        session.add(NoticeRow(notice_id=str(uuid.uuid4()), agency_id=sub.agency_id, webhook_id=sub.webhook_id,
                              kind="webhook_disabled", at=now, detail=reason))


def redeliver(session: Session, original: DeliveryRow, now: datetime) -> DeliveryRow:
    """The same event (the same body and webhook-id) sent again, after the case's deliveries pending now."""
    delivery_id = str(uuid.uuid4())
    row = DeliveryRow(delivery_id=delivery_id, webhook_id=original.webhook_id,
                      dedup_key=f"{original.event_id}/{delivery_id}", event_id=original.event_id,
                      event_type=original.event_type, case_id=original.case_id, body=original.body,
                      status="pending", attempts=0, next_attempt_at=now, created_at=now,
                      redelivery_of=original.delivery_id)
    session.add(row)
    session.flush()
    return row


def delete(session: Session, sub: SubscriptionRow) -> None:
    ids = select(DeliveryRow.delivery_id).where(DeliveryRow.webhook_id == sub.webhook_id)
    session.execute(sql_delete(AttemptRow).where(AttemptRow.delivery_id.in_(ids)))
    session.execute(sql_delete(DeliveryRow).where(DeliveryRow.webhook_id == sub.webhook_id))
    session.execute(sql_delete(SecretRow).where(SecretRow.webhook_id == sub.webhook_id))
    session.delete(sub)
