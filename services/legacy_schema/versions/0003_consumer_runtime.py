"""consumer runtime: positions committed with results, held and parked events

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
    op.create_table('consumer_positions',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'topic', 'partition')
    )
    op.create_table('consumer_held_events',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.String(length=36), nullable=True),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_held_consumer_case', 'consumer_held_events', ['consumer', 'case_id', 'seq'], unique=False)
    # The projection's positions move into the runtime's table: an upgraded read model resumes where it was.
    op.execute("INSERT INTO consumer_positions (consumer, topic, partition, next_offset) "
               "SELECT projection, topic, partition, next_offset FROM projection_positions")
    op.drop_table('projection_positions')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_seq', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('created_at')
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_column('queued_seq')
    op.create_table('projection_positions',
    sa.Column('projection', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('projection', 'topic', 'partition')
    )
    op.drop_index('ix_held_consumer_case', table_name='consumer_held_events')
    op.drop_table('consumer_held_events')
    op.drop_table('consumer_positions')
