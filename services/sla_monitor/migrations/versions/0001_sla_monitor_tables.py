"""sla_monitor's tables, created, or adopted from the one-chain schema of before (issue 15)

A database written by that schema already has this service's tables under the same names: they are
kept as they are, with their rows. The rows this service had in the shared outbox and the shared
consumer-runtime tables move to its own.

Revision ID: 0001
Revises:
"""
from alembic import op

from services.platform.db.adopt import adopt_runtime, create_runtime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_runtime('sla_monitor')
    adopt_runtime('sla_monitor', consumers=('sla_monitor',))


def downgrade() -> None:
    op.drop_table('sla_monitor_consumer_positions')
    with op.batch_alter_table('sla_monitor_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_monitor_held_consumer_case')

    op.drop_table('sla_monitor_consumer_held_events')
