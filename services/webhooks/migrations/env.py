"""Alembic environment of webhooks' own tables."""
from __future__ import annotations

import services.webhooks.orm  # noqa: F401  (registers the tables)
from services.platform.db.alembic_env import run
from services.webhooks.schema import Base

run(Base.metadata, "alembic_version_webhooks")
