"""console: a session's flash, the message its next page shows once after an action succeeded (security
review #6: a success message is the server's own words, never a link's query echoed).

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
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flash', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_column('flash')
