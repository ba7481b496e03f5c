"""Reject oversize bodies (413) before they are read into memory."""
from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, by_path: Mapping[str, int] | None = None) -> None:
        """``by_path``: another limit for these exact paths (a bulk endpoint takes many commands at once)."""
        self.app = app
        self.max_bytes = max_bytes
        self.by_path = dict(by_path or {})

    async def _reject(self, send: Send, limit: int) -> None:
        body = json.dumps({
            "type": "/problems/body-too-large", "title": "Request body too large", "status": 413,
            "detail": f"the body exceeds {limit} bytes", "field": "body",
            "errors": [{"field": "body", "message": f"larger than {limit} bytes"}],
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._reject(send, limit)
                return
            await self.app(scope, receive, send)  # the server holds the client to its declared length
            return
        # No length declared (chunked): read it here, up to the limit, so an oversize body is a 413
        # before the application sees it (the framework would turn a failure while it reads into 400).
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            seen += len(message.get("body", b""))
            if seen > limit:
                await self._reject(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
