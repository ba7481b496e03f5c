"""Console accounts: create, list, disable, and sign in with argon2 password hashes and a lockout.

Sign-in answers the same way, in the same time as nearly as we can, whether the username is unknown,
the password wrong, the account locked or disabled: the answer must not tell an attacker which
usernames exist (no user enumeration). An unknown username still pays for one argon2 verification,
against a dummy hash.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.accounts.orm import ROLES, SessionRow, UserRow
from services.platform.logs import get_logger
from shared.events.ids import ID_PATTERN

log = get_logger("console")

MAX_FAILURES = 5  # consecutive failed sign-ins before the account is locked
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; the bound keeps a request from buying seconds of CPU
# A username is also the actor recorded when the account acts without an official id: an id's shape.
USERNAME_PATTERN = ID_PATTERN
ROLE_LABELS = {"official": "담당 공무원", "department_head": "부서장", "auditor": "감사 담당", "administrator": "관리자"}
SIGN_IN_REFUSED = "아이디 또는 비밀번호가 올바르지 않습니다."  # the one answer (see the module's docstring)

_hasher = PasswordHasher()  # argon2id, the library's current defaults (RFC 9106 low-memory profile)
_dummy_hash: str | None = None


class SignInRefused(Exception):
    """Unknown user, wrong password, locked or disabled: deliberately one exception, one message."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)


class InvalidAccount(ValueError):
    """An account cannot be created as asked: ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class User:
    """A signed-in account as the pages see it (never its password hash)."""

    user_id: str
    agency_id: str
    username: str
    display_name: str
    role: str
    official_id: str | None
    department: str | None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def actor_id(self) -> str:
        """Who the other services record as acting (an approval's approver): the official's id when the
        account has one, else its username (both are ids)."""
        return self.official_id or self.username

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.user_id, row.agency_id, row.username, row.display_name, row.role, row.official_id,
                   row.department)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _burn(password: str) -> None:
    """One verification's worth of work for an unknown user, so timing does not tell it apart."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("charterwatch-console-dummy-password")
    _verify(_dummy_hash, password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidAccount("password", f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidAccount("password", f"at most {MAX_PASSWORD} characters")


def create_user(session: Session, *, agency_id: str, username: str, password: str, role: str, now: datetime,
                display_name: str | None = None, official_id: str | None = None,
                department: str | None = None) -> User:
    if not re.fullmatch(ID_PATTERN, agency_id):
        raise InvalidAccount("agency", "an id: a letter or digit, then up to 63 letters, digits, '.', '_', ':' or '-'")
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise InvalidAccount("username", "a letter or digit, then up to 63 letters, digits, '.', '_', ':' or '-'")
    if role not in ROLES:
        raise InvalidAccount("role", f"one of {', '.join(ROLES)}")
    if official_id is not None and not re.fullmatch(ID_PATTERN, official_id):
        raise InvalidAccount("official_id", "an id as petition events carry it (Official.official_id)")
    if display_name is not None and not 1 <= len(display_name) <= 100:
        raise InvalidAccount("display_name", "1 to 100 characters")
    if department is not None and not 1 <= len(department) <= 100:
        raise InvalidAccount("department", "1 to 100 characters")
    check_password(password)
    if session.execute(select(UserRow.user_id).where(UserRow.username == username)).first() is not None:
        raise InvalidAccount("username", "taken")
    row = UserRow(user_id=str(uuid.uuid4()), agency_id=agency_id, username=username,
                  display_name=display_name or username, role=role, official_id=official_id, department=department,
                  password_hash=hash_password(password), disabled=False, failed_logins=0, locked_until=None,
                  created_at=now)
    session.add(row)
    session.flush()
    log.info("console_user_created", user_id=row.user_id, agency_id=agency_id, role=role)
    return User.of(row)


def list_users(session: Session, agency_id: str | None = None) -> list[UserRow]:
    q = select(UserRow).order_by(UserRow.agency_id, UserRow.username)
    if agency_id is not None:
        q = q.where(UserRow.agency_id == agency_id)
    return list(session.execute(q).scalars())


def disable_user(session: Session, username: str) -> bool:
    """Disable an account and end its sessions at once. False if there is no such account."""
    row = session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
    if row is None:
        return False
    row.disabled = True
    for s in session.execute(select(SessionRow).where(SessionRow.user_id == row.user_id)).scalars():
        session.delete(s)
    log.info("console_user_disabled", user_id=row.user_id, agency_id=row.agency_id)
    return True


def authenticate(session: Session, username: str, password: str, now: datetime) -> User:
    """The account, if ``password`` is its password and it may sign in now; else ``SignInRefused``.

    Counts consecutive failures: the ``MAX_FAILURES``-th locks the account for ``LOCKOUT``. While locked
    even the right password is refused (and failures are not counted, so the lock is not extended by
    an attacker's further guesses). The caller commits, refused or not: the count must be kept."""
    row = None
    if len(username) <= 64 and len(password) <= MAX_PASSWORD:
        row = session.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
    if row is None:
        _burn(password[:MAX_PASSWORD])
        log.info("console_sign_in_refused", reason="unknown")
        raise SignInRefused()
    ok = _verify(row.password_hash, password)
    locked = row.locked_until is not None and row.locked_until > now
    if row.disabled or locked:
        log.info("console_sign_in_refused", user_id=row.user_id, reason="disabled" if row.disabled else "locked")
        raise SignInRefused()
    if not ok:
        if row.locked_until is not None:  # an earlier lock has run out: a fresh count
            row.locked_until, row.failed_logins = None, 0
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until, row.failed_logins = now + LOCKOUT, 0
            log.warning("console_account_locked", user_id=row.user_id, until=row.locked_until.isoformat())
        else:
            log.info("console_sign_in_refused", user_id=row.user_id, reason="password")
        raise SignInRefused()
    row.failed_logins, row.locked_until = 0, None
    if _hasher.check_needs_rehash(row.password_hash):  # the library's parameters grew since it was hashed
        row.password_hash = hash_password(password)
    return User.of(row)
