"""Engines and migrations, built when the composition root asks, never at import."""
from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from services.platform.files import private_sqlite

READ_ONLY = "charterwatch_read_only"
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SCHEMAS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def schema_of(engine: Engine) -> str | None:
    """The service's own PostgreSQL schema the engine was made for, if any."""
    return _SCHEMAS.get(engine)


def make_engine(url: str, schema: str | None = None) -> Engine:
    """``schema`` (PostgreSQL): the service's own schema in a shared database, first on the search path."""
    if url.startswith("sqlite"):
        if schema:
            raise ValueError("a database schema per service needs PostgreSQL; on SQLite give each service its own URL")
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            private_sqlite(Path(path))  # 0600 before SQLite opens it: its WAL and shared-memory files follow
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        write_lock = threading.Lock()

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # transactions are begun below, not by the driver
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A deferred transaction that reads and then writes fails at once with "database is
            # locked" when another connection wrote in between; a writer takes the write lock up
            # front and waits (up to the busy timeout) instead. Readers stay deferred: in WAL mode
            # they never wait for a writer.
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            if read_only:
                conn.exec_driver_sql("BEGIN")
                return
            # Writers of this process queue on a lock, in order, instead of in SQLite's busy
            # handler, which sleeps and retries and collapses under load.
            write_lock.acquire()
            conn.info["holds_write_lock"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn)
                raise

        def _release(conn) -> None:  # type: ignore[no-untyped-def]
            if conn.info.pop("holds_write_lock", False):
                write_lock.release()

        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if schema:
        if not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"not a schema name: {schema!r}")

        @event.listens_for(engine, "connect")
        def _search_path(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            with dbapi_conn.cursor() as cur:
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

        _SCHEMAS[engine] = schema
    return engine


def make_sessionmaker(engine: Engine, read_only: bool = False) -> sessionmaker:
    """Sessions that write, or (``read_only``) sessions for queries that must not queue behind writers."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


def alembic_config(url: str, location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class Chain:
    """One service's migration history: its scripts and the table that records where it stands
    (``alembic_version_<service>``, so chains can share a database)."""

    service: str
    location: Path
    version_table: str = ""

    def __post_init__(self) -> None:
        if not self.version_table:
            object.__setattr__(self, "version_table", f"alembic_version_{self.service}")


def migrate(engine: Engine, chain: Chain) -> None:
    """Bring ``chain``'s tables to its newest migration (idempotent), in the engine's schema if it has one."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), chain.location)
    cfg.attributes["version_table"] = chain.version_table
    schema = schema_of(engine)
    with engine.begin() as conn:
        if schema:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.exec_driver_sql(f'SET search_path TO "{schema}"')
        cfg.attributes["connection"] = conn
        cfg.attributes["schema"] = schema
        command.upgrade(cfg, "head")
