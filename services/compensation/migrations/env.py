"""Alembic environment of compensation's own tables."""
from __future__ import annotations

import services.compensation.ledger.orm  # noqa: F401  (registers the tables)
import services.compensation.strikes.orm  # noqa: F401
from services.compensation.schema import Base
from services.platform.db.alembic_env import run

run(Base.metadata, "alembic_version_compensation")
