"""Duplicate links only within the agency that filed the petition

Earlier releases linked a petition to a similar one filed with another agency, naming that
agency's case (issue 16, finding 3). Those links are cleared; the projection now links only within
the agency, and a single case's read tells where else a similar petition exists, by municipality.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE petitions SET duplicate_of = NULL WHERE duplicate_of IS NOT NULL AND duplicate_of NOT IN "
               "(SELECT other.case_id FROM petitions other WHERE other.agency_id = petitions.agency_id)")


def downgrade() -> None:
    pass  # the links named other agencies' cases: not restored
