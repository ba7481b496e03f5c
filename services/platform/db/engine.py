"""Engines and migrations, built when the composition root asks, never at import."""
from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

READ_ONLY = "charterwatch_read_only"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
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
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine, read_only: bool = False) -> sessionmaker:
    """Sessions that write, or (``read_only``) sessions for queries that must not queue behind writers."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


def alembic_config(url: str, location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, location: Path) -> None:
    """Bring the schema to the newest migration of the chain in ``location`` (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), location)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
