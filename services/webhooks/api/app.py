"""The webhooks FastAPI application, built from what the composition root hands it (nothing at import)."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker

from services.platform.http import docs, headers, problems
from services.platform.http.body_limit import BodyLimit
from services.webhooks.api.deps import Webhooks
from services.webhooks.api.routes import router


def create_app(webhooks: Webhooks, keys: sessionmaker, max_body_bytes: int) -> FastAPI:
    """``keys``: read sessions of the access module (API keys)."""
    app = FastAPI(docs_url=None, redoc_url=None,  # served locally: docs.install
                  title="CharterWatch webhooks", version="1",
                  description=("Each event of the agency's cases pushed to its URLs as it happens, signed per the "
                               "Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature). "
                               "See docs/webhooks.md: the payload, verifying, retries, ordering, disabling, and "
                               "which targets are refused."))
    app.state.webhooks = webhooks
    app.state.keys = keys
    problems.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    docs.install(app)
    headers.install(app)
    return app
