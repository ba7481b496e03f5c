"""Every API documents its error answers: each operation lists the 4xx (and the intake's 503) it can
give, all as application/problem+json (RFC 9457) with one Problem schema (an answer an operation declares
itself, in its own words, gets the same body), replacing FastAPI's default 422 body, which these APIs
never send. The spec is then complete enough for a client generator, and schemathesis checks every answer
against it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI reference naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "the first field at fault"},
        "rule": {"type": "string", "description": "the rule that forbids it (a law article or a charter promise)"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                                              "properties": {"field": {"type": "string"},
                                                             "message": {"type": "string"}}}},
    },
}
ANSWERS = {
    "400": "Malformed: a body that is not JSON, a bad cursor or If-Match",
    "401": "No valid API key (Authorization: Bearer cw_<key id>.<secret>)",
    "404": "No such resource for this agency (another agency's is indistinguishable from a missing one)",
    "409": "The rules forbid it now (the problem names the rule)",
    "412": "If-Match names a version the case has moved past",
    "413": "The body is larger than the limit",
    "422": "A field is invalid (the problem names it)",
    "503": "The event log did not take it; nothing was recorded; retry (Retry-After)",
}
WRITES = ("post", "put", "patch", "delete")


def _answers(method: str, operation: dict[str, Any]) -> list[str]:
    authenticated = bool(operation.get("security")) or any(
        p.get("in") == "header" and p.get("name", "").lower() == "authorization" for p in operation.get("parameters", []))
    codes = ["400", "404", "413", "422"] + (["401"] if authenticated else [])
    return codes + (["409", "412", "503"] if method in WRITES else [])


def document_problems(app: FastAPI, extra: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Wrap ``app.openapi`` so the generated spec lists every error answer; ``extra`` may refine it
    further (e.g. intake's enum of municipalities, known only once its charters are loaded)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for schemas in ("HTTPValidationError", "ValidationError"):
            spec["components"]["schemas"].pop(schemas, None)
        problem = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for item in spec.get("paths", {}).values():
            for method, operation in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                responses = operation.setdefault("responses", {})
                for code in _answers(method, operation):
                    described = responses.get(code, {}).get("description")
                    responses[code] = {"description": described or ANSWERS[code], **problem}
                for code, answer in responses.items():  # answers only some operations give (410, 415...)
                    if str(code)[:1] in ("4", "5"):
                        responses[code] = {"description": answer.get("description") or ANSWERS.get(str(code), ""),
                                           **problem}
        if extra is not None:
            extra(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
