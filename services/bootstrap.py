"""The composition root: the one place that builds I/O (log, database, keys) from settings."""
from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from services.platform.log.deadletter import DeadLetters
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.kafka import KafkaLog
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.db.engine import make_engine, make_sessionmaker
from services.platform.db.engine import migrate as migrate_chain
from services.platform.settings import Settings
from shared.charters import CharterBook
from shared.holiday_source import HolidayOverrides, korean_calendar
from shared.instants import parse_instant
from shared.sealing import Keyring
from shared.working_time import WorkingCalendar

Clock = Callable[[], datetime]
# One migration chain for every table today (each service's own chain is the next step, issue 15).
MIGRATIONS = Path(__file__).resolve().parent / "intake" / "migrations"


def migrate(engine: Engine) -> None:
    """Every table at the newest migration (idempotent)."""
    migrate_chain(engine, MIGRATIONS)


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


def file_clock(path: Path) -> Clock:
    """A clock a test or a drill drives from outside the process: the instant written in ``path``.
    Event time decides every deadline; this only moves what 'now' is for the timers."""
    def now() -> datetime:
        return parse_instant(path.read_text(encoding="utf-8").strip(), "clock_file")
    return now


def settings_clock(settings: Settings) -> Clock:
    return file_clock(settings.clock_file) if settings.clock_file else wall_clock


@dataclass
class Container:
    settings: Settings
    log: EventLog
    topics: Topics
    calendar: WorkingCalendar
    charters: CharterBook
    keyring: Keyring
    applicant_ref_key: bytes
    clock: Clock = wall_clock
    _engine: Engine | None = field(default=None, repr=False)
    _sessions: sessionmaker | None = field(default=None, repr=False)
    _readers: sessionmaker | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.resolved_database_url())
        return self._engine

    @property
    def sessions(self) -> sessionmaker:
        if self._sessions is None:
            self._sessions = make_sessionmaker(self.engine)
        return self._sessions

    @property
    def readers(self) -> sessionmaker:
        """Sessions for queries only (API reads, authentication)."""
        if self._readers is None:
            self._readers = make_sessionmaker(self.engine, read_only=True)
        return self._readers

    def dead_letters(self, service: str) -> DeadLetters:
        return DeadLetters(self.log, self.topics.dead_letter, service)

    def close(self) -> None:
        self.log.close()
        if self._engine is not None:
            self._engine.dispose()


def make_log(settings: Settings) -> EventLog:
    if settings.mode == "kafka":
        return KafkaLog(settings.kafka_bootstrap_servers, timeout_s=settings.append_timeout_s)
    return EmbeddedLog(settings.embedded_log_path)


def load_keys(settings: Settings) -> tuple[Keyring, bytes]:
    """The PII keyring and the applicant-reference key.

    Without CHARTERWATCH_PII_KEYS (a first local run) a key is generated once
    into data_dir/pii.keys (mode 0600) so data stays readable across restarts.
    """
    if settings.pii_keys:
        keyring = Keyring.parse(settings.pii_keys)
        ref_key = keyring.keys[next(iter(keyring.keys))]
        return keyring, ref_key
    path = settings.data_dir / "pii.keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        spec = "local1:" + base64.b64encode(os.urandom(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(spec + "\n")
    keyring = Keyring.parse(path.read_text().strip())
    return keyring, keyring.keys[next(iter(keyring.keys))]


def load_calendar(overrides_file: Path | None) -> WorkingCalendar:
    if overrides_file is None:
        return korean_calendar()
    data = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or {}
    return korean_calendar(HolidayOverrides.from_mapping(data))


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, log: EventLog | None = None,
              migrate_db: bool = True) -> Container:
    settings = settings or Settings()
    clock = clock or settings_clock(settings)
    keyring, ref_key = load_keys(settings)
    container = Container(
        settings=settings,
        log=log or make_log(settings),
        topics=Topics(settings.topic_prefix),
        calendar=load_calendar(settings.holiday_overrides_file),
        charters=CharterBook.bundled(),
        keyring=keyring,
        applicant_ref_key=ref_key,
        clock=clock,
    )
    if migrate_db:
        migrate(container.engine)
    return container
