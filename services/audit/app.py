"""The audit service's HTTP API: the replay report of a case, for the auditors of the agency that holds it."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from services.audit.api import router
from services.audit.deps import Audit
from services.platform.http import docs, headers, problems
from services.platform.http.body_limit import BodyLimit


def create_app(audit: Audit, keys: sessionmaker, max_body_bytes: int) -> FastAPI:
    """``keys``: read sessions of the access module (API keys)."""
    app = FastAPI(docs_url=None, redoc_url=None,  # served locally: docs.install
                  title="CharterWatch audit", version="1",
                  description="Every decision of a case re-derived from the log and compared (JSON or printable HTML).")
    app.state.audit = audit
    app.state.keys = keys
    problems.install(app)
    app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    docs.install(app)
    headers.install(app)
    return app
