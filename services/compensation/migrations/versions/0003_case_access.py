"""Who may see a case's remedies: the filing agency and any it was transferred to

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
    op.create_table('compensation_case_access',
                    sa.Column('case_id', sa.String(length=64), nullable=False),
                    sa.Column('agency_id', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('case_id', 'agency_id'))
    # the filing agency of every case known; transfers read before this release are not recorded here
    op.execute("INSERT INTO compensation_case_access (case_id, agency_id) "
               "SELECT case_id, agency_id FROM compensation_cases")


def downgrade() -> None:
    op.drop_table('compensation_case_access')
