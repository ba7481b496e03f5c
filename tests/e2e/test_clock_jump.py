"""The drill from issue 17: supplement -> extension -> completion, the clock moved forward in one jump,
and the audit replay agrees with what the live services recorded (exit 0), in both modes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import RunningSystem
from tests.e2e.test_walking_skeleton import stopped_cleanly

OFFICIAL = {"official_id": "o-3", "name": "최주무관", "department": "건축과", "phone": "041-350-3000",
            "email": "choi@dangjin.go.kr"}
PETITION = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "공사 소음",
            "received_at": "2026-12-21T10:00:00+09:00", "notice_channels": ["sms"],
            "applicant": {"name": "정민원", "phone": "010-2222-3333"}}


def drill(system: RunningSystem, clock: Path) -> str:
    r = system.http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    system.wait_for(lambda: system.http.get(f"/v1/petitions/{case_id}").status_code == 200, 60, "the projection")

    def post(path: str, at: str, **fields: object) -> None:
        resp = system.http.post(f"/v1/petitions/{case_id}/{path}", json={"occurred_at": at, **fields})
        assert resp.status_code == 201, resp.text

    def monitor_saw(event_type: str, obligation: str) -> bool:
        return any(e.get("event") == "obligation_event" and e.get("case_id") == case_id
                   and e.get("event_type") == event_type and e.get("obligation_id") == obligation
                   for e in system.log_events())

    post("assignment", "2026-12-21T10:02:00+09:00", official=OFFICIAL)
    clock.write_text("2026-12-22T10:05:00+09:00")
    post("supplement-requests", "2026-12-22T10:00:00+09:00", items="현장 사진")
    system.wait_for(lambda: monitor_saw("ObligationSuspended", "statutory_deadline"), 60, "the pause")
    clock.write_text("2026-12-24T10:05:00+09:00")
    post("supplements", "2026-12-24T10:00:00+09:00")
    # One jump of twelve days: the warnings that fell due meanwhile fire at once, then the extension is
    # recorded at the new instant and its notice is sent at that very instant (the drill clock is frozen).
    clock.write_text("2027-01-05T10:00:00+09:00")
    post("extensions", "2027-01-05T09:50:00+09:00", period="7d", reason="관계기관 협의",
         expected_completion="2027-01-18T18:00:00+09:00")
    system.wait_for(lambda: monitor_saw("ObligationDischarged", "extension_notice:1"), 90,
                    "the extension notice to discharge its obligation (Decree 21)")
    clock.write_text("2027-01-07T15:00:00+09:00")
    post("resolution", "2027-01-07T14:00:00+09:00", outcome="accepted", explanation="소음 저감 조치를 하였습니다.")
    system.wait_for(lambda: monitor_saw("ObligationDischarged", "statutory_deadline"), 90, "the completion")
    return case_id


def replay(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "CHARTERWATCH_DATA_DIR": str(workdir / "var"),
            "CHARTERWATCH_CLOCK_FILE": str(workdir / "clock")}
    return subprocess.run([sys.executable, "-m", "services.cli", "audit", "replay", *args], capture_output=True,
                          text=True, cwd=workdir, env=full, timeout=180)


def run(tmp_path: Path, env: dict[str, str]) -> None:
    clock = tmp_path / "clock"
    clock.write_text("2026-12-21T10:05:00+09:00")
    system = RunningSystem(tmp_path, {**env, "CHARTERWATCH_CLOCK_FILE": str(clock)})
    try:
        case_id = drill(system, clock)
    finally:
        stopped_cleanly(system)
    one = replay(tmp_path, env, "--case", case_id)
    assert one.returncode == 0, one.stdout[-4000:] + one.stderr[-2000:]
    report = json.loads(one.stdout)
    assert report["agrees"] and report["rederived"]["sla"] > 5
    every = replay(tmp_path, env, "--all")
    assert every.returncode == 0, every.stdout[-4000:]


def test_clock_jump_drill_replays_clean_embedded(tmp_path: Path) -> None:
    run(tmp_path, {"CHARTERWATCH_MODE": "embedded"})


@pytest.mark.kafka
def test_clock_jump_drill_replays_clean_on_kafka(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str) -> None:
    run(tmp_path, {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                   "CHARTERWATCH_TOPIC_PREFIX": topic_prefix})
