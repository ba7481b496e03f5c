"""The one migration chain CharterWatch had before each service owned its tables (issue 15).

A database it wrote is upgraded in place: first to that chain's last revision (here), then each
service's own chain adopts its tables and moves its rows out of the shared ones
(``services.platform.db.adopt``); last, ``retire`` drops the shared tables every service has emptied.
Part of the composition root: it knows every service's old tables.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from services.platform.db.engine import Chain, migrate
from services.platform.logs import get_logger

LEGACY = Chain("legacy", Path(__file__).resolve().parent, version_table="alembic_version")
SHARED = ("outbox", "consumer_positions", "consumer_held_events")
log = get_logger("migrations")


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def bring_up(engine: Engine) -> bool:
    """A database written by the one-chain schema: to its last revision. False for any other."""
    if "alembic_version" not in _tables(engine):
        return False
    migrate(engine, LEGACY)
    return True


def retire(engine: Engine) -> None:
    """Drop each shared table once the services' chains have moved all its rows out; then the old
    chain's version table. Rows left belong to a service whose tables live in another database:
    they stay (and are reported) until an operator moves them."""
    tables = _tables(engine)
    with engine.begin() as conn:
        for name in SHARED:
            if name not in tables:
                continue
            left = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            if left:
                log.warning("legacy_rows_left", table=name, rows=left)
                continue
            conn.execute(text(f"DROP TABLE {name}"))
            tables.discard(name)
        if "alembic_version" in tables and not tables & set(SHARED):
            conn.execute(text("DROP TABLE alembic_version"))
