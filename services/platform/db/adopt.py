"""Helpers for a service's first migration: adopt what the one-chain schema of before issue 15 kept
for it in shared tables (``outbox`` with a ``producer`` column; ``consumer_positions`` and
``consumer_held_events`` keyed by consumer name). Rows move, in their order, keeping their ids;
the composition root drops a shared table once every service has taken its rows
(``services.legacy_schema``)."""
from __future__ import annotations

from alembic import op
from sqlalchemy import inspect, text


def table_exists(name: str) -> bool:
    """In the migration's schema (the first on the search path on PostgreSQL)."""
    return inspect(op.get_bind()).has_table(name)


def _sequence_after_copy(table: str) -> None:
    # Rows copied with their seq leave PostgreSQL's sequence behind them: the next insert would collide.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), "
                          f"COALESCE((SELECT max(seq) FROM {table}), 0) + 1, false)"))


def adopt_outbox(service: str, producer: str) -> None:
    if not table_exists("outbox"):
        return
    bind = op.get_bind()
    target = f"{service}_outbox"
    bind.execute(text(f"INSERT INTO {target} (seq, event_id, case_id, value, published, created_at) "
                      "SELECT seq, event_id, case_id, value, published, created_at FROM outbox "
                      "WHERE producer = :p ORDER BY seq"), {"p": producer})
    bind.execute(text("DELETE FROM outbox WHERE producer = :p"), {"p": producer})
    _sequence_after_copy(target)


def adopt_runtime(service: str, consumers: tuple[str, ...]) -> None:
    bind = op.get_bind()
    for consumer in consumers:
        if table_exists("consumer_positions"):
            bind.execute(text(f"INSERT INTO {service}_consumer_positions (consumer, topic, partition, next_offset) "
                              "SELECT consumer, topic, partition, next_offset FROM consumer_positions "
                              "WHERE consumer = :c"), {"c": consumer})
            bind.execute(text("DELETE FROM consumer_positions WHERE consumer = :c"), {"c": consumer})
        if table_exists("consumer_held_events"):
            columns = 'seq, consumer, case_id, topic, partition, "offset", value, state, reason, entry_id, held_at'
            bind.execute(text(f"INSERT INTO {service}_consumer_held_events ({columns}) SELECT {columns} "
                              "FROM consumer_held_events WHERE consumer = :c ORDER BY seq"), {"c": consumer})
            bind.execute(text("DELETE FROM consumer_held_events WHERE consumer = :c"), {"c": consumer})
    if consumers:
        _sequence_after_copy(f"{service}_consumer_held_events")
