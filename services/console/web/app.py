"""The console's FastAPI application, built from what the composition root hands it (nothing at import).

Pages are server-rendered (Jinja2, autoescaped) in Korean, following KRDS; every asset is served by
this process from ``/static`` (government networks are closed: no CDN). The policy below lets the
pages load only this origin's styles, scripts, fonts and images, and run no inline script.
"""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.console.accounts.sessions import (
    ABSOLUTE,
    end_session,
    purge_expired,
    start_session,
)
from services.console.accounts.users import SIGN_IN_REFUSED, SignInRefused, authenticate
from services.console.web.deps import Console
from services.console.web.render import STATIC_DIR, render
from services.console.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Forbidden,
    LoginRequired,
    console_of,
    cookie_secure,
    csrf_guard,
    forget_signed_in,
    signed_in,
    wants_html,
)
from services.platform.http import headers, problems
from services.platform.http.body_limit import BodyLimit
from services.platform.logs import get_logger
from shared.bounds import OutOfBounds

log = get_logger("console")

# 'self' only. No inline script (scripts live in /static files); styles from files too: KRDS's CSS
# and script need no inline style attribute (its script sets styles through the DOM, which CSP allows).
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
EXTRA_HEADERS = {
    # same-origin: our own POSTs carry a Referer the CSRF guard can check; other sites learn nothing.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class ConsoleHeaders:
    """The console's policy on every response that sets none of its own (a page embedding the audit's
    printable report may set its own). Installed inside ``headers.install``'s wrapper, which adds
    nosniff and keeps a policy already set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                if "content-security-policy" not in h:
                    h["Content-Security-Policy"] = CONSOLE_CSP
                for name, value in EXTRA_HEADERS.items():
                    if name.lower() not in h:
                        h[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never an absolute URL or '//host' (an open redirect)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 500:
        return value
    return "/"


def _login_page(request: Request, *, error: str | None = None, username: str = "", next_path: str = "/",
                field_errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", {"login_csrf": token, "error": error, "username": username,
                                              "next": next_path, "field_errors": field_errors or {}},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict",
                        secure=cookie_secure(request))
    return response


auth_router = APIRouter()


@auth_router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    if signed_in(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_path=_safe_next(next))


def _sign_in(console: Console, username: str, password: str, old_token: str | None,
             now: datetime) -> tuple[Any, str] | None:
    """The user and a new session token, or None when refused (the failure, and a lock, are kept)."""
    with console.db.sessions() as session:
        try:
            user = authenticate(session, username, password, now)
        except SignInRefused:
            session.commit()
            return None
        end_session(session, old_token)  # no session fixation: always a new token
        purge_expired(session, now)
        token, _ = start_session(session, user, now)
        session.commit()
    return user, token


@auth_router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or "/"))
    missing = {k: m for k, v, m in (("username", username, "아이디를 입력하세요."),
                                    ("password", password, "비밀번호를 입력하세요.")) if not v}
    if missing:
        return _login_page(request, username=username[:64], next_path=next_path, field_errors=missing,
                           status_code=400)
    console = console_of(request)
    now = console.clock()
    # argon2 takes a good part of a second by design: checked in a worker thread, so a burst of sign-ins
    # (or an attacker's) never stalls the event loop and every other page with it.
    result = await run_in_threadpool(_sign_in, console, username, password, request.cookies.get(SESSION_COOKIE), now)
    if result is None:
        return _login_page(request, error=SIGN_IN_REFUSED, username=username[:64], next_path=next_path,
                           status_code=401)
    user, token = result
    forget_signed_in(request)
    log.info("console_signed_in", user_id=user.user_id, agency_id=user.agency_id)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(ABSOLUTE.total_seconds()), path="/", httponly=True,
                        samesite="strict", secure=cookie_secure(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", httponly=True, samesite="strict",
                           secure=cookie_secure(request))
    return response


@auth_router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    console = console_of(request)
    found = signed_in(request)
    with console.db.sessions.begin() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE))
    forget_signed_in(request)
    if found is not None:
        log.info("console_signed_out", user_id=found.user.user_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=cookie_secure(request))
    return response


@auth_router.get("/", include_in_schema=False)
def home(user: CurrentUser) -> Response:
    return RedirectResponse("/queue", status_code=303)


@auth_router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)  # browsers ask for it on every page; none, and no 404 in their console


@auth_router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


# Pages still being built (C replaces each with its page: remove its entry here).
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "queue": ("/queue", "작업 목록"),
    "overdue": ("/overdue", "기한 경과 검토"),
    "remedies": ("/remedies", "보상"),
    "compliance": ("/compliance", "처리 현황"),
    "satisfaction": ("/satisfaction", "만족도"),
    "reports": ("/reports", "연간 보고서"),
}


def _placeholder_router() -> APIRouter:
    router = APIRouter()
    for key, (path, title) in PLACEHOLDERS.items():
        def page(request: Request, user: CurrentUser, key: str = key, title: str = title) -> Response:
            return render(request, "placeholder.html", {"title": title}, nav=key)
        router.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    return router


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status_code=status)


ERROR_WORDS = {400: ("잘못된 요청", "요청을 처리할 수 없습니다. 입력한 내용을 확인하세요."),
               403: ("권한 없음", "이 작업을 할 권한이 없습니다."),
               404: ("페이지를 찾을 수 없음", "요청한 페이지나 자료가 없습니다."),
               405: ("허용되지 않는 요청", "이 주소에서는 그 요청을 할 수 없습니다."),
               413: ("요청이 너무 큼", "보낸 내용이 너무 큽니다."),
               503: ("일시적으로 사용할 수 없음", "연결된 서비스가 응답하지 않습니다. 잠시 후 다시 시도하세요.")}


def _install_errors(app: FastAPI) -> None:
    problems.install(app)  # JSON callers get problem+json; browsers get a page in Korean
    json_http = app.exception_handlers[StarletteHTTPException]
    json_validation = app.exception_handlers[RequestValidationError]
    json_out_of_bounds = app.exception_handlers[OutOfBounds]

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _: LoginRequired) -> Response:
        if wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            query = "" if target == "/" else "?" + urlencode({"next": target})
            return RedirectResponse("/login" + query, status_code=303)
        return problems.problem(401, "Sign-in required", "no valid console session", [
            {"field": SESSION_COOKIE, "message": "sign in at /login"}], kind="login-required")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        log.info("console_forbidden", reason=exc.reason, path=request.url.path)
        if wants_html(request):
            message = ("요청을 확인할 수 없습니다. 페이지를 새로 고친 뒤 다시 시도하세요." if exc.reason in ("csrf", "origin")
                       else ERROR_WORDS[403][1])
            return _error_page(request, 403, ERROR_WORDS[403][0], message)
        return problems.problem(403, "Forbidden", {"csrf": "missing or wrong CSRF token",
                                                   "origin": "cross-origin request refused"}.get(
                                                       exc.reason, "your role may not do this"), kind="forbidden")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            title, message = ERROR_WORDS.get(exc.status_code, ("오류", "요청을 처리하지 못했습니다."))
            return _error_page(request, exc.status_code, title, message)
        return await json_http(request, exc)  # type: ignore[no-any-return, misc]

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if wants_html(request):
            return _error_page(request, 400, *ERROR_WORDS[400])
        return await json_validation(request, exc)  # type: ignore[no-any-return, misc]

    @app.exception_handler(OutOfBounds)
    async def _out_of_bounds(request: Request, exc: OutOfBounds) -> Response:
        """A value the statistics cannot count (a year outside the working calendar): a browser gets the
        Korean 400 page, a script 422 problem+json naming the field, on the pages as on the API."""
        if wants_html(request):
            return _error_page(request, 400, *ERROR_WORDS[400])
        return await json_out_of_bounds(request, exc)  # type: ignore[no-any-return, misc]


def create_app(console: Console, routers: Iterable[APIRouter] = ()) -> FastAPI:
    """``routers``: the pages and APIs built on this foundation (each page depends on ``current_user``
    or ``require_role``); the placeholders stand in for pages not yet built."""
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        console.keys.revoke_earlier()  # keys an earlier console process issued: their plaintext is gone
        yield

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  title="CharterWatch console", dependencies=[Depends(csrf_guard)])
    app.state.console = console
    _install_errors(app)
    app.include_router(auth_router)
    built: set[str] = set()
    for router in routers:
        app.include_router(router)
        built |= {getattr(r, "path", "") for r in router.routes}
    placeholders = _placeholder_router()
    placeholders.routes[:] = [r for r in placeholders.routes if getattr(r, "path", "") not in built]
    app.include_router(placeholders)
    # KRDS 1.1.0's component.css names its icons under img/img/ (a packaging slip): served from img/.
    app.mount("/static/vendor/krds/img/img", StaticFiles(directory=STATIC_DIR / "vendor" / "krds" / "img"),
              name="krds-icons")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=console.max_body_bytes)
    app.add_middleware(ConsoleHeaders)
    headers.install(app)
    return app

