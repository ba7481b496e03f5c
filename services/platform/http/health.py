"""/healthz, /readyz and /metrics: the same three paths, with the same readiness check, on every process.

Liveness (``/healthz``) says only that the process answers: a peer that is down must not get a healthy
process restarted. Readiness (``/readyz``) is 503 problem+json while a probe fails (the process's
database, the log) or a supervised loop is down (failed, waiting for its restart); the orchestrator then
sends it no traffic. ``/metrics`` serves the process's one registry, which every part running in it
writes to.

An app gets a default ``Health`` (its own database and the log) when it is built; the process that runs
it swaps in its own (``app.state.health``): one registry, every probe, the supervisor's loops.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from services.platform.http.problems import problem

Loops = Callable[[], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Probe:
    """A peer the process cannot work without; ``check`` raises while it does not answer."""

    name: str
    check: Callable[[], object]


@dataclass
class Health:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    probes: list[Probe] = field(default_factory=list)
    loops: Loops | None = None  # the supervisor's status: {loop: {"up": bool, "restarts": n, "last_error": ...}}
    detail: Callable[[], dict[str, object]] | None = None  # more to show when ready (consumers' parked cases)

    def add(self, probes: Iterable[Probe]) -> Health:
        """Adds the probes not already held (by name): several apps in one process share their peers."""
        for probe in probes:
            if all(p.name != probe.name for p in self.probes):
                self.probes.append(probe)
        return self

    def problems(self) -> dict[str, str]:
        """What keeps the process from being ready: ``{probe or loop: why}``; empty when ready."""
        out: dict[str, str] = {}
        for probe in self.probes:
            try:
                probe.check()
            except Exception as exc:  # any failure means not ready: reported by its type, never its text
                out[probe.name] = type(exc).__name__
        for name, status in (self.loops() if self.loops else {}).items():
            if status.get("up") is False:
                out[f"loop {name}"] = str(status.get("last_error") or "down").split(":")[0]
        return out


def database_probe(name: str, engine: Any) -> Probe:
    """``SELECT 1`` on a SQLAlchemy engine."""
    from sqlalchemy import text

    def check() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return Probe(name, check)


def log_probe(log: Any, topic: str) -> Probe:
    """The log answers for one of the process's topics (its partitions are known)."""
    return Probe("log", lambda: log.partitions(topic))


def router(documented: bool = False) -> APIRouter:
    """The three paths; ``documented``: listed in the app's OpenAPI (intake lists them under operations)."""
    r = APIRouter(tags=["operations"], include_in_schema=documented)

    @r.get("/healthz", summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @r.get("/readyz", summary="The log and the database answer and every loop runs (503 problem+json otherwise)")
    def readyz(request: Request) -> Response:
        health: Health = request.app.state.health
        problems = health.problems()
        if problems:
            named = ", ".join(f"{k} ({v})" for k, v in sorted(problems.items()))
            return problem(503, "Not ready", f"not ready: {named}", headers={"Retry-After": "5"})
        extra = health.detail() if health.detail is not None else {}
        loops = health.loops() if health.loops else {}
        return JSONResponse({"status": "ready", **({"loops": loops} if loops else {}), **extra})

    @r.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        health: Health = request.app.state.health
        return Response(generate_latest(health.registry), media_type=CONTENT_TYPE_LATEST)

    return r


def install(app: FastAPI, health: Health, documented: bool = False) -> FastAPI:
    """Serve the three paths on ``app`` with ``health`` (replace ``app.state.health`` to share a process's)."""
    app.state.health = health
    app.include_router(router(documented))
    return app


def metrics_app(health: Health) -> FastAPI:
    """The three paths alone: for a process without an API of its own (project, sla-monitor)."""
    return install(FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="CharterWatch metrics"), health)
