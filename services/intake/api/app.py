"""The intake FastAPI application, built around a container (no globals, nothing at import)."""
from __future__ import annotations

from fastapi import FastAPI

from services.bootstrap import Container
from services.platform.http import problems
from services.platform.http.body_limit import BodyLimit
from services.intake.api.routes import router
from services.intake.commands import PRODUCER
from services.platform.outbox.publisher import Outbox, OutboxMetrics
from services.intake.metrics import IntakeMetrics, MetricsMiddleware


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="CharterWatch intake",
        version="1",
        description="Petitions (민원) filed by integrating government systems; every change is an event on the log.",
    )
    app.state.container = container
    app.state.metrics = IntakeMetrics()
    # One outbox per app: requests publish what they committed; the relay loop (`charterwatch intake`,
    # `up`) sends what a crash or a down log left behind.
    app.state.outbox = Outbox(container.log, container.topics.petition_events, container.sessions, PRODUCER,
                              metrics=OutboxMetrics(app.state.metrics.registry))
    problems.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
