"""Who is signed in, what they may do, and CSRF: the dependencies every console page uses.

Pages declare ``user: CurrentUser`` (or ``Depends(require_role(...))``); the CSRF guard is installed
on the whole application, so no POST route can forget it:

- every unsafe request (POST, PUT, PATCH, DELETE) whose ``Origin`` (or, without one, ``Referer``)
  names another host is refused (403);
- a signed-in request must carry its session's CSRF token, in the form field ``csrf_token`` or the
  header ``X-CSRF-Token`` (403 otherwise);
- the sign-in form, before any session, carries the token of its own cookie (``cw_login_csrf``,
  double submit), so a foreign page cannot sign a browser in to an attacker's account;
- an unsafe request with no valid session is left to the route, which refuses it (login required).
"""
from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from services.console.accounts.sessions import (
    SignedIn,
    resolve_session,
    set_flash,
    take_flash,
)
from services.console.accounts.users import User
from services.console.web.deps import Console

SESSION_COOKIE = "cw_session"
LOGIN_CSRF_COOKIE = "cw_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SIGNED_IN = "cw_signed_in"


class LoginRequired(Exception):
    """No valid session: a browser is sent to /login, an API caller gets 401."""


class Forbidden(Exception):
    """Signed in, but not allowed (role, CSRF, origin): 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def console_of(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def signed_in(request: Request) -> SignedIn | None:
    """The request's valid session, if any (looked up once per request)."""
    if not hasattr(request.state, _SIGNED_IN):
        console = console_of(request)
        with console.db.sessions.begin() as session:
            found = resolve_session(session, request.cookies.get(SESSION_COOKIE), console.clock())
        setattr(request.state, _SIGNED_IN, found)
    return getattr(request.state, _SIGNED_IN)  # type: ignore[no-any-return]


def forget_signed_in(request: Request) -> None:
    """After sign-in or sign-out within the request: the next look-up reads the database again."""
    if hasattr(request.state, _SIGNED_IN):
        delattr(request.state, _SIGNED_IN)


def flash(request: Request, message: str) -> None:
    """Tell the signed-in user ``message`` on their next page (once): the server's own words after an action
    succeeded, kept in the session, so a link can never make a page confirm what did not happen."""
    found = signed_in(request)
    if found is not None:
        with console_of(request).db.sessions.begin() as session:
            set_flash(session, found.token_hash, message)


def flashed(request: Request) -> str | None:
    """The message ``flash`` kept for this page, if any (then gone)."""
    found = signed_in(request)
    if found is None:
        return None
    with console_of(request).db.sessions.begin() as session:
        return take_flash(session, found.token_hash)


def current_user(request: Request) -> User:
    """The signed-in account; ``LoginRequired`` otherwise (HTML: redirect to /login; JSON: 401)."""
    found = signed_in(request)
    if found is None:
        raise LoginRequired()
    return found.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: str) -> Callable[[Request], User]:
    """A dependency: the signed-in account if its role is one of ``roles``; 403 otherwise.

    ``@router.post("/remedies/{id}/approve")``
    ``def approve(user: Annotated[User, Depends(require_role("department_head"))]) -> ...``"""
    allowed = frozenset(roles)

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user.role not in allowed:
            raise Forbidden("role")
        return user
    return dependency


def wants_html(request: Request) -> bool:
    """A browser navigating or posting a form asks for text/html; an API client does not."""
    return "text/html" in request.headers.get("accept", "")


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).netloc.lower() or None
    except ValueError:
        return None


def same_origin(request: Request) -> bool:
    """The request's Origin (or, without one, its Referer) names this host; neither sent: not refused
    here (some clients send neither; the CSRF token still decides)."""
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and _host_of(origin) == host
    referer = request.headers.get("referer")
    if referer is not None:
        return _host_of(referer) == host
    return True


async def csrf_guard(request: Request) -> None:
    """Installed on the whole application (see the module's docstring)."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise Forbidden("origin")
    session = signed_in(request)
    if session is not None:
        expected: str | None = session.csrf_token
    elif request.url.path == "/login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        return  # no session: the route's current_user refuses it
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # kept by Starlette: the route reads the same form again
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise Forbidden("csrf")


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or console_of(request).secure_cookies
