"""Accounts and sessions of the console. An account belongs to one agency and everything it sees is
scoped to that agency; a session stores only the sha256 of its token, so a copy of the database
cannot be replayed as a cookie."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.console.schema import Base
from services.platform.db.types import Instant

ROLES = ("official", "department_head", "auditor", "administrator")


class UserRow(Base):
    __tablename__ = "console_users"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)  # one of ROLES
    # The official's id as petition events carry it (Official.official_id): what "my cases" matches.
    official_id: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Instant)
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)


class SessionRow(Base):
    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Instant, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Instant, nullable=False)  # absolute: created_at + 8 h
    last_seen_at: Mapped[datetime] = mapped_column(Instant, nullable=False)  # idle expiry: + 30 min
    # What the next page tells the user once (a flash: "보상 …: 승인했습니다"), written by the server after an
    # action succeeded: never read from a link's query, so no crafted link can confirm what did not happen.
    flash: Mapped[str | None] = mapped_column(String(500))
