"""Alembic environment of the vault's own table."""
from __future__ import annotations

from services.platform.db.alembic_env import run
from services.platform.vault.schema import Base

run(Base.metadata, "alembic_version_vault")
