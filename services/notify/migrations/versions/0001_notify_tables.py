"""notify's tables, created, or adopted from the one-chain schema of before (issue 15)

A database written by that schema already has this service's tables under the same names: they are
kept as they are, with their rows. The rows this service had in the shared outbox and the shared
consumer-runtime tables move to its own.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import (
    adopt_outbox,
    adopt_runtime,
    create_outbox,
    create_runtime,
    table_exists,
)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not table_exists('inbox_messages'):
        op.create_table('inbox_messages',
        sa.Column('message_id', sa.String(length=36), nullable=False),
        sa.Column('applicant_ref', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('message_id')
        )
        with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_inbox_messages_applicant_ref'), ['applicant_ref'], unique=False)

    if not table_exists('notice_deliveries'):
        op.create_table('notice_deliveries',
        sa.Column('notice_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('cause_event_id', sa.String(length=36), nullable=False),
        sa.Column('template_id', sa.String(length=32), nullable=False),
        sa.Column('template_version', sa.String(length=16), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('message_sealed', sa.JSON(), nullable=False),
        sa.Column('contact_sealed', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('provider_reference', sa.String(length=128), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('queued_seq', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('notice_id')
        )
        with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_notice_deliveries_case_id'), ['case_id'], unique=False)

    if not table_exists('notify_case_events'):
        op.create_table('notify_case_events',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('envelope', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('event_id')
        )
        with op.batch_alter_table('notify_case_events', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_notify_case_events_case_id'), ['case_id'], unique=False)


    create_runtime('notify')
    create_outbox('notify')
    adopt_outbox('notify', producer='notify')
    adopt_runtime('notify', consumers=('notify',))


def downgrade() -> None:
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_outbox_unpublished')

    op.drop_table('notify_outbox')
    op.drop_table('notify_consumer_positions')
    with op.batch_alter_table('notify_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_held_consumer_case')

    op.drop_table('notify_consumer_held_events')
    with op.batch_alter_table('notify_case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_case_events_case_id'))

    op.drop_table('notify_case_events')
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_case_id'))

    op.drop_table('notice_deliveries')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_messages_applicant_ref'))

    op.drop_table('inbox_messages')
