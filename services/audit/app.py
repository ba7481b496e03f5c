"""The audit service's HTTP API: the replay report of a case, for the auditors of the agency that holds it."""
from __future__ import annotations

from fastapi import FastAPI

from services.audit.api import router
from services.bootstrap import Container
from services.platform.http import problems
from services.platform.http.body_limit import BodyLimit


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="CharterWatch audit", version="1",
                  description="Every decision of a case re-derived from the log and compared (JSON or printable HTML).")
    app.state.container = container
    problems.install(app)
    app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    return app
