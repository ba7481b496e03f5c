"""strikes and the official's lock per (agency, official): an official is known only within an agency

Officials are named by their agency's own ids, so one id may be two people in two agencies: a strike
counted under the id alone let agency B's findings push agency A's official to a referral. ``strikes``
gains ``agency_id`` (the case's agency), filled for existing rows from ``compensation_cases`` (a strike
of a case compensation never received, which the worker does not let happen, is left with the agency
'' : it then counts for no agency and is shown to none). ``official_locks`` is keyed by
(agency_id, official_id); its rows are only what the lock is taken on, recreated on demand, and kept
for each agency that has strikes of the official.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    bind.execute(text("UPDATE strikes SET agency_id = (SELECT c.agency_id FROM compensation_cases c "
                      "WHERE c.case_id = strikes.case_id)"))
    bind.execute(text("UPDATE strikes SET agency_id = '' WHERE agency_id IS NULL"))
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.alter_column('agency_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index('ix_strikes_official_id')
        batch_op.create_index('ix_strikes_agency_official', ['agency_id', 'official_id'], unique=False)

    locks = bind.execute(text("SELECT DISTINCT s.agency_id, s.official_id FROM strikes s "
                              "WHERE s.official_id IN (SELECT l.official_id FROM official_locks l) "
                              "ORDER BY s.agency_id, s.official_id")).all()
    op.drop_table('official_locks')
    table = op.create_table('official_locks',
                            sa.Column('agency_id', sa.String(length=64), nullable=False),
                            sa.Column('official_id', sa.String(length=64), nullable=False),
                            sa.PrimaryKeyConstraint('agency_id', 'official_id'))
    if locks:
        op.bulk_insert(table, [{"agency_id": a, "official_id": o} for a, o in locks])


def downgrade() -> None:
    bind = op.get_bind()
    officials = bind.execute(text("SELECT DISTINCT official_id FROM official_locks ORDER BY official_id")).scalars().all()
    op.drop_table('official_locks')
    table = op.create_table('official_locks',
                            sa.Column('official_id', sa.String(length=64), nullable=False),
                            sa.PrimaryKeyConstraint('official_id'))
    if officials:
        op.bulk_insert(table, [{"official_id": o} for o in officials])
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index('ix_strikes_agency_official')
        batch_op.create_index(batch_op.f('ix_strikes_official_id'), ['official_id'], unique=False)
        batch_op.drop_column('agency_id')
