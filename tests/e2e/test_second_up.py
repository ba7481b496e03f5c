"""A second `charterwatch up` on the same ports says so and exits 1, before claiming to be up; a drill
clock is announced at start."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import RunningSystem
from tests.e2e.test_walking_skeleton import stopped_cleanly


def test_a_second_up_on_taken_ports_fails_before_claiming_to_be_up(tmp_path: Path) -> None:
    clock = tmp_path / "clock"
    clock.write_text("2026-11-24T11:00:00+09:00")
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_CLOCK_FILE": str(clock)})
    try:
        assert "DRILL CLOCK ACTIVE" in system.text() and str(clock) in system.text()
        env = {**os.environ, "CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_DATA_DIR": str(tmp_path / "var2"),
               "CHARTERWATCH_PORT": str(system.port), "CHARTERWATCH_COMPENSATION_PORT": str(system.compensation_port),
               "CHARTERWATCH_NOTIFY_PORT": str(system.notify_port), "CHARTERWATCH_AUDIT_PORT": str(system.audit_port),
               "CHARTERWATCH_CONSOLE_PORT": str(system.console_port)}
        second = subprocess.run([sys.executable, "-m", "services.cli", "up"], capture_output=True, text=True,
                                cwd=tmp_path, env=env, timeout=120)
        assert second.returncode == 1, second.stderr
        assert "already in use" in second.stderr and f":{system.port}" in second.stderr
        assert "is up" not in second.stderr
        clock.write_text("")  # `echo … > clock` truncates first: the running system keeps going
        assert system.http.get("/healthz").status_code == 200
        clock.write_text("2026-11-24T12:00:00+09:00")
    finally:
        stopped_cleanly(system)
