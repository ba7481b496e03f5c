"""The composition root: the one place that builds I/O (log, database, keys) from settings."""
from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import Engine

from services import legacy_schema
from services.compensation.schema import CHAIN as COMPENSATION
from services.console.schema import CHAIN as CONSOLE
from services.intake.schema import CHAIN as INTAKE
from services.notify.schema import CHAIN as NOTIFY
from services.platform.access.schema import CHAIN as ACCESS
from services.platform.db.database import Database
from services.platform.db.engine import Chain
from services.platform.db.engine import migrate as migrate_chain
from services.platform.files import PRIVATE_DIR, PRIVATE_FILE, narrow, write_private
from services.platform.log.deadletter import DeadLetters
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.kafka import KafkaLog
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from services.platform.logs import get_logger
from services.platform.settings import Settings
from services.platform.vault.schema import CHAIN as VAULT
from services.sla_monitor.schema import CHAIN as SLA_MONITOR
from services.webhooks.schema import CHAIN as WEBHOOKS
from shared.charters import CharterBook
from shared.holiday_source import HolidayOverrides, korean_calendar
from shared.instants import parse_instant
from shared.sealing import Keyring
from shared.working_time import WorkingCalendar

Clock = Callable[[], datetime]
# Each service's own migration chain, in its own database (or its own tables of a shared one).
CHAINS: dict[str, Chain] = {c.service: c for c in (ACCESS, VAULT, INTAKE, SLA_MONITOR, COMPENSATION, NOTIFY,
                                                   CONSOLE, WEBHOOKS)}


def migrate_engines(engines: dict[str, Engine]) -> None:
    """Every service's tables at its newest migration (idempotent). ``engines``: by service; services
    may share one. A database the one-chain schema wrote (before issue 15) is upgraded in place."""
    distinct = list({id(e): e for e in engines.values()}.values())
    for engine in distinct:
        legacy_schema.bring_up(engine)
    for service, chain in CHAINS.items():
        migrate_chain(engines[service], chain)
    for engine in distinct:
        legacy_schema.retire(engine)


def migrate(engine: Engine) -> None:
    """Every service's tables in one database (embedded mode, tests, scratch copies)."""
    migrate_engines({service: engine for service in CHAINS})


def wall_clock() -> datetime:
    return datetime.now(UTC)


def file_clock(path: Path) -> Clock:
    """A clock a test or a drill drives from outside the process: the instant written in ``path``.
    Event time decides every deadline; this only moves what 'now' is for the timers.

    ``echo … > clock`` empties the file for an instant before writing it, and a hand may write a typo:
    an unreadable file keeps the last good instant (warned once per bad content), so a drill never
    stops a service. Before any good value, the file must be readable: the drill's first instant is
    required."""
    last: list[datetime] = []
    warned: list[str] = []

    def now() -> datetime:
        try:
            text = path.read_text(encoding="utf-8").strip()
            value = parse_instant(text, "clock_file")
        except (OSError, ValueError) as exc:
            if not last:
                raise
            if str(exc) not in warned:
                warned[:] = [str(exc)]
                get_logger("clock").warning("drill_clock_unreadable", path=str(path), reason=type(exc).__name__,
                                            keeping=last[0].isoformat())
            return last[0]
        last[:] = [value]
        warned.clear()
        return value
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
    _databases: dict[tuple[str, str | None], Database] = field(default_factory=dict, repr=False)

    def now(self) -> datetime:
        """The clock as services get it: read through the container, so a drill (or a test) that sets
        ``clock`` moves every service built before."""
        return self.clock()

    def database(self, service: str) -> Database:
        """A service's own database (``CHARTERWATCH_<SERVICE>_DATABASE_URL``); services configured with the
        same URL and schema share one engine, so one process queues its SQLite writers in one line."""
        where = self.settings.database_for(service)
        if where not in self._databases:
            self._databases[where] = Database.open(*where)
        return self._databases[where]

    def migrate(self) -> None:
        migrate_engines({service: self.database(service).engine for service in CHAINS})

    def dead_letters(self, service: str) -> DeadLetters:
        return DeadLetters(self.log, self.topics.dead_letter, service)

    def close(self) -> None:
        self.log.close()
        for db in self._databases.values():
            db.close()
        self._databases.clear()


def make_log(settings: Settings) -> EventLog:
    if settings.mode == "kafka":
        return KafkaLog(settings.kafka_bootstrap_servers, timeout_s=settings.append_timeout_s)
    return EmbeddedLog(settings.embedded_log_path)


def load_keys(settings: Settings) -> tuple[Keyring, bytes]:
    """The PII keyring and the applicant-reference (pseudonymisation) key, which is not a PII key.

    Without CHARTERWATCH_PII_KEYS (a first local run) a key is generated once
    into data_dir/pii.keys (mode 0600) so data stays readable across restarts.
    """
    if settings.pii_keys:
        return Keyring.parse(settings.pii_keys), load_pseudonym_key(settings)
    path = settings.data_dir / "pii.keys"
    if not path.exists():
        write_private(path, "local1:" + base64.b64encode(os.urandom(32)).decode() + "\n")
    keyring = Keyring.parse(path.read_text().strip())
    return keyring, load_pseudonym_key(settings)


def load_pseudonym_key(settings: Settings) -> bytes:
    """The key applicant references are made with (the inbox identity): its own and never rotated, since a
    new key would give every citizen a new reference and split their inbox.

    ``CHARTERWATCH_PSEUDONYM_KEY`` in production (every intake process must share it); otherwise a key
    kept in data_dir/pseudonym.key (0600). A local install from before it existed made its references
    with its first PII key: that key's bytes are copied once, so existing inboxes stay whole.
    """
    if settings.pseudonym_key:
        key = base64.b64decode(settings.pseudonym_key, validate=True)
        if len(key) != 32:
            raise ValueError("CHARTERWATCH_PSEUDONYM_KEY: must be base64 of 32 bytes")
        return key
    path = settings.data_dir / "pseudonym.key"
    if not path.exists():
        legacy = settings.data_dir / "pii.keys"
        if legacy.exists():
            ring = Keyring.parse(legacy.read_text().strip())
            key = ring.keys[next(iter(ring.keys))]
        else:
            key = os.urandom(32)
        write_private(path, base64.b64encode(key).decode() + "\n")
    return base64.b64decode(path.read_text().strip())


def private_data_dir(data_dir: Path) -> None:
    """The data dir is the service user's alone: made 0700 if an earlier release left it open, its keys
    0600. It is created (0700) where something is first kept in it (``services.platform.files``), so a
    deployment that keeps nothing locally gets none."""
    narrow(data_dir, PRIVATE_DIR)
    for key_file in ("pii.keys", "pseudonym.key", "local-api-key"):
        narrow(data_dir / key_file, PRIVATE_FILE)


def load_calendar(overrides_file: Path | None) -> WorkingCalendar:
    if overrides_file is None:
        return korean_calendar()
    data = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or {}
    return korean_calendar(HolidayOverrides.from_mapping(data))


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, log: EventLog | None = None,
              migrate_db: bool = True) -> Container:
    settings = settings or Settings()
    clock = clock or settings_clock(settings)
    private_data_dir(settings.data_dir)
    keyring, ref_key = load_keys(settings)
    container = Container(
        settings=settings,
        log=log or make_log(settings),
        topics=Topics.configured(settings),
        calendar=load_calendar(settings.holiday_overrides_file),
        charters=CharterBook.bundled(),
        keyring=keyring,
        applicant_ref_key=ref_key,
        clock=clock,
    )
    if migrate_db:
        container.migrate()
    return container
