"""console: accounts, sessions and the console's consumer-runtime tables (it has no outbox: it
writes nothing to the log itself; its writes go through the other services' APIs).

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import create_runtime, table_exists

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not table_exists('console_users'):
        op.create_table('console_users',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('official_id', sa.String(length=64), nullable=True),
        sa.Column('department', sa.String(length=100), nullable=True),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
        sa.UniqueConstraint('username')
        )
        with op.batch_alter_table('console_users', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_console_users_agency_id'), ['agency_id'], unique=False)
    if not table_exists('console_sessions'):
        op.create_table('console_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token_hash')
        )
        with op.batch_alter_table('console_sessions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_console_sessions_user_id'), ['user_id'], unique=False)
    create_runtime('console')


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_user_id'))
    op.drop_table('console_sessions')
    with op.batch_alter_table('console_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_users_agency_id'))
    op.drop_table('console_users')
    op.drop_table('console_consumer_positions')
    with op.batch_alter_table('console_consumer_held_events', schema=None) as batch_op:
        batch_op.drop_index('ix_console_held_consumer_case')
    op.drop_table('console_consumer_held_events')
