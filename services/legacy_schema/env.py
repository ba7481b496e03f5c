"""Alembic environment of the one-chain schema CharterWatch had before each service owned its tables
(issue 15). Kept only to bring an old database to that chain's last revision before the services'
own chains adopt its tables (``services.legacy_schema.upgrade``)."""
from __future__ import annotations

from services.platform.db.alembic_env import run

run(None, "alembic_version")
