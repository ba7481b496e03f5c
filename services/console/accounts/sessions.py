"""Console sessions: a random token in the ``cw_session`` cookie, stored only as its sha256.

A session ends 8 hours after sign-in whatever happens (absolute), or after 30 minutes without a
request (idle). Each session has its own CSRF token, which every form posts back.
The token has 32 random bytes, so a fast hash is enough to store it (nothing to brute-force).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from services.console.accounts.orm import SessionRow, UserRow
from services.console.accounts.users import User

ABSOLUTE = timedelta(hours=8)
IDLE = timedelta(minutes=30)
# last_seen_at is written at most this often: a page with a dozen asset requests is not a dozen writes.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    """A valid session: its account and the CSRF token its forms must carry."""

    user: User
    csrf_token: str
    token_hash: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> tuple[str, SignedIn]:
    """A new session for ``user``: (the cookie's token, shown only here, the session)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    row = SessionRow(token_hash=token_hash(token), user_id=user.user_id, csrf_token=csrf, created_at=now,
                     expires_at=now + ABSOLUTE, last_seen_at=now)
    session.add(row)
    return token, SignedIn(user, csrf, row.token_hash, row.expires_at)


def resolve_session(session: Session, token: str | None, now: datetime) -> SignedIn | None:
    """The session ``token`` opens, if it is still valid (not expired, not idle, its account enabled).
    Seen now: its idle clock restarts. An expired session's row is removed. The caller commits."""
    if not token or len(token) > 200:
        return None
    row = session.get(SessionRow, token_hash(token))
    if row is None:
        return None
    if now >= row.expires_at or now >= row.last_seen_at + IDLE:
        session.delete(row)
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or user.disabled:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SignedIn(User.of(user), row.csrf_token, row.token_hash, row.expires_at)


FLASH_MAX = 500


def set_flash(session: Session, token_hash: str, message: str) -> None:
    """Keep ``message`` for the session's next page (the caller commits)."""
    row = session.get(SessionRow, token_hash)
    if row is not None:
        row.flash = message[:FLASH_MAX]


def take_flash(session: Session, token_hash: str) -> str | None:
    """The message kept for this page, once: it is gone after (the caller commits)."""
    row = session.get(SessionRow, token_hash)
    if row is None or not row.flash:
        return None
    message, row.flash = row.flash, None
    return message


def end_session(session: Session, token: str | None) -> None:
    if token and len(token) <= 200:
        session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))


def purge_expired(session: Session, now: datetime) -> int:
    """Remove sessions past their absolute or idle expiry (they are refused anyway; this keeps the table small)."""
    rows = session.execute(select(SessionRow.token_hash).where(
        or_(SessionRow.expires_at <= now, SessionRow.last_seen_at <= now - IDLE))).scalars().all()
    if rows:
        session.execute(delete(SessionRow).where(SessionRow.token_hash.in_(rows)))
    return len(rows)
