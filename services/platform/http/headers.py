"""Headers every API answers with: ``X-Content-Type-Options: nosniff`` (a browser takes the declared
type, never guesses HTML from a JSON body) and a Content-Security-Policy.

Every response gets ``CSP``: nothing may load or run, save inline styles (the audit's printable
report carries its stylesheet inline; it has no scripts, images or forms), no framing, no base or
form targets. The interactive API docs (``/docs``, ``services.platform.http.docs``) load their scripts
and styles from this process and run an inline bootstrap script: they get ``DOCS_CSP``, which allows
exactly that; they show no case data. A response that sets its own policy keeps it.
"""
from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.platform.http.docs import PATH as DOCS_PATH

CSP = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope.get("path") in self.docs_paths else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Add the headers to every response of ``app``: outside its whole middleware stack, so the answers
    of the other middleware (a body too large) and the server's own 500 carry them too."""
    docs = frozenset({DOCS_PATH})
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), docs_paths=docs)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
