"""Over the real broker: petition filed -> receipt notice with the expected date and the rights;
extension -> notice, which discharges the extension-notice obligation in the faust monitor;
resolution -> completion notice naming the official. Delivered by SMTP to a real server."""
from __future__ import annotations

from pathlib import Path

import pytest

from services.platform.log.kafka import KafkaLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import decode
from tests.e2e.harness import RunningSystem, free_port
from tests.e2e.test_walking_skeleton import stopped_cleanly
from tests.integration.test_notify import Mailbox

OFFICIAL = {"official_id": "o-7", "name": "이주무관", "department": "민원여권과", "phone": "031-828-2000",
            "email": "lee@ui4u.go.kr"}
PETITION = {
    "municipality_id": "uijeongbu",
    "petition_type": "grievance",
    "channel": "visit",
    "title": "가로등 고장",
    "received_at": "2026-11-24T10:00:00+09:00",
    "applicant": {"name": "박시민", "phone": "010-1111-2222", "email": "citizen@example.kr"},
    "notice_channels": ["email"],
}


@pytest.mark.kafka
def test_receipt_extension_and_completion_notices_over_kafka(tmp_path: Path, kafka_bootstrap: str,
                                                             topic_prefix: str) -> None:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    smtp_port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    clock = tmp_path / "now"
    clock.write_text("2026-11-24T11:05:00+09:00")
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                                      "CHARTERWATCH_TOPIC_PREFIX": topic_prefix, "CHARTERWATCH_CLOCK_FILE": str(clock),
                                      "CHARTERWATCH_SMTP_HOST": "127.0.0.1", "CHARTERWATCH_SMTP_PORT": str(smtp_port),
                                      "CHARTERWATCH_SMTP_SENDER": "의정부시 <minwon@ui4u.go.kr>"})
    kafka = KafkaLog(kafka_bootstrap)
    topics = Topics(topic_prefix)
    try:
        r = system.http.post("/v1/petitions", json=PETITION)
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        system.wait_for(lambda: len(box.messages) >= 1, 120, "the receipt notice")
        receipt = box.messages[0]
        assert receipt["Subject"] == "[의정부시] 민원 접수 안내"
        assert "처리기한: 2026. 12. 2.(수) 18:00" in receipt.get_content()
        assert "[민원인의 권리]" in receipt.get_content()  # 민원미란다 (Uijeongbu U1)

        def post(path: str, at: str, **fields: object) -> None:
            resp = system.http.post(f"/v1/petitions/{case_id}/{path}", json={"occurred_at": at, **fields})
            assert resp.status_code == 201, resp.text

        post("assignment", "2026-11-24T11:00:00+09:00", official=OFFICIAL)
        clock.write_text("2026-12-01T10:00:00+09:00")
        post("extensions", "2026-12-01T10:00:00+09:00", period="7d", reason="현장 확인 필요",
             expected_completion="2026-12-11T18:00:00+09:00")
        system.wait_for(lambda: len(box.messages) >= 2, 60, "the extension notice")
        assert box.messages[1]["Subject"] == "[의정부시] 민원 처리기간 연장 안내"
        assert "연장 사유: 현장 확인 필요\n처리 완료 예정일: 2026. 12. 11.(금) 18:00" in box.messages[1].get_content()

        def discharged() -> bool:
            return any(decode(rec.value).event_type == "ObligationDischarged"
                       and decode(rec.value).payload.obligation_id == "extension_notice:1"
                       for rec in read_all(kafka, topics.sla_events)[0] if decode(rec.value).case_id == case_id)

        system.wait_for(discharged, 60, "NoticeSent to discharge the extension-notice obligation (Decree 21)")

        clock.write_text("2026-12-03T15:05:00+09:00")
        post("resolution", "2026-12-03T15:00:00+09:00", outcome="accepted", explanation="가로등을 교체하였습니다.")
        system.wait_for(lambda: len(box.messages) >= 3, 60, "the completion notice")
        completion = box.messages[2].get_content()
        assert "처리 결과: 수용\n처리 내용: 가로등을 교체하였습니다." in completion
        assert "담당: 민원여권과 이주무관(전화 031-828-2000, 전자우편 lee@ui4u.go.kr)" in completion
        sent = [decode(rec.value) for rec in read_all(kafka, topics.notice_events)[0]]
        assert [(e.payload.kind, e.event_type) for e in sent if e.case_id == case_id] == \
            [("receipt", "NoticeSent"), ("extension", "NoticeSent"), ("completion", "NoticeSent")]
        output = system.text()
        for secret in ("박시민", "010-1111-2222", "citizen@example.kr", "가로등을 교체하였습니다"):
            assert secret not in output
    finally:
        kafka.close()
        stopped_cleanly(system)
        controller.stop()
