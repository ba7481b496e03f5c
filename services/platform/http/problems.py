"""RFC 9457 problem details (application/problem+json), each naming the field at fault."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.platform.http.openapi import document_problems
from services.platform.log.port import LogUnavailable
from shared.bounds import OutOfBounds
from shared.deadline import DeadlineInputError

PROBLEM_JSON = "application/problem+json"


class CommandRejected(ValueError):
    """The command cannot be accepted: ``field`` is what the caller must fix; ``status`` the HTTP answer."""

    def __init__(self, field: str, message: str, status: int = 422, rule: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status
        self.rule = rule


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    kind: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/problems/{kind or status}", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_NAMED = re.compile(r"^Value error, ([A-Za-z_][A-Za-z0-9_.\[\]]*): ")


def _field(loc: tuple[Any, ...], msg: str = "") -> str:
    named = _NAMED.match(msg)
    if named and len([p for p in loc if p not in ("body", "query", "path", "header")]) == 0:
        return named.group(1)  # a model-level check that names its field ("refusal_reasons: ...")
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI, openapi_extra: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Every error as problem+json, and documented so in the app's OpenAPI (``openapi_extra`` may
    refine the spec further)."""
    document_problems(app, openapi_extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            msg = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
            return problem(400, "Malformed JSON", f"the request body is not valid JSON: {msg}".rstrip(": "),
                           [{"field": "body", "message": "not valid JSON"}], kind="malformed-json")
        listed = [{"field": _field(tuple(e["loc"]), e["msg"]), "message": e["msg"]} for e in errors]
        return problem(422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in listed), listed,
                       kind="validation")

    @app.exception_handler(CommandRejected)
    async def _rejected(_: Request, exc: CommandRejected) -> JSONResponse:
        title = {404: "Not found", 409: "Forbidden by the rules", 412: "Precondition failed"}.get(
            exc.status, "Command rejected")
        kind = {404: "not-found", 409: "rule-violation", 412: "stale-version"}.get(exc.status, "validation")
        response = problem(exc.status, title, str(exc), [{"field": exc.field, "message": exc.message}], kind=kind)
        if exc.rule:
            body = json.loads(response.body)
            body["rule"] = exc.rule
            response = JSONResponse(body, status_code=exc.status, media_type=PROBLEM_JSON)
        return response

    @app.exception_handler(OutOfBounds)
    async def _out_of_bounds(_: Request, exc: OutOfBounds) -> JSONResponse:
        return problem(422, "Invalid request", str(exc), [{"field": exc.field, "message": exc.message}],
                       kind="validation")

    @app.exception_handler(DeadlineInputError)
    async def _deadline(_: Request, exc: DeadlineInputError) -> JSONResponse:
        return problem(422, "Cannot count this period", str(exc), [{"field": exc.field, "message": exc.message}],
                       kind="validation")

    @app.exception_handler(LogUnavailable)
    async def _unavailable(_: Request, exc: LogUnavailable) -> JSONResponse:
        # Nothing was recorded: the caller must retry, never assume success.
        return problem(503, "Event log unavailable", "the event was not recorded; retry later", headers={"Retry-After": "5"},
                       kind="log-unavailable")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # the field at fault: the credentials for a 401; for a 404 the id in the path that names nothing
        # (the same for a foreign id as for a missing one)
        field = {401: "Authorization", 400: "body"}.get(exc.status_code) or (
            next(iter(request.path_params), None) if exc.status_code in (404, 410) else None)
        errors = [{"field": field, "message": str(exc.detail)}] if field else None
        return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found", str(exc.detail),
                       errors, headers=getattr(exc, "headers", None))
