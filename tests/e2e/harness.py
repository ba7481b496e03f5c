"""Runs ``charterwatch up`` as a real process and talks to it over HTTP."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningSystem:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.compensation_port = free_port()
        self.notify_port = free_port()
        self.audit_port = free_port()
        self.console_port = free_port()
        self.webhooks_port = free_port()
        self.output = workdir / "charterwatch.out"
        full_env = {**os.environ, **env, "CHARTERWATCH_PORT": str(self.port),
                    "CHARTERWATCH_COMPENSATION_PORT": str(self.compensation_port),
                    "CHARTERWATCH_NOTIFY_PORT": str(self.notify_port), "CHARTERWATCH_AUDIT_PORT": str(self.audit_port),
                    "CHARTERWATCH_CONSOLE_PORT": str(self.console_port),
                    "CHARTERWATCH_WEBHOOKS_PORT": str(self.webhooks_port),
                    "CHARTERWATCH_DATA_DIR": str(workdir / "var")}
        self._out = self.output.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", "up"], cwd=workdir, env=full_env,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self.wait_for(self._healthy, 60, "the API to answer /healthz")
        # A first run issues an API key for the agency 'local' and keeps it in the data dir.
        token = (workdir / "var" / "local-api-key").read_text().strip()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"charterwatch up exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def log_events(self) -> list[dict]:
        out = []
        for line in self.text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; what the system said:\n{self.telling()}")

    def telling(self, tail: int = 2000) -> str:
        """For a failure's reader: the warnings, errors and group moves (the info lines drown them), then
        the output's tail."""
        told = [line for line in self.text().splitlines()
                if not line.startswith("{") or '"level": "info"' not in line
                or '"event": "partitions_' in line or '"event": "loop_' in line]
        return "\n".join(told[-80:]) + f"\n... the last {tail} characters:\n" + self.text()[-tail:]

    def stop(self) -> int:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(45)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Whatever it started (the faust worker) must not outlive the test.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._out.close()
        return self.proc.returncode
