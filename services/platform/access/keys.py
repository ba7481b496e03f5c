"""Per-agency API keys: ``Authorization: Bearer cw_<key id>.<secret>``; only a SHA-256 of the secret is stored.

The secret is 32 random bytes, so a fast hash is enough (nothing to brute-force);
comparison is constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.platform.access.orm import ApiKeyRow
from shared.events.ids import ID_PATTERN

PREFIX = "cw_"


class Unauthorized(Exception):
    pass


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    agency_id: str
    token: str  # shown once


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(session: Session, agency_id: str, now: datetime, label: str = "") -> IssuedKey:
    """A new key for ``agency_id``, which must be an id (``shared.events.ids.ID_PATTERN``): it names the
    agency in every event it files and in every agency-scoped answer."""
    if not re.fullmatch(ID_PATTERN, agency_id):
        raise ValueError("agency_id: an id is a letter or digit, then up to 63 letters, digits, '.', '_', ':' or '-'")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKeyRow(key_id=key_id, agency_id=agency_id, secret_hash=_hash(secret), label=label, created_at=now))
    return IssuedKey(key_id, agency_id, f"{PREFIX}{key_id}.{secret}")


def revoke_key(session: Session, key_id: str, now: datetime) -> bool:
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def list_keys(session: Session) -> list[ApiKeyRow]:
    return list(session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars())


def authenticate(session: Session, authorization: str | None) -> str:
    """The agency a bearer token belongs to."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("an Authorization: Bearer <API key> header is required")
    token = authorization[7:].strip()
    if not token.startswith(PREFIX) or "." not in token:
        raise Unauthorized("malformed API key")
    key_id, _, secret = token[len(PREFIX):].partition(".")
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        raise Unauthorized("unknown or revoked API key")
    return row.agency_id
