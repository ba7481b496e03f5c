"""Alembic environment of access's own tables."""
from __future__ import annotations

import services.platform.access.orm  # noqa: F401  (registers the table)
from services.platform.access.schema import Base
from services.platform.db.alembic_env import run

run(Base.metadata, "alembic_version_access")
