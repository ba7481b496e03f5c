"""End to end: a petition filed over HTTP reaches the read model and all four services, in both modes."""
from __future__ import annotations

from pathlib import Path

import pytest

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


def walk(system: RunningSystem, consumer_timeout: float) -> None:
    r = system.http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    # question about a system: 7 days (Decree 14), from Tue 11/24 -> Wed 12/2 18:00
    assert r.json()["statutory_deadline"]["due_at"] == "2026-12-02T18:00:00+09:00"

    system.wait_for(lambda: system.http.get(f"/v1/petitions/{case_id}").status_code == 200, 30, "the projection")
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


def stopped_cleanly(system: RunningSystem) -> None:
    # uvicorn re-raises the captured SIGINT after its graceful shutdown: 130 is a clean stop.
    assert system.stop() in (0, 130)
    assert "loop_failed" not in system.text() and "Traceback" not in system.text()


def test_embedded_mode(tmp_path: Path) -> None:
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "embedded"})
    try:
        walk(system, consumer_timeout=30)
        # the monitor's metrics are served on the API's /metrics in the embedded mode
        system.wait_for(lambda: 'charterwatch_obligations_open{kind="statutory_deadline"} 1.0'
                        in system.http.get("/metrics").text, 15, "the monitor's metrics")
    finally:
        stopped_cleanly(system)


@pytest.mark.kafka
def test_kafka_mode(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str) -> None:
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                                      "CHARTERWATCH_TOPIC_PREFIX": topic_prefix})
    try:
        walk(system, consumer_timeout=90)  # the faust worker joins its group first
    finally:
        stopped_cleanly(system)
