"""Running several loops in one process, and stopping all of them when one fails."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from services.logs import get_logger

log = get_logger("runtime")


class Loop(Protocol):
    def run(self) -> object: ...

    def stop(self) -> None: ...


@dataclass
class Supervisor:
    """Starts loops in threads; the first failure stops everything (fail fast, never limp on)."""

    on_failure: Callable[[], None] = lambda: None
    loops: list[tuple[str, Loop]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    failed: threading.Event = field(default_factory=threading.Event)

    def start(self, name: str, loop: Loop) -> None:
        def body() -> None:
            try:
                loop.run()
            except BaseException:
                log.exception("loop_failed", loop=name)
                self.failed.set()
                self.stop_all()
                self.on_failure()

        thread = threading.Thread(target=body, name=name, daemon=True)
        self.loops.append((name, loop))
        self.threads.append(thread)
        thread.start()

    def stop_all(self) -> None:
        for _, loop in self.loops:
            loop.stop()

    def join(self, timeout: float = 10.0) -> None:
        self.stop_all()
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout)


class HttpServer:
    """A uvicorn server as a supervised loop (a second API in the same process, e.g. compensation in `up`)."""

    def __init__(self, app: object, host: str, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))

    def run(self) -> None:
        self.server.run()  # uvicorn installs no signal handlers off the main thread
        if not self.server.started and not self.server.should_exit:
            raise RuntimeError(f"HTTP server on port {self.server.config.port} did not start")

    def stop(self) -> None:
        self.server.should_exit = True
