"""intake's tables, created, or adopted from the one-chain schema of before (issue 15)

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
    if not table_exists('case_streams'):
        op.create_table('case_streams',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('envelope', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'version'),
        sa.UniqueConstraint('event_id')
        )
    if not table_exists('idempotency_keys'):
        op.create_table('idempotency_keys',
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('response', sa.JSON(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('agency_id', 'key')
        )


    if not table_exists('petition_access'):
        op.create_table('petition_access',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'agency_id')
        )
    if not table_exists('petitions'):
        op.create_table('petitions',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('municipality_id', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('charter_id', sa.String(length=64), nullable=True),
        sa.Column('charter_version', sa.String(length=32), nullable=True),
        sa.Column('petition_type', sa.String(length=32), nullable=False),
        sa.Column('petition_kind', sa.String(length=120), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('applicant_sealed', sa.JSON(), nullable=False),
        sa.Column('applicant_ref', sa.String(length=64), nullable=False),
        sa.Column('content_fingerprint', sa.Text(), nullable=False),
        sa.Column('notice_channels', sa.JSON(), nullable=False),
        sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('department', sa.String(length=100), nullable=True),
        sa.Column('official_id', sa.String(length=64), nullable=True),
        sa.Column('official', sa.JSON(), nullable=True),
        sa.Column('guardian', sa.JSON(), nullable=True),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('extensions', sa.Integer(), nullable=False),
        sa.Column('statutory_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('target_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('remaining_working_seconds', sa.Integer(), nullable=True),
        sa.Column('remaining_working_days', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('duplicate_of', sa.String(length=64), nullable=True),
        sa.Column('calendar_version', sa.String(length=120), nullable=True),
        sa.Column('last_event_id', sa.String(length=36), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id')
        )
        with op.batch_alter_table('petitions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_petitions_agency_id'), ['agency_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_applicant_ref'), ['applicant_ref'], unique=False)
            batch_op.create_index('ix_petitions_arrived_case', ['arrived_at', 'case_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_department'), ['department'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_duplicate_of'), ['duplicate_of'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_official_id'), ['official_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_received_at'), ['received_at'], unique=False)
            batch_op.create_index('ix_petitions_status_received', ['status', 'received_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_petitions_statutory_due_at'), ['statutory_due_at'], unique=False)

    if not table_exists('timeline'):
        op.create_table('timeline',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('schema_version', sa.Integer(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('producer', sa.String(length=64), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('envelope', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'version'),
        sa.UniqueConstraint('event_id')
        )
    create_runtime('intake')
    create_outbox('intake')
    adopt_outbox('intake', producer='intake')
    adopt_runtime('intake', consumers=('projection',))


def downgrade() -> None:
    op.drop_table('timeline')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petitions_statutory_due_at'))
        batch_op.drop_index('ix_petitions_status_received')
        batch_op.drop_index(batch_op.f('ix_petitions_received_at'))
        batch_op.drop_index(batch_op.f('ix_petitions_official_id'))
        batch_op.drop_index(batch_op.f('ix_petitions_duplicate_of'))
        batch_op.drop_index(batch_op.f('ix_petitions_department'))
        batch_op.drop_index('ix_petitions_arrived_case')
        batch_op.drop_index(batch_op.f('ix_petitions_applicant_ref'))
        batch_op.drop_index(batch_op.f('ix_petitions_agency_id'))

    op.drop_table('petitions')
    op.drop_table('petition_access')
    with op.batch_alter_table('intake_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_outbox_unpublished')

    op.drop_table('intake_outbox')
    op.drop_table('intake_consumer_positions')
    with op.batch_alter_table('intake_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_held_consumer_case')

    op.drop_table('intake_consumer_held_events')
    op.drop_table('idempotency_keys')
    op.drop_table('case_streams')
