"""Alembic environment of notify's own tables."""
from __future__ import annotations

import services.notify.store.orm  # noqa: F401  (registers the tables)
from services.notify.schema import Base
from services.platform.db.alembic_env import run

run(Base.metadata, "alembic_version_notify")
