"""console: what happened to a case is the agency's that handled it then (security review #4).

A fact now keeps the agency handling the case when it happened (``agency_id``); a fact, a breach and a
voucher keep, once that agency has handed the case to another (Decree 13), the department that last
handled it there (``department``). Until now a transfer moved every breach, voucher, remedy and
evaluation of the case to the receiving agency: the rows written so far are attributed again here, by
folding each transferred case's stored facts (a breach by its due instant, a voucher by when it was
proposed, a remedy by its instant, an evaluation by its fact).

Revision ID: 0003
Revises: 0002
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('console_case_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
    with op.batch_alter_table('console_breaches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
    with op.batch_alter_table('console_vouchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
    _attribute(op.get_bind())
    with op.batch_alter_table('console_case_facts', schema=None) as batch_op:
        batch_op.alter_column('agency_id', existing_type=sa.String(length=64), nullable=False)
    op.create_index('ix_console_case_facts_agency_occurred', 'console_case_facts', ['agency_id', 'occurred_at'],
                    unique=False)
    op.create_index('ix_console_breaches_agency_due', 'console_breaches', ['agency_id', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_breaches_agency_due', table_name='console_breaches')
    op.drop_index('ix_console_case_facts_agency_occurred', table_name='console_case_facts')
    with op.batch_alter_table('console_vouchers', schema=None) as batch_op:
        batch_op.drop_column('department')
    with op.batch_alter_table('console_breaches', schema=None) as batch_op:
        batch_op.drop_column('department')
    with op.batch_alter_table('console_case_facts', schema=None) as batch_op:
        batch_op.drop_column('department')
        batch_op.drop_column('agency_id')


def _instant(value: object) -> datetime:
    """A stored instant as an aware datetime (SQLite hands back text or naive UTC)."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def _attribute(bind: sa.engine.Connection) -> None:
    # Every fact of a case never transferred to another agency is its agency's.
    bind.execute(sa.text(
        "UPDATE console_case_facts SET agency_id = (SELECT c.agency_id FROM console_cases c "
        "WHERE c.case_id = console_case_facts.case_id)"))
    bind.execute(sa.text("UPDATE console_case_facts SET agency_id = '' WHERE agency_id IS NULL"))  # no case: none's
    moved = sorted({case_id for case_id, envelope in bind.execute(sa.text(
        "SELECT case_id, envelope FROM console_case_facts WHERE event_type = 'PetitionTransferred'"))
        if json.loads(envelope).get("payload", {}).get("scope") == "other_agency"})
    for case_id in moved:
        _attribute_case(bind, case_id)


def _attribute_case(bind: sa.engine.Connection, case_id: str) -> None:
    facts = bind.execute(sa.text(
        "SELECT version, event_id, event_type, occurred_at, envelope FROM console_case_facts "
        "WHERE case_id = :c ORDER BY version"), {"c": case_id}).all()
    agency, department = "", None
    acting: dict[int, str] = {}  # version -> the agency handling the case when the fact happened
    after: list[tuple[datetime, str]] = []  # (instant, the agency handling the case after the fact)
    by_event: dict[str, str] = {}
    last_department: dict[str, str | None] = {}  # an agency that handed the case on -> its last department
    for version, event_id, event_type, occurred_at, envelope in facts:
        p = json.loads(envelope).get("payload", {})
        if event_type == "PetitionReceived" and not agency:
            agency = str(p.get("agency_id") or "")
        acting[version] = agency
        by_event[event_id] = agency
        if event_type == "OfficialAssigned":
            department = (p.get("official") or {}).get("department") or department
        elif event_type == "PetitionTransferred" and p.get("scope") == "other_agency" and p.get("to_agency_id"):
            last_department[agency] = department
            agency, department = str(p["to_agency_id"]), None
        elif event_type == "PetitionTransferred":
            department = p.get("to_department") or department
        after.append((_instant(occurred_at), agency))

    def stamp(of: str) -> str | None:
        return last_department.get(of) if of != agency else None  # ``agency``: the one handling it now

    def handling(at: object) -> str:
        when, found = _instant(at), (after[0][1] if after else agency)
        for instant, who in after:
            if instant <= when:
                found = who
        return found

    for version, who in acting.items():
        bind.execute(sa.text("UPDATE console_case_facts SET agency_id = :a, department = :d "
                             "WHERE case_id = :c AND version = :v"),
                     {"a": who, "d": stamp(who), "c": case_id, "v": version})
    for table, key, instant in (("console_breaches", "event_id", "due_at"), ("console_vouchers", "voucher_id",
                                                                              "proposed_at")):
        for row_id, at in bind.execute(sa.text(f"SELECT {key}, {instant} FROM {table} WHERE case_id = :c"),
                                       {"c": case_id}).all():
            who = handling(at)
            bind.execute(sa.text(f"UPDATE {table} SET agency_id = :a, department = :d WHERE {key} = :k"),
                         {"a": who, "d": stamp(who), "k": row_id})
    for event_id, at in bind.execute(sa.text("SELECT event_id, at FROM console_remedies WHERE case_id = :c"),
                                     {"c": case_id}).all():
        bind.execute(sa.text("UPDATE console_remedies SET agency_id = :a WHERE event_id = :e"),
                     {"a": by_event.get(event_id) or handling(at), "e": event_id})
    for event_id, at in bind.execute(sa.text("SELECT event_id, at FROM console_evaluations WHERE case_id = :c"),
                                     {"c": case_id}).all():
        bind.execute(sa.text("UPDATE console_evaluations SET agency_id = :a WHERE event_id = :e"),
                     {"a": by_event.get(event_id) or handling(at), "e": event_id})
