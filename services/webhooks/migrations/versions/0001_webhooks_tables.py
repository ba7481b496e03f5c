"""webhooks: subscriptions, sealed secrets, deliveries and attempts, case facts and handling agencies, notices,
and the consumer-runtime tables (no outbox: it writes nothing to the log) (issue 19, part 3)

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import create_runtime, table_exists

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not table_exists('webhooks_subscriptions'):
        op.create_table('webhooks_subscriptions',
        sa.Column('webhook_id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('municipality_ids', sa.JSON(), nullable=True),
        sa.Column('petition_types', sa.JSON(), nullable=True),
        sa.Column('obligation_kinds', sa.JSON(), nullable=True),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('webhook_id')
        )
        with op.batch_alter_table('webhooks_subscriptions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_webhooks_subscriptions_agency_id'), ['agency_id'], unique=False)
    if not table_exists('webhooks_secrets'):
        op.create_table('webhooks_secrets',
        sa.Column('secret_id', sa.String(length=36), nullable=False),
        sa.Column('webhook_id', sa.String(length=36), nullable=False),
        sa.Column('sealed', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('secret_id')
        )
        with op.batch_alter_table('webhooks_secrets', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_webhooks_secrets_webhook_id'), ['webhook_id'], unique=False)
    if not table_exists('webhooks_deliveries'):
        op.create_table('webhooks_deliveries',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('delivery_id', sa.String(length=36), nullable=False),
        sa.Column('webhook_id', sa.String(length=36), nullable=False),
        sa.Column('dedup_key', sa.String(length=80), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=200), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=40), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('redelivery_of', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('delivery_id'),
        sa.UniqueConstraint('webhook_id', 'dedup_key', name='uq_webhooks_delivery_event')
        )
        with op.batch_alter_table('webhooks_deliveries', schema=None) as batch_op:
            batch_op.create_index('ix_webhooks_deliveries_due', ['status', 'next_attempt_at'], unique=False)
            batch_op.create_index('ix_webhooks_deliveries_case', ['webhook_id', 'case_id', 'seq'], unique=False)
    if not table_exists('webhooks_attempts'):
        op.create_table('webhooks_attempts',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('delivery_id', sa.String(length=36), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=40), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('seq')
        )
        with op.batch_alter_table('webhooks_attempts', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_webhooks_attempts_delivery_id'), ['delivery_id'], unique=False)
    if not table_exists('webhooks_cases'):
        op.create_table('webhooks_cases',
        sa.Column('case_id', sa.String(length=200), nullable=False),
        sa.Column('municipality_id', sa.String(length=64), nullable=False),
        sa.Column('petition_type', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('case_id')
        )
    if not table_exists('webhooks_case_agencies'):
        op.create_table('webhooks_case_agencies',
        sa.Column('case_id', sa.String(length=200), nullable=False),
        sa.Column('from_version', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'from_version')
        )
    if not table_exists('webhooks_notices'):
        op.create_table('webhooks_notices',
        sa.Column('notice_id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('webhook_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('notice_id')
        )
        with op.batch_alter_table('webhooks_notices', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_webhooks_notices_agency_id'), ['agency_id'], unique=False)
    create_runtime('webhooks')


def downgrade() -> None:
    for table in ('webhooks_notices', 'webhooks_case_agencies', 'webhooks_cases', 'webhooks_attempts',
                  'webhooks_deliveries', 'webhooks_secrets', 'webhooks_subscriptions',
                  'webhooks_consumer_held_events', 'webhooks_consumer_positions'):
        op.drop_table(table)
