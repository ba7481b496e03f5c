"""The compensation FastAPI application, built from what the composition root hands it (nothing at import)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from services.compensation.api.deps import Compensation
from services.compensation.api.routes import router
from services.compensation.ledger.book import TransitionRefused
from services.platform.http import docs, headers, problems
from services.platform.http.body_limit import BodyLimit


def create_app(compensation: Compensation, keys: sessionmaker, max_body_bytes: int) -> FastAPI:
    """``keys``: read sessions of the access module (API keys)."""
    app = FastAPI(docs_url=None, redoc_url=None,  # served locally: docs.install
                  title="CharterWatch compensation", version="1",
                  description="Vouchers, apologies, retraining and referrals (시정 및 보상조치), decided under each charter.")
    app.state.compensation = compensation
    app.state.keys = keys
    problems.install(app)

    @app.exception_handler(TransitionRefused)
    async def _refused(_: Request, exc: TransitionRefused) -> JSONResponse:
        body = {"type": "/problems/voucher-transition", "title": "Transition refused", "status": 409,
                "detail": exc.detail, "rule": exc.rule, "field": "status",
                "errors": [{"field": "status", "message": exc.detail}]}
        return JSONResponse(body, status_code=409, media_type=problems.PROBLEM_JSON)

    app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    docs.install(app)
    headers.install(app)
    return app
