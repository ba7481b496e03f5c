"""access's tables, created, or adopted from the one-chain schema of before (issue 15)

A database written by that schema already has this service's tables under the same names: they are
kept as they are, with their rows. The rows this service had in the shared outbox and the shared
consumer-runtime tables move to its own.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.platform.db.adopt import table_exists

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not table_exists('api_keys'):
        op.create_table('api_keys',
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('agency_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key_id')
        )
        with op.batch_alter_table('api_keys', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_api_keys_agency_id'), ['agency_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_agency_id'))

    op.drop_table('api_keys')
