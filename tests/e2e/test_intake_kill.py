"""Intake killed at each step of a command (kill -9, as the process dies), with a client that retries
with the same Idempotency-Key: the command is recorded once, under one case, and published once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.platform.log.embedded import EmbeddedLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import decode
from tests.e2e.harness import free_port

PETITION = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "가로등 고장",
            "received_at": "2026-11-25T10:00:00+09:00", "applicant": {"name": "홍길동", "phone": "010-1234-5678"},
            "notice_channels": ["sms"]}
OFFICIAL = {"official_id": "o-17", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}


class Intake:
    def __init__(self, tmp: Path, failpoint: str | None) -> None:
        self.port = free_port()
        env = {**os.environ, "CHARTERWATCH_DATA_DIR": str(tmp / "var"), "CHARTERWATCH_PORT": str(self.port),
               "CHARTERWATCH_MODE": "embedded"}
        env.pop("CHARTERWATCH_FAILPOINT", None)
        if failpoint:
            env["CHARTERWATCH_FAILPOINT"] = failpoint
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", "intake"], env=env,
                                     stdout=(tmp / "intake.log").open("ab"), stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10,
                                 headers={"Authorization": f"Bearer {(tmp / 'token').read_text().strip()}"})
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, "intake did not start"
            time.sleep(0.2)

    def post(self, path: str, body: dict, key: str) -> httpx.Response | None:
        try:
            return self.http.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            return None  # the process died mid-request

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.mark.parametrize("point", ["intake.before_commit", "intake.after_commit", "intake.after_publish"])
def test_a_command_survives_a_kill_at_each_step(tmp_path: Path, point: str) -> None:
    env = {**os.environ, "CHARTERWATCH_DATA_DIR": str(tmp_path / "var")}
    token = subprocess.run([sys.executable, "-m", "services.cli", "keys", "create", "--agency", "a"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    (tmp_path / "token").write_text(token)

    def command(path: str, body: dict, key: str) -> dict:
        dying = Intake(tmp_path, point)
        try:
            assert dying.post(path, body, key) is None, "the failpoint did not kill intake"
            assert dying.proc.wait(10) == 137
        finally:
            dying.stop()
        again = Intake(tmp_path, None)  # restarted; the careful integrator retries with the same key
        try:
            r = again.post(path, body, key)
            assert r is not None and r.status_code == 201, r.text if r is not None else "no answer"
            assert again.post(path, body, key).json() == r.json()  # and once more: the same answer
            time.sleep(1.5)  # the relay's turn, for what the dead process committed and never published
            return r.json()
        finally:
            again.stop()

    filed = command("/v1/petitions", PETITION, "file-1")
    assigned = command(f"/v1/petitions/{filed['case_id']}/assignment",
                       {"occurred_at": "2026-11-25T11:00:00+09:00", "official": OFFICIAL}, "assign-1")
    log = EmbeddedLog(tmp_path / "var" / "eventlog.db")
    events = [decode(r.value) for r in read_all(log, Topics().petition_events)[0]]
    assert sorted({(e.case_id, e.case_version, str(e.event_id)) for e in events}) == [
        (filed["case_id"], 1, filed["event_id"]), (filed["case_id"], 2, assigned["event_id"])]
    verify = subprocess.run([sys.executable, "-m", "services.cli", "audit", "verify"], env=env, capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
