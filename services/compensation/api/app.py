"""The compensation FastAPI application, built around a container (nothing at import)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.bootstrap import Container
from services.compensation.api.routes import router
from services.compensation.ledger.book import Ledger, TransitionRefused
from services.platform.http import problems
from services.platform.http.body_limit import BodyLimit
from services.platform.outbox.publisher import Outbox


def create_app(container: Container, outbox: Outbox | None = None) -> FastAPI:
    """``outbox``: the process's outbox for compensation, shared with its worker and relay."""
    app = FastAPI(title="CharterWatch compensation", version="1",
                  description="Vouchers, apologies, retraining and referrals (시정 및 보상조치), decided under each charter.")
    app.state.container = container
    app.state.ledger = Ledger(container.charters, container.calendar)
    app.state.outbox = outbox or Outbox(container.log, container.topics.compensation_events, container.sessions,
                                        "compensation")
    problems.install(app)

    @app.exception_handler(TransitionRefused)
    async def _refused(_: Request, exc: TransitionRefused) -> JSONResponse:
        body = {"type": "/problems/voucher-transition", "title": "Transition refused", "status": 409,
                "detail": exc.detail, "rule": exc.rule, "field": "status",
                "errors": [{"field": "status", "message": exc.detail}]}
        return JSONResponse(body, status_code=409, media_type=problems.PROBLEM_JSON)

    app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    return app
