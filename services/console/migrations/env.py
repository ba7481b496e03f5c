"""Alembic environment of the console's own tables."""
from __future__ import annotations

import services.console.accounts.orm  # noqa: F401  (registers the tables)
import services.console.projection.orm  # noqa: F401
from services.console.schema import Base
from services.platform.db.alembic_env import run

run(Base.metadata, "alembic_version_console")
