"""delivery errors classified, and the provider texts of earlier releases withheld

``notice_deliveries`` gains the classified error (class, provider, code, retryable); ``last_error``
becomes the class's fixed description. Before, ``last_error`` held the provider's own text, which may
echo the recipient's address or number: existing rows are rewritten as the v1 -> v2 upcaster of
NoticeFailed reads them (only notify's own fixed texts survive), and NoticeFailed v1 events still
waiting in the outbox are rewritten as v2 before they reach the log, which keeps them forever.

Revision ID: 0002
Revises: 0001
"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

from shared.events import decode, encode
from shared.events.notice import classify_v1_reason

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_class', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('error_provider', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('error_retryable', sa.Boolean(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(text("SELECT notice_id, last_error FROM notice_deliveries WHERE last_error IS NOT NULL")).all()
    for notice_id, last_error in rows:
        c = classify_v1_reason(last_error)
        bind.execute(text("UPDATE notice_deliveries SET last_error = :reason, error_class = :error_class, "
                          "error_provider = :provider, error_code = :code, error_retryable = :retryable "
                          "WHERE notice_id = :id"), {**c, "id": notice_id})
    pending = bind.execute(text("SELECT seq, value FROM notify_outbox WHERE published = :f"), {"f": False}).all()
    for seq, value in pending:
        raw = bytes(value)
        data = json.loads(raw)
        if (data.get("event_type"), data.get("schema_version")) != ("NoticeFailed", 1):
            continue
        bind.execute(text("UPDATE notify_outbox SET value = :v WHERE seq = :s"),
                     {"v": encode(decode(raw)), "s": seq})  # decoding upcasts to v2: the same event id


def downgrade() -> None:
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_column('error_retryable')
        batch_op.drop_column('error_code')
        batch_op.drop_column('error_provider')
        batch_op.drop_column('error_class')
