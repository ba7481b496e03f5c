"""Alembic environment: the connection comes from the caller (services.platform.db.engine.migrate)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import services.compensation.ledger.orm  # noqa: F401
import services.intake.readmodel.orm  # noqa: F401  (registers tables)
import services.intake.store.orm  # noqa: F401
import services.notify.store.orm  # noqa: F401
import services.platform.outbox.orm  # noqa: F401
import services.platform.access.orm  # noqa: F401
import services.platform.consumer_orm  # noqa: F401
from services.platform.db.types import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
