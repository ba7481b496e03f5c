"""Alembic environment of sla_monitor's own tables."""
from __future__ import annotations

from services.platform.db.alembic_env import run
from services.sla_monitor.schema import Base

run(Base.metadata, "alembic_version_sla_monitor")
