"""The intake FastAPI application, built from what the composition root hands it (nothing at import)."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from services.intake.api import bulk
from services.intake.api.deps import Intake
from services.intake.api.routes import router
from services.intake.metrics import MetricsMiddleware
from services.platform.http import docs, headers, problems
from services.platform.http.body_limit import BodyLimit
from services.platform.http.health import Health, database_probe, install, log_probe
from services.platform.http.key_cache import KeyCache


def create_app(intake: Intake, keys: sessionmaker, max_body_bytes: int) -> FastAPI:
    """``keys``: read sessions of the access module (API keys)."""
    app = FastAPI(
        docs_url=None, redoc_url=None,  # served locally: docs.install
        title="CharterWatch intake",
        version="1",
        description="Petitions (민원) filed by integrating government systems; every change is an event on the log.",
    )
    app.state.intake = intake
    app.state.keys = keys
    app.state.metrics = intake.metrics
    # Requests publish what they committed; the relay loop (`charterwatch intake`, `up`) sends what a
    # crash or a down log left behind.
    app.state.outbox = intake.outbox
    problems.install(app, openapi_extra=lambda spec: _municipalities(spec, intake.rules.charters.ids()))
    app.include_router(router)
    app.include_router(bulk.router)
    app.state.key_cache = KeyCache()  # every command is authenticated: a key is looked up once per TTL
    # /healthz, /readyz, /metrics (listed under operations); the process running it shares its own Health
    probes = [database_probe("database:intake", intake.db.engine), database_probe("database:access", keys.kw["bind"]),
              log_probe(intake.log, intake.petition_topic)]
    install(app, Health(intake.metrics.registry, probes), documented=True)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, by_path={bulk.PATH: intake.bulk_max_bytes})
    app.add_middleware(MetricsMiddleware, metrics=intake.metrics)
    docs.install(app)
    headers.install(app)
    return app


def _municipalities(spec: dict[str, Any], known: list[str]) -> None:
    """The municipalities whose charters are loaded, as the enum of ``municipality_id``: a client
    learns from the spec which ones exist instead of from a 422."""
    schema = spec.get("components", {}).get("schemas", {}).get("PetitionIn", {})
    field = schema.get("properties", {}).get("municipality_id")
    if field is not None:
        field["enum"] = sorted(known)
