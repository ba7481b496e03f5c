"""console: a case's receipt number (접수번호) and case number (민원번호), shown and searched (issue 19).

PetitionReceived v2 carries both (the receipt number may also come with the formal receipt,
ReceiptRecorded). The cases projected before this revision get them from their stored facts, which keep
both (``projection.handler.scrub`` removes only the applicant's data); a case filed before numbers existed
keeps neither.

Revision ID: 0005
Revises: 0004
"""
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('console_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('case_number', sa.String(length=80), nullable=True))
    op.create_index('ix_console_cases_agency_case_number', 'console_cases', ['agency_id', 'case_number'],
                    unique=False)
    op.create_index('ix_console_cases_agency_receipt_number', 'console_cases', ['agency_id', 'receipt_number'],
                    unique=False)
    _number(op.get_bind())


def _number(conn: Any) -> None:
    """Fold the numbers as ``shared.petition_case`` does: the filing gives both, a formal receipt that names a
    receipt number replaces the one before."""
    numbers: dict[str, tuple[str | None, str | None]] = {}
    facts = conn.execute(sa.text(
        "SELECT case_id, event_type, envelope FROM console_case_facts "
        "WHERE event_type IN ('PetitionReceived', 'ReceiptRecorded') ORDER BY case_id, version"))
    for case_id, event_type, envelope in facts:
        payload = json.loads(envelope).get("payload") or {}
        receipt, case_number = numbers.get(case_id, (None, None))
        if event_type == "PetitionReceived":
            receipt, case_number = payload.get("receipt_number"), payload.get("case_number")
        else:
            receipt = payload.get("receipt_number") or receipt
        numbers[case_id] = (receipt, case_number)
    update = sa.text("UPDATE console_cases SET receipt_number = :r, case_number = :n WHERE case_id = :c")
    rows = [{"c": c, "r": r, "n": n} for c, (r, n) in numbers.items() if r is not None or n is not None]
    if rows:
        conn.execute(update, rows)


def downgrade() -> None:
    op.drop_index('ix_console_cases_agency_receipt_number', 'console_cases')
    op.drop_index('ix_console_cases_agency_case_number', 'console_cases')
    with op.batch_alter_table('console_cases', schema=None) as batch_op:
        batch_op.drop_column('case_number')
        batch_op.drop_column('receipt_number')
