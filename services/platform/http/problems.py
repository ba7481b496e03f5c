"""RFC 9457 problem details (application/problem+json), each naming the field at fault.

Problem types: one scheme for every API, a relative URI ``/problems/<slug>`` with the slugs of
``PROBLEM_TYPES`` (docs/intake.md lists them): never a bare status number. Validation messages are the
field's own words, without pydantic's "Value error, " prefix, in English or, for ``Accept-Language: ko``
(desk systems), in Korean; each error also carries its machine ``code`` (pydantic's error type, or ours:
``phone``, ``email``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
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


# Every problem type any API answers with: /problems/<slug> -> what it means. A problem names one of these.
PROBLEM_TYPES: dict[str, str] = {
    "validation": "a field is invalid (422); `errors` names each, `field` the first",
    "malformed-json": "the body is not JSON (400)",
    "bad-request": "a malformed header, cursor or query (400)",
    "unauthorized": "no valid API key (401)",
    "login-required": "no valid console session (401)",
    "forbidden": "the role may not do this, or a CSRF or Origin check failed (403)",
    "not-found": "no such resource for this agency (404): another agency's is indistinguishable from a missing one",
    "method-not-allowed": "the path does not take this method (405)",
    "rule-violation": "the rules forbid it now (409); `rule` names the law article or charter promise",
    "conflict": "the request conflicts with the resource's state (409)",
    "voucher-transition": "the voucher cannot make this transition now (409); `rule` names why",
    "gone": "the resource existed and was removed, e.g. erased personal data (410)",
    "stale-version": "If-Match names a version the case has moved past (412)",
    "body-too-large": "the body is larger than the limit (413)",
    "unsupported-media-type": "the body's content type is not accepted (415)",
    "too-many-requests": "slow down (429)",
    "internal": "an unexpected error (500); nothing was recorded unless the answer says so",
    "log-unavailable": "the event log did not take it: nothing was recorded; retry after Retry-After (503)",
    "pdf-unavailable": "no PDF can be made on this machine (503)",
    "unavailable": "the service cannot answer now; retry after Retry-After (503)",
}
_BY_STATUS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
              409: "conflict", 410: "gone", 412: "stale-version", 413: "body-too-large", 415: "unsupported-media-type",
              422: "validation", 429: "too-many-requests", 500: "internal", 503: "unavailable"}


def problem_type(kind: str | None, status: int) -> str:
    """The type URI of a problem: ``/problems/<slug>``, the slug given or the status's own."""
    slug = kind or _BY_STATUS.get(status, "internal" if status >= 500 else "bad-request")
    return f"/problems/{slug}"  # every slug used is listed in PROBLEM_TYPES (tests/integration/test_problems.py)


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    kind: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": problem_type(kind, status), "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_PREFIX = re.compile(r"^(Value error|Assertion failed), ")
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]]*): (.+)$", re.S)


def _field(loc: tuple[Any, ...], msg: str = "") -> str:
    # only the leading part says where the input was; later ones are fields (a bulk command's "body")
    inner = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    named = _NAMED.match(_PREFIX.sub("", msg)) if _PREFIX.match(msg) else None
    if named and len(inner) == 0:
        return named.group(1)  # a model-level check that names its field ("refusal_reasons: ...")
    parts = [str(p) for p in inner]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _message(error: Mapping[str, Any], field: str) -> str:
    """pydantic's message without its "Value error, " prefix, nor the field a model-level check named."""
    msg = str(error.get("msg", ""))
    if _PREFIX.match(msg):
        msg = _PREFIX.sub("", msg)
        named = _NAMED.match(msg)
        if named and named.group(1) == field:
            msg = named.group(2)
    return msg


