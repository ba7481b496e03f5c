"""Alembic environment of intake's own tables."""
from __future__ import annotations

import services.intake.readmodel.orm
import services.intake.store.orm  # noqa: F401
from services.intake.schema import Base
from services.platform.db.alembic_env import run

run(Base.metadata, "alembic_version_intake")
