"""Each service's migration chain builds exactly the tables its models declare (no drift between the
ORM and the migrations), on SQLite and on PostgreSQL."""
from __future__ import annotations

import importlib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.bootstrap import CHAINS, migrate
from services.platform.db.engine import make_engine

SCHEMAS = {"access": "services.platform.access.schema", "vault": "services.platform.vault.schema",
           "intake": "services.intake.schema", "sla_monitor": "services.sla_monitor.schema",
           "compensation": "services.compensation.schema", "notify": "services.notify.schema",
           "console": "services.console.schema", "webhooks": "services.webhooks.schema"}
MODELS = ["services.platform.access.orm", "services.intake.readmodel.orm", "services.intake.store.orm",
          "services.compensation.ledger.orm", "services.compensation.strikes.orm", "services.notify.store.orm",
          "services.console.accounts.orm", "services.console.projection.orm", "services.webhooks.orm"]


def test_every_chain_builds_what_its_models_declare(database_url: str, tmp_path: Path) -> None:
    assert set(SCHEMAS) == set(CHAINS)
    for module in MODELS:
        importlib.import_module(module)  # registers the tables on their service's metadata
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            for service, module in SCHEMAS.items():
                metadata = importlib.import_module(module).Base.metadata
                mine = set(metadata.tables)  # other services' tables share the database: not this chain's
                drift = [d for d in compare_metadata(context, metadata) if _table(d) in mine]
                assert drift == [], (service, drift)
    finally:
        engine.dispose()


def _table(diff: object) -> str | None:
    """The table a difference is about (compare_metadata yields tuples, or lists of them for columns)."""
    first = diff[0] if isinstance(diff, list) else diff
    for part in first[1:]:  # type: ignore[index]
        table = getattr(part, "table", None)
        if table is not None:
            return table.name
        if getattr(part, "name", None) is not None and hasattr(part, "columns") and hasattr(part, "schema"):
            return part.name  # a Table itself
        if isinstance(part, str):
            return part  # (op, schema, table, column, ...) for column changes
    return None
