"""The official a case is assigned to, whom a voucher for a missed deadline names (issue 19)

Followed for cases filed with a case number (PetitionReceived v2): ``official_id`` is NULL for the
cases of before, whose vouchers named no official, and ``petition_version`` the newest petition fact
read (a breach waits for the facts before it).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('petition_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.drop_column('petition_version')
        batch_op.drop_column('official_id')
