"""compensation's tables, created, or adopted from the one-chain schema of before (issue 15)

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
    if not table_exists('compensation_cases'):
        op.create_table('compensation_cases',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('charter_id', sa.String(length=64), nullable=True),
        sa.Column('charter_version', sa.String(length=32), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('case_id')
        )
        with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_compensation_cases_agency_id'), ['agency_id'], unique=False)



    if not table_exists('official_locks'):
        op.create_table('official_locks',
        sa.Column('official_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('official_id')
        )
    if not table_exists('remedy_actions'):
        op.create_table('remedy_actions',
        sa.Column('action_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('official_id', sa.String(length=64), nullable=True),
        sa.Column('cause', sa.String(length=32), nullable=False),
        sa.Column('cause_event_id', sa.String(length=36), nullable=False),
        sa.Column('promise_id', sa.String(length=32), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('action_id')
        )
        with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_remedy_actions_case_id'), ['case_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_remedy_actions_official_id'), ['official_id'], unique=False)

    if not table_exists('strikes'):
        op.create_table('strikes',
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('official_id', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('event_id')
        )
        with op.batch_alter_table('strikes', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_strikes_official_id'), ['official_id'], unique=False)

    if not table_exists('voucher_transitions'):
        op.create_table('voucher_transitions',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('voucher_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('amount_won', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('event_id')
        )
        with op.batch_alter_table('voucher_transitions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_voucher_transitions_voucher_id'), ['voucher_id'], unique=False)

    if not table_exists('vouchers'):
        op.create_table('vouchers',
        sa.Column('voucher_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('cause', sa.String(length=32), nullable=False),
        sa.Column('cause_event_id', sa.String(length=36), nullable=False),
        sa.Column('charter_id', sa.String(length=64), nullable=False),
        sa.Column('charter_version', sa.String(length=32), nullable=False),
        sa.Column('promise_id', sa.String(length=32), nullable=False),
        sa.Column('amount_won', sa.Integer(), nullable=False),
        sa.Column('voucher_kind', sa.String(length=32), nullable=False),
        sa.Column('approval', sa.String(length=32), nullable=False),
        sa.Column('payment', sa.String(length=32), nullable=False),
        sa.Column('settled', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('official_id', sa.String(length=64), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('same_day', sa.Boolean(), nullable=False),
        sa.Column('batch_month', sa.String(length=7), nullable=True),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancel_reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('voucher_id'),
        sa.UniqueConstraint('case_id', 'cause', name='uq_voucher_case_cause')
        )
        with op.batch_alter_table('vouchers', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_vouchers_case_id'), ['case_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_vouchers_official_id'), ['official_id'], unique=False)
            batch_op.create_index('ix_vouchers_status_month', ['status', 'batch_month'], unique=False)
    create_runtime('compensation')
    create_outbox('compensation')
    adopt_outbox('compensation', producer='compensation')
    adopt_runtime('compensation', consumers=('compensation',))


def downgrade() -> None:
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_status_month')
        batch_op.drop_index(batch_op.f('ix_vouchers_official_id'))
        batch_op.drop_index(batch_op.f('ix_vouchers_case_id'))

    op.drop_table('vouchers')
    with op.batch_alter_table('voucher_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_transitions_voucher_id'))

    op.drop_table('voucher_transitions')
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strikes_official_id'))

    op.drop_table('strikes')
    with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remedy_actions_official_id'))
        batch_op.drop_index(batch_op.f('ix_remedy_actions_case_id'))

    op.drop_table('remedy_actions')
    op.drop_table('official_locks')
    with op.batch_alter_table('compensation_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_compensation_outbox_unpublished')

    op.drop_table('compensation_outbox')
    op.drop_table('compensation_consumer_positions')
    with op.batch_alter_table('compensation_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_compensation_held_consumer_case')

    op.drop_table('compensation_consumer_held_events')
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compensation_cases_agency_id'))

    op.drop_table('compensation_cases')
