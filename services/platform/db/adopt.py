"""Helpers for a service's first migration: the platform's tables every service has (its outbox, its
consumer-runtime tables), and adopting what the one-chain schema of before issue 15 kept
for it in shared tables (``outbox`` with a ``producer`` column; ``consumer_positions`` and
``consumer_held_events`` keyed by consumer name). Rows move, in their order, keeping their ids;
the composition root drops a shared table once every service has taken its rows
(``services.legacy_schema``)."""
from __future__ import annotations

import sqlalchemy as sa
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


def create_outbox(service: str) -> None:
    """A service's outbox (``services.platform.outbox.orm``), as its first migration creates it."""
    name = f"{service}_outbox"
    if table_exists(name):
        return
    op.create_table(name,
                    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('case_id', sa.String(length=64), nullable=False),
                    sa.Column('value', sa.LargeBinary(), nullable=False),
                    sa.Column('published', sa.Boolean(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('seq'),
                    sa.UniqueConstraint('event_id'))
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f'ix_{service}_outbox_unpublished', ['published', 'seq'], unique=False)


def create_runtime(service: str) -> None:
    """A service's consumer-runtime tables (``services.platform.consumer_orm``), as its first migration
    creates them."""
    held = f"{service}_consumer_held_events"
    if not table_exists(held):
        op.create_table(held,
                        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
                        sa.Column('consumer', sa.String(length=64), nullable=False),
                        sa.Column('case_id', sa.String(length=200), nullable=False),
                        sa.Column('topic', sa.String(length=200), nullable=False),
                        sa.Column('partition', sa.Integer(), nullable=False),
                        sa.Column('offset', sa.Integer(), nullable=False),
                        sa.Column('value', sa.LargeBinary(), nullable=False),
                        sa.Column('state', sa.String(length=16), nullable=False),
                        sa.Column('reason', sa.Text(), nullable=False),
                        sa.Column('entry_id', sa.String(length=36), nullable=True),
                        sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
                        sa.PrimaryKeyConstraint('seq'))
        with op.batch_alter_table(held, schema=None) as batch_op:
            batch_op.create_index(f'ix_{service}_held_consumer_case', ['consumer', 'case_id', 'seq'], unique=False)
    positions = f"{service}_consumer_positions"
    if not table_exists(positions):
        op.create_table(positions,
                        sa.Column('consumer', sa.String(length=64), nullable=False),
                        sa.Column('topic', sa.String(length=200), nullable=False),
                        sa.Column('partition', sa.Integer(), nullable=False),
                        sa.Column('next_offset', sa.Integer(), nullable=False),
                        sa.PrimaryKeyConstraint('consumer', 'topic', 'partition'))
