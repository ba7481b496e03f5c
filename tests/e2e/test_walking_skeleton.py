"""End to end: a petition filed over HTTP reaches the read model and all four services, in both modes."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from services.platform.log.embedded import EmbeddedLog
from services.platform.log.topics import Topics
from tests.e2e.harness import RunningSystem

APPLICANT = {"name": "김민원", "phone": "010-9876-5432", "email": "minwon@example.kr", "address": "부산 연제구 연제로 2"}
PETITION = {
    "municipality_id": "yeonje-gu",
    "petition_type": "question_system",
    "channel": "post",
    "title": "제도 문의",
    "received_at": "2026-11-24T10:00:00+09:00",
    "applicant": APPLICANT,
    "notice_channels": ["sms"],
}


def walk(system: RunningSystem, consumer_timeout: float) -> str:
    r = system.http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    # question about a system: 7 days (Decree 14), from Tue 11/24 -> Wed 12/2 18:00
    assert r.json()["statutory_deadline"]["due_at"] == "2026-12-02T18:00:00+09:00"

    # the read model: the projector is one more consumer group to join in the Kafka mode
    system.wait_for(lambda: system.http.get(f"/v1/petitions/{case_id}").status_code == 200, consumer_timeout,
                    "the projection")
    row = system.http.get(f"/v1/petitions/{case_id}").json()
    assert row["status"] == "received" and row["charter_id"] == "yeonje-gu"

    def seen_by_all() -> bool:
        seen = {e.get("service") for e in system.log_events()
                if e.get("event") in ("event_seen", "obligation_event") and e.get("case_id") == case_id}
        return {"sla_monitor", "compensation", "notify"} <= seen

    system.wait_for(seen_by_all, consumer_timeout, "sla_monitor, compensation and notify to log the event")
    output = system.text()
    for value in APPLICANT.values():
        assert value not in output, "applicant personal data leaked into the logs"
    return case_id


def stopped_cleanly(system: RunningSystem) -> None:
    # uvicorn re-raises the captured SIGINT after its graceful shutdown: 130 is a clean stop.
    assert system.stop() in (0, 130)
    assert "loop_failed" not in system.text() and "Traceback" not in system.text()


def drill_clock(tmp_path: Path) -> str:
    """'Now' for the run: an hour after the receipt, whatever the wall clock says (with the wall clock the
    obligation turns at-risk, then breached, as the real days pass, and the walk changes with the date)."""
    clock = tmp_path / "clock"
    clock.write_text("2026-11-24T11:00:00+09:00")
    return str(clock)


def test_embedded_mode(tmp_path: Path) -> None:
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_CLOCK_FILE": drill_clock(tmp_path)})
    data = tmp_path / "var"
    try:
        case_id = walk(system, consumer_timeout=30)
        # the monitor's metrics are served on the API's /metrics in the embedded mode
        system.wait_for(lambda: 'charterwatch_obligations_open{kind="statutory_deadline"} 1.0'
                        in system.http.get("/metrics").text, 15, "the monitor's metrics")
        # the receipt notice, written where an SMS gateway is not configured: it names the recipient
        system.wait_for(lambda: any((data / "outgoing" / "sms").glob("*.json")), 30, "the SMS notice's file")
    finally:
        stopped_cleanly(system)
    local_key_never_logged(system, data)
    data_dir_is_private(data)
    audit_what_was_recorded(tmp_path, case_id)


def local_key_never_logged(system: RunningSystem, data: Path) -> None:
    """The local API key is shown on a terminal only (here stderr is a file): never in the output, never
    in a JSON log line; the note points to the file that holds it."""
    token = (data / "local-api-key").read_text().strip()
    assert token and token not in system.text()
    assert all(token not in json.dumps(e) for e in system.log_events()) and system.log_events()
    assert str(data / "local-api-key") in system.text()


def data_dir_is_private(data: Path) -> None:
    """Everything under the data dir is the service user's alone: databases (with their WAL files), keys,
    outgoing messages (which hold contacts)."""
    modes = {p.relative_to(data).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]}
    assert {"eventlog.db", "readmodel.db", "pii.keys", "local-api-key"} <= modes.keys()
    assert any(name.startswith("outgoing/sms/") for name in modes)
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (data / name).is_dir() else 0o600)}
    assert not wrong, wrong


def audit_what_was_recorded(workdir: Path, case_id: str) -> None:
    """The audit commands as an auditor types them, on the log the stopped system left."""
    env = {**os.environ, "CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_DATA_DIR": str(workdir / "var"),
           "CHARTERWATCH_CLOCK_FILE": str(workdir / "clock")}

    def charterwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True, text=True,
                              cwd=workdir, env=env, timeout=120)

    replay = charterwatch("audit", "replay", "--all", "--workers", "2")
    assert replay.returncode == 0, replay.stderr
    summary = json.loads(replay.stdout)
    assert summary["cases"] == 1 and summary["disagreements"] == {} and summary["decisions_rederived"] > 0
    assert charterwatch("audit", "verify").returncode == 0
    html = charterwatch("audit", "replay", "--case", case_id, "--format", "html", "--out", str(workdir / "r.html"))
    assert html.returncode == 0, html.stderr
    assert case_id in (workdir / "r.html").read_text(encoding="utf-8")

    # a decision no rule derives, written to the log afterwards: the replay names it and fails
    log, topics = EmbeddedLog(workdir / "var" / "eventlog.db"), Topics("")
    [opened] = [r for r in log.reader(topics.sla_events).poll(max_records=100, timeout=1)
                if r.key == case_id and b'"kind":"statutory_deadline"' in r.value]
    forged = json.loads(opened.value) | {"event_id": str(uuid.uuid4()), "event_type": "ObligationDischarged"}
    forged["payload"] = {k: forged["payload"][k] for k in ("obligation_id", "kind", "due_at", "citizen_facing")} | {
        "discharged_by_event_id": str(uuid.uuid4()), "on_time": True, "voids_breach": False}
    log.append(topics.sla_events, case_id, json.dumps(forged, ensure_ascii=False).encode())
    log.close()
    replay = charterwatch("audit", "replay", "--all", "--workers", "2")
    assert replay.returncode == 1
    assert json.loads(replay.stdout)["disagreements"] == {"sla: recorded, not re-derived": 1}


@pytest.mark.kafka
def test_kafka_mode(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str) -> None:
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                                      "CHARTERWATCH_TOPIC_PREFIX": topic_prefix,
                                      "CHARTERWATCH_CLOCK_FILE": drill_clock(tmp_path)})
    try:
        walk(system, consumer_timeout=90)  # the faust worker joins its group first
    finally:
        stopped_cleanly(system)
