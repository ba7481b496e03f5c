"""What every service's Alembic ``env.py`` runs: the connection, version table and schema come from
the caller (``services.platform.db.engine.migrate``); ``metadata`` is the service's own."""
from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, create_engine


def run(metadata: MetaData | None, default_version_table: str) -> None:
    config = context.config
    version_table = config.attributes.get("version_table", default_version_table)
    schema = config.attributes.get("schema")
    options = dict(target_metadata=metadata, render_as_batch=True, version_table=version_table,
                   version_table_schema=schema)
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line: its own engine
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            context.configure(connection=conn, **options)
            context.run_migrations()
        return
    context.configure(connection=connection, **options)
    context.run_migrations()