# -- Korean (Accept-Language: ko) -----------------------------------------------------------------------
_INSTANT_KO = "UTC 오프셋이 있는 ISO 8601 시각이어야 합니다 (예: 2026-11-25T10:00:00+09:00)"
_KO: dict[str, str] = {
    "missing": "필수 항목입니다",
    "extra_forbidden": "알 수 없는 항목입니다",
    "string_type": "문자열이어야 합니다",
    "int_type": "정수여야 합니다", "int_parsing": "정수여야 합니다", "int_from_float": "정수여야 합니다",
    "float_type": "숫자여야 합니다", "float_parsing": "숫자여야 합니다",
    "bool_type": "true 또는 false여야 합니다", "bool_parsing": "true 또는 false여야 합니다",
    "list_type": "목록(배열)이어야 합니다", "tuple_type": "목록(배열)이어야 합니다",
    "dict_type": "객체여야 합니다", "model_type": "객체여야 합니다", "model_attributes_type": "객체여야 합니다",
    "string_too_long": "{max_length}자 이하여야 합니다",
    "string_too_short": "{min_length}자 이상이어야 합니다",
    "too_long": "{max_length}개 이하여야 합니다",
    "too_short": "{min_length}개 이상이어야 합니다",
    "string_pattern_mismatch": "형식이 맞지 않습니다",
    "enum": "다음 중 하나여야 합니다: {expected}",
    "literal_error": "다음 중 하나여야 합니다: {expected}",
    "greater_than": "{gt}보다 커야 합니다", "greater_than_equal": "{ge} 이상이어야 합니다",
    "less_than": "{lt}보다 작아야 합니다", "less_than_equal": "{le} 이하여야 합니다",
    "datetime_type": _INSTANT_KO, "datetime_parsing": _INSTANT_KO, "datetime_from_date_parsing": _INSTANT_KO,
    "timezone_aware": _INSTANT_KO, "datetime_object_invalid": _INSTANT_KO,
    "phone": "한국 전화번호가 아닙니다 (예: 010-1234-5678, 02-123-4567, +82 10 1234 5678)",
    "email": "전자우편 주소가 아닙니다 (예: hong@example.kr)",
    "json_invalid": "JSON 형식이 아닙니다",
}
_TITLES_KO = {"Invalid request": "요청 값이 올바르지 않습니다", "Malformed JSON": "JSON 형식 오류"}


def wants_korean(request: Request) -> bool:
    """Accept-Language names Korean before English (or alone): ``ko``, ``ko-KR``, ``ko;q=0.9, en;q=0.8``."""
    best, best_q = "", -1.0
    for part in request.headers.get("accept-language", "")[:200].split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang and q > best_q:
            best, best_q = lang.lower(), q
    return best.startswith("ko")


def _korean(error: Mapping[str, Any], english: str) -> str:
    template = _KO.get(str(error.get("type", "")))
    if template is None:
        return english  # a check of our own with no Korean words yet: its English stands
    ctx = {k: (str(v).replace("'", "") if k == "expected" else v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0]


def validation_problem(errors: Sequence[Mapping[str, Any]], korean: bool) -> JSONResponse:
    """The 422 (or 400 for a body that is not JSON) naming each field pydantic refused: what a request's
    validation answers, and what a bulk request answers for each item (the same words)."""
    headers = {"Content-Language": "ko" if korean else "en"}
    if any(e.get("type") == "json_invalid" for e in errors):
        msg = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        detail = f"the request body is not valid JSON: {msg}".rstrip(": ")
        message = "not valid JSON"
        if korean:
            detail = message = _KO["json_invalid"]
        return problem(400, _TITLES_KO["Malformed JSON"] if korean else "Malformed JSON", detail,
                       [{"field": "body", "message": message, "code": "json_invalid"}], headers=headers,
                       kind="malformed-json")
    listed = []
    for e in errors:
        field = _field(tuple(e["loc"]), str(e.get("msg", "")))
        english = _message(e, field)
        listed.append({"field": field, "message": _korean(e, english) if korean else english,
                       "code": str(e.get("type", "value_error"))})
    return problem(422, _TITLES_KO["Invalid request"] if korean else "Invalid request",
                   "; ".join(f"{e['field']}: {e['message']}" for e in listed), listed, headers=headers,
                   kind="validation")


def rejected_problem(exc: CommandRejected) -> JSONResponse:
    """What a command the rules or checks refused answers (404, 409, 412, 422), naming the field."""
    title = {404: "Not found", 409: "Forbidden by the rules", 412: "Precondition failed"}.get(
        exc.status, "Command rejected")
    kind = {400: "bad-request", 404: "not-found", 409: "rule-violation", 412: "stale-version"}.get(
        exc.status, "validation")
    response = problem(exc.status, title, str(exc), [{"field": exc.field, "message": exc.message}], kind=kind)
    if exc.rule:
        body = json.loads(response.body)
        body["rule"] = exc.rule
        response = JSONResponse(body, status_code=exc.status, media_type=PROBLEM_JSON)
    return response


def install(app: FastAPI, openapi_extra: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Every error as problem+json, and documented so in the app's OpenAPI (``openapi_extra`` may
    refine the spec further)."""
    document_problems(app, openapi_extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc.errors(), wants_korean(request))

    @app.exception_handler(CommandRejected)
    async def _rejected(_: Request, exc: CommandRejected) -> JSONResponse:
        return rejected_problem(exc)

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
