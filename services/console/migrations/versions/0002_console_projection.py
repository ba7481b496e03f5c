"""console: the projection of the log the pages and statistics read (cases, obligations, breaches,
notices, vouchers, remedies, evaluations, the petition facts it folds again, the events it saw), and
the yearly satisfaction reports' publications.

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
    op.create_table('console_breaches',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('obligation_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index(op.f('ix_console_breaches_case_id'), 'console_breaches', ['case_id'], unique=False)
    op.create_table('console_case_facts',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('envelope', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'version'),
    sa.UniqueConstraint('event_id')
    )
    op.create_table('console_cases',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('municipality_id', sa.String(length=64), nullable=False),
    sa.Column('charter_id', sa.String(length=64), nullable=True),
    sa.Column('charter_version', sa.String(length=32), nullable=True),
    sa.Column('petition_type', sa.String(length=32), nullable=False),
    sa.Column('petition_kind', sa.String(length=120), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('official_id', sa.String(length=64), nullable=True),
    sa.Column('official_name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('statutory_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('statutory_period', sa.String(length=8), nullable=True),
    sa.Column('counting', sa.String(length=16), nullable=True),
    sa.Column('target_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused', sa.String(length=32), nullable=True),
    sa.Column('remaining_working_seconds', sa.Integer(), nullable=True),
    sa.Column('remaining_working_days', sa.Integer(), nullable=True),
    sa.Column('processing_working_seconds', sa.Integer(), nullable=True),
    sa.Column('extensions', sa.Integer(), nullable=False),
    sa.Column('pauses', sa.Integer(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.Column('statutory_breached', sa.Boolean(), nullable=False),
    sa.Column('target_missed', sa.Boolean(), nullable=False),
    sa.Column('evaluation_score', sa.Integer(), nullable=True),
    sa.Column('evaluation_comment', sa.Text(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.create_index(op.f('ix_console_cases_agency_id'), 'console_cases', ['agency_id'], unique=False)
    op.create_index('ix_console_cases_agency_received', 'console_cases', ['agency_id', 'received_at'], unique=False)
    op.create_index('ix_console_cases_agency_resolved', 'console_cases', ['agency_id', 'resolved_at'], unique=False)
    op.create_index('ix_console_cases_agency_status', 'console_cases', ['agency_id', 'status'], unique=False)
    op.create_table('console_evaluations',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('municipality_id', sa.String(length=64), nullable=False),
    sa.Column('petition_type', sa.String(length=32), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('official_id', sa.String(length=64), nullable=True),
    sa.Column('official_name', sa.String(length=100), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index(op.f('ix_console_evaluations_agency_id'), 'console_evaluations', ['agency_id'], unique=False)
    op.create_index(op.f('ix_console_evaluations_case_id'), 'console_evaluations', ['case_id'], unique=False)
    op.create_table('console_notices',
    sa.Column('notice_id', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('template_version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('notice_id')
    )
    op.create_index(op.f('ix_console_notices_case_id'), 'console_notices', ['case_id'], unique=False)
    op.create_table('console_obligations',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('obligation_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('citizen_facing', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('remaining_working_seconds', sa.Integer(), nullable=True),
    sa.Column('remaining_working_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'obligation_id')
    )
    op.create_table('console_remedies',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=True),
    sa.Column('official_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index(op.f('ix_console_remedies_agency_id'), 'console_remedies', ['agency_id'], unique=False)
    op.create_index(op.f('ix_console_remedies_case_id'), 'console_remedies', ['case_id'], unique=False)
    op.create_table('console_report_publications',
    sa.Column('municipality_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('municipality_id', 'year', 'agency_id')
    )
    op.create_table('console_seen_events',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('console_vouchers',
    sa.Column('voucher_id', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('cause', sa.String(length=32), nullable=False),
    sa.Column('amount_won', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('official_id', sa.String(length=64), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('voucher_id')
    )
    op.create_index(op.f('ix_console_vouchers_agency_id'), 'console_vouchers', ['agency_id'], unique=False)
    op.create_index(op.f('ix_console_vouchers_case_id'), 'console_vouchers', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_console_vouchers_case_id'), table_name='console_vouchers')
    op.drop_index(op.f('ix_console_vouchers_agency_id'), table_name='console_vouchers')
    op.drop_table('console_vouchers')
    op.drop_table('console_seen_events')
    op.drop_table('console_report_publications')
    op.drop_index(op.f('ix_console_remedies_case_id'), table_name='console_remedies')
    op.drop_index(op.f('ix_console_remedies_agency_id'), table_name='console_remedies')
    op.drop_table('console_remedies')
    op.drop_table('console_obligations')
    op.drop_index(op.f('ix_console_notices_case_id'), table_name='console_notices')
    op.drop_table('console_notices')
    op.drop_index(op.f('ix_console_evaluations_case_id'), table_name='console_evaluations')
    op.drop_index(op.f('ix_console_evaluations_agency_id'), table_name='console_evaluations')
    op.drop_table('console_evaluations')
    op.drop_index('ix_console_cases_agency_status', table_name='console_cases')
    op.drop_index('ix_console_cases_agency_resolved', table_name='console_cases')
    op.drop_index('ix_console_cases_agency_received', table_name='console_cases')
    op.drop_index(op.f('ix_console_cases_agency_id'), table_name='console_cases')
    op.drop_table('console_cases')
    op.drop_table('console_case_facts')
    op.drop_index(op.f('ix_console_breaches_case_id'), table_name='console_breaches')
    op.drop_table('console_breaches')
