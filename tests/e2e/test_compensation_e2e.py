"""Over the real broker: a petition filed over HTTP, its deadline passes on a driven clock, the faust
monitor emits the breach, and compensation issues the voucher, visible on its own API."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.platform.log.kafka import KafkaLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import decode
from tests.e2e.harness import RunningSystem
from tests.e2e.test_walking_skeleton import APPLICANT, stopped_cleanly

PETITION = {
    "municipality_id": "dangjin",
    "petition_type": "grievance",  # 7 days (Decree 17): Tue 11/24 10:00 -> Wed 12/2 18:00
    "channel": "visit",
    "title": "도로 파손 신고",
    "received_at": "2026-11-24T10:00:00+09:00",
    "applicant": APPLICANT,
    "notice_channels": ["sms"],
}


@pytest.mark.kafka
def test_breach_to_voucher_issued_over_kafka(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str) -> None:
    clock = tmp_path / "now"
    clock.write_text("2026-11-24T10:05:00+09:00")
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                                      "CHARTERWATCH_TOPIC_PREFIX": topic_prefix, "CHARTERWATCH_CLOCK_FILE": str(clock)})
    kafka = KafkaLog(kafka_bootstrap)
    compensation = httpx.Client(base_url=f"http://127.0.0.1:{system.compensation_port}", timeout=30,
                                headers={"Authorization": system.http.headers["Authorization"]})
    topics = Topics(topic_prefix)
    try:
        r = system.http.post("/v1/petitions", json=PETITION)
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]

        def opened() -> bool:
            return any(decode(rec.value).case_id == case_id for rec in read_all(kafka, topics.sla_events)[0])

        system.wait_for(opened, 120, "the monitor to open the case's obligations")
        clock.write_text("2026-12-03T09:00:00+09:00")  # the statutory deadline has passed

        def issued() -> list:
            return [decode(rec.value) for rec in read_all(kafka, topics.compensation_events)[0]
                    if decode(rec.value).case_id == case_id]

        system.wait_for(lambda: "VoucherIssued" in {e.event_type for e in issued()}, 90, "the voucher to be issued")
        events = issued()
        assert [e.event_type for e in events if e.event_type.startswith("Voucher")] == \
            ["VoucherProposed", "VoucherApproved", "VoucherIssued"]
        proposed = events[0]
        assert proposed.payload.amount_won == 10_000 and proposed.payload.policy.promise_id == "D10"
        assert proposed.occurred_at.isoformat() == "2026-12-02T18:00:00+09:00"  # stamped with the due instant
        breaches = [decode(rec.value) for rec in read_all(kafka, topics.sla_events)[0]
                    if decode(rec.value).event_type == "ObligationBreached" and decode(rec.value).case_id == case_id]
        assert proposed.payload.cause_event_id in {str(b.event_id) for b in breaches}
        page = compensation.get("/v1/vouchers", params={"case_id": case_id}).json()
        assert [(v["status"], v["amount_won"], v["cause"]) for v in page["items"]] == \
            [("issued", 10_000, "statutory_deadline_missed")]
    finally:
        compensation.close()
        kafka.close()
        stopped_cleanly(system)
