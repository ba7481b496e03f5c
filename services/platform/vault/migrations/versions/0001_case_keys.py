"""case keys

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_keys',
                    sa.Column('case_id', sa.String(length=64), nullable=False),
                    sa.Column('wrapped', sa.JSON(), nullable=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('erased_because', sa.String(length=200), nullable=True),
                    sa.PrimaryKeyConstraint('case_id'))


def downgrade() -> None:
    op.drop_table('case_keys')
