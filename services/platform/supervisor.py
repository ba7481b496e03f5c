"""Running several loops in one process: a loop that fails is restarted with backoff; the others go on.

A loop resumes from what it committed (positions, outbox, ledger), so a restart repeats nothing
that was settled. The backoff doubles from one second to a minute, and starts again from one
second once a loop has stayed up for a minute.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from services.platform.logs import get_logger

log = get_logger("runtime")


class Loop(Protocol):
    def run(self) -> object: ...

    def stop(self) -> None: ...


@dataclass
class Supervised:
    name: str
    make: Callable[[], Loop]
    loop: Loop | None = None
    restarts: int = 0
    last_error: str | None = None
    up: bool = False  # built and running; False while it waits for its restart (/readyz reads it)


@dataclass
class Supervisor:
    """Starts loops in threads and keeps them running. ``restart=False``: the first failure stops everything
    (one-off commands that must not limp on)."""

    on_failure: Callable[[], None] = lambda: None
    restart: bool = True
    first_backoff: float = 1.0
    max_backoff: float = 60.0
    loops: list[Supervised] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    failed: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self, name: str, loop: Loop | Callable[[], Loop]) -> None:
        """``loop``: a loop, or a factory that builds a fresh one for each (re)start."""
        make = loop if not hasattr(loop, "run") else (lambda: loop)  # type: ignore[assignment]
        entry = Supervised(name, make)  # type: ignore[arg-type]

        def body() -> None:
            backoff = self.first_backoff
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    entry.loop = entry.make()
                    entry.up = True
                    entry.loop.run()
                    return  # a loop that returns has finished its work
                except Exception as exc:  # any failure of a loop: logged, then restarted (or everything stopped)
                    entry.up = False
                    entry.last_error = f"{type(exc).__name__}: {exc}"[:300]
                    log.exception("loop_failed", loop=name, restarts=entry.restarts)
                    if not self.restart:
                        self.failed.set()
                        self.stop_all()
                        self.on_failure()
                        return
                if time.monotonic() - started > self.max_backoff:
                    backoff = self.first_backoff
                entry.restarts += 1
                log.warning("loop_restarting", loop=name, in_seconds=backoff, restarts=entry.restarts)
                if self.stopping.wait(backoff):
                    return
                backoff = min(self.max_backoff, backoff * 2)

        thread = threading.Thread(target=body, name=name, daemon=True)
        self.loops.append(entry)
        self.threads.append(thread)
        thread.start()

    def status(self) -> dict[str, dict[str, object]]:
        return {e.name: {"up": e.up, "restarts": e.restarts, "last_error": e.last_error} for e in self.loops}

    def stop_all(self) -> None:
        self.stopping.set()
        for entry in self.loops:
            if entry.loop is not None:
                entry.loop.stop()

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


class ChildProcess:
    """A service in its own process (the faust worker under `up` in Kafka mode), as a supervised loop:
    its exit is a failure, restarted with backoff; it dies with its parent, however the parent dies."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=os.environ.copy(), preexec_fn=_die_with_parent)
        code = self.proc.wait()
        if code != 0 and not self._stopped:
            raise RuntimeError(f"{' '.join(self.argv[-2:])} exited with {code}")

    _stopped = False

    def stop(self) -> None:
        self._stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _die_with_parent() -> None:
    """Linux: the child is killed when its parent dies. SIGKILL, not SIGTERM: a faust worker that lost
    its broker was seen ignoring SIGTERM; its state is rebuilt from the log on the next start."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
