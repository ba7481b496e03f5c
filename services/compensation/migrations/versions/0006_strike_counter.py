"""The strike counter (issue 20): strikes re-keyed by official, counted by their own consumer

Its table of strikes by official (``official_strikes``), its consumer-runtime tables, and the
outbox of the findings topic. The strikes the ledger counted before are copied in, withdrawn ones
marked, so an official's next strike is counted after them, as it would have been.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import create_runtime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('official_strikes',
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('agency_id', sa.String(length=64), nullable=False),
                    sa.Column('official_id', sa.String(length=64), nullable=False),
                    sa.Column('case_id', sa.String(length=64), nullable=False),
                    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('case_version', sa.Integer(), nullable=False),
                    sa.Column('charter_id', sa.String(length=64), nullable=True),
                    sa.Column('charter_version', sa.String(length=32), nullable=True),
                    sa.PrimaryKeyConstraint('event_id'))
    with op.batch_alter_table('official_strikes', schema=None) as batch_op:
        batch_op.create_index('ix_official_strikes_agency_official', ['agency_id', 'official_id', 'confirmed_at'],
                              unique=False)
    # the case's charter; its version in the case's stream was not kept (0)
    op.execute("INSERT INTO official_strikes (event_id, agency_id, official_id, case_id, confirmed_at, withdrawn_at, "
               "case_version, charter_id, charter_version) "
               "SELECT s.event_id, s.agency_id, s.official_id, s.case_id, s.confirmed_at, s.withdrawn_at, 0, "
               "c.charter_id, c.charter_version FROM strikes s LEFT JOIN compensation_cases c ON c.case_id = s.case_id")
    op.create_table('compensation_findings_outbox',
                    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('case_id', sa.String(length=200), nullable=False),
                    sa.Column('value', sa.LargeBinary(), nullable=False),
                    sa.Column('published', sa.Boolean(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('seq'),
                    sa.UniqueConstraint('event_id'))
    with op.batch_alter_table('compensation_findings_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_compensation_findings_outbox_unpublished', ['published', 'seq'], unique=False)
    create_runtime('strike_counter')


def downgrade() -> None:
    op.drop_table('strike_counter_consumer_positions')
    with op.batch_alter_table('strike_counter_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_strike_counter_held_consumer_case')
    op.drop_table('strike_counter_consumer_held_events')
    with op.batch_alter_table('compensation_findings_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_compensation_findings_outbox_unpublished')
    op.drop_table('compensation_findings_outbox')
    with op.batch_alter_table('official_strikes', schema=None) as batch_op:
        batch_op.drop_index('ix_official_strikes_agency_official')
    op.drop_table('official_strikes')
