"""Case and receipt numbers, and the notices sent about each case (issue 19)

Intake gives each new case a short number (municipality, year of receipt in KST, sequence) from a
sequence per (municipality, year) kept in ``case_number_sequences``, and records each number given in
``case_numbers`` (unique). The read model keeps the case and receipt numbers (searchable) and the notices
notify sent (``petition_notices``), which discharge a case's notice clocks. Cases filed before keep no
number: they are still called by their case id.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_number_sequences',
        sa.Column('municipality_id', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('municipality_id', 'year'))
    op.create_table('case_numbers',
        sa.Column('case_number', sa.String(length=80), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('municipality_id', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('case_number'),
        sa.UniqueConstraint('case_id'),
        sa.UniqueConstraint('municipality_id', 'year', 'sequence', name='uq_case_numbers_sequence'))
    op.create_table('petition_notices',
        sa.Column('notice_id', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('envelope', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('notice_id'),
        sa.UniqueConstraint('event_id'))
    op.create_index('ix_petition_notices_case_id', 'petition_notices', ['case_id'])
    with op.batch_alter_table('petitions') as batch:
        batch.add_column(sa.Column('case_number', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('receipt_number', sa.String(length=64), nullable=True))
    op.create_index('ix_petitions_case_number', 'petitions', ['case_number'])
    op.create_index('ix_petitions_receipt_number', 'petitions', ['receipt_number'])


def downgrade() -> None:
    op.drop_index('ix_petitions_receipt_number', 'petitions')
    op.drop_index('ix_petitions_case_number', 'petitions')
    with op.batch_alter_table('petitions') as batch:
        batch.drop_column('receipt_number')
        batch.drop_column('case_number')
    op.drop_index('ix_petition_notices_case_id', 'petition_notices')
    op.drop_table('petition_notices')
    op.drop_table('case_numbers')
    op.drop_table('case_number_sequences')
