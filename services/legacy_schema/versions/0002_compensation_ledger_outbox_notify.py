"""compensation ledger, outbox, notify

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('notice_id')
    )
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_deliveries_case_id'), ['case_id'], unique=False)

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

    op.create_table('official_locks',
    sa.Column('official_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('official_id')
    )
    op.create_table('outbox',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('producer', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['producer', 'published', 'seq'], unique=False)

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
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    op.drop_table('official_locks')
    with op.batch_alter_table('notify_case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_case_events_case_id'))

    op.drop_table('notify_case_events')
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_case_id'))

    op.drop_table('notice_deliveries')
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_messages_applicant_ref'))

    op.drop_table('inbox_messages')
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compensation_cases_agency_id'))

    op.drop_table('compensation_cases')
