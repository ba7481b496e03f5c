"""A loop that fails is restarted with backoff while the others keep running."""
from __future__ import annotations

import threading
import time

from services.platform.supervisor import Supervisor


class Flaky:
    def __init__(self, failures: int, started: list[str]) -> None:
        self.failures = failures
        self.started = started
        self.stopping = threading.Event()

    def run(self) -> None:
        self.started.append("flaky")
        if len(self.started) <= self.failures:
            raise ConnectionError("the broker went away")
        self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()


class Steady:
    def __init__(self) -> None:
        self.ticks = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            self.ticks += 1

    def stop(self) -> None:
        self.stopping.set()


def test_a_failing_loop_restarts_with_backoff_and_the_others_go_on() -> None:
    started: list[str] = []
    steady = Steady()
    supervisor = Supervisor(first_backoff=0.05, max_backoff=0.2)
    supervisor.start("steady", steady)
    supervisor.start("flaky", lambda: Flaky(2, started))  # a fresh loop at each restart
    deadline = time.monotonic() + 5
    while len(started) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    ticks = steady.ticks
    time.sleep(0.1)
    assert len(started) == 3 and supervisor.status()["flaky"]["restarts"] == 2
    assert "ConnectionError" in str(supervisor.status()["flaky"]["last_error"])
    assert steady.ticks > ticks  # never stopped by its neighbour's failures
    assert not supervisor.failed.is_set()
    supervisor.join(2)


def test_without_restarts_the_first_failure_stops_everything() -> None:
    steady = Steady()
    stopped = threading.Event()
    supervisor = Supervisor(restart=False, on_failure=stopped.set)
    supervisor.start("steady", steady)
    supervisor.start("flaky", Flaky(5, []))
    assert stopped.wait(5) and supervisor.failed.is_set()
    supervisor.join(2)
