"""sla_monitor's tables, created, or adopted from the one-chain schema of before (issue 15)

A database written by that schema already has this service's tables under the same names: they are
kept as they are, with their rows. The rows this service had in the shared outbox and the shared
consumer-runtime tables move to its own.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import adopt_runtime, table_exists

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not table_exists('sla_monitor_consumer_held_events'):
        op.create_table('sla_monitor_consumer_held_events',
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
        sa.PrimaryKeyConstraint('seq')
        )
        with op.batch_alter_table('sla_monitor_consumer_held_events', schema=None) as batch_op:
            batch_op.create_index('ix_sla_monitor_held_consumer_case', ['consumer', 'case_id', 'seq'], unique=False)

    if not table_exists('sla_monitor_consumer_positions'):
        op.create_table('sla_monitor_consumer_positions',
        sa.Column('consumer', sa.String(length=64), nullable=False),
        sa.Column('topic', sa.String(length=200), nullable=False),
        sa.Column('partition', sa.Integer(), nullable=False),
        sa.Column('next_offset', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('consumer', 'topic', 'partition')
        )
    adopt_runtime('sla_monitor', consumers=('sla_monitor',))


def downgrade() -> None:
    op.drop_table('sla_monitor_consumer_positions')
    with op.batch_alter_table('sla_monitor_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_monitor_held_consumer_case')

    op.drop_table('sla_monitor_consumer_held_events')
