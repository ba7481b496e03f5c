"""The agency handling a case after a transfer: its officials' strikes count there

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handling_agency', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('compensation_cases', schema=None) as batch_op:
        batch_op.drop_column('handling_agency')
