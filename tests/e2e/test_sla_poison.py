"""The faust monitor over Kafka: a fact it cannot count (a callback promised for 2206) is parked on the
dead-letter topic and its case waits, while every other case flows; a worker restart keeps it parked;
the operator's skip lets the case's held facts through, once."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from services.platform.dead_letters import DeadLetterBook
from services.platform.log.kafka import KafkaLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import decode, encode
from shared.events import petition as ev
from tests.e2e.test_sla_rebalance import Worker, wait
from tests.unit.test_obligations import Case, kst


@pytest.mark.kafka
def test_a_poison_fact_parks_its_case_and_the_monitor_goes_on(tmp_path: Path, kafka_bootstrap: str,
                                                              topic_prefix: str) -> None:
    topics = Topics(topic_prefix)
    kafka = KafkaLog(kafka_bootstrap)
    kafka.create_topics(topics.specs())
    clock = tmp_path / "now"
    clock.write_text(kst(2026, 11, 2, 13).isoformat())
    env = {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CHARTERWATCH_TOPIC_PREFIX": topic_prefix, "CHARTERWATCH_DATA_DIR": str(tmp_path / "var"),
           "CHARTERWATCH_CLOCK_FILE": str(clock), "CHARTERWATCH_MONITOR_SESSION_TIMEOUT_S": "8"}
    sick, well = Case(municipality="yeonje-gu"), Case(municipality="yeonje-gu")
    typo = sick.event(ev.CallbackPromised(callback_id="cb1", requested_at=kst(2206, 11, 3, 10)), kst(2026, 11, 2, 11))
    after = sick.event(ev.CallbackPromised(callback_id="cb2"), kst(2026, 11, 2, 12))

    def opened() -> set[tuple[str, str]]:
        return {(e.case_id, e.payload.obligation_id) for e in (decode(r.value) for r in read_all(
            kafka, topics.sla_events)[0]) if e.event_type == "ObligationOpened"}

    def parked() -> list[dict]:
        return [json.loads(r.value) for r in read_all(kafka, topics.dead_letter)[0]]

    worker = Worker("a", tmp_path, env)
    try:
        wait(lambda: worker.restores() >= 1, 90, "the worker to start")
        for e in (sick.received, typo, after, well.received):
            kafka.append(topics.petition_events, e.case_id, encode(e))
        wait(lambda: (well.case_id, "statutory_deadline") in opened() and parked(), 60, "the other case and the entry")
        [entry] = parked()
        assert entry["service"] == "sla_monitor" and entry["case_id"] == sick.case_id
        assert "CalendarRangeError" in entry["reason"] and entry["event_type"] == "CallbackPromised"
        assert worker.proc.poll() is None  # still up
        assert (sick.case_id, "callback:cb2") not in opened()  # held behind the parked fact
        worker.stop()
        worker = Worker("b", tmp_path, env)  # restored from the changelog: still parked, not re-parked
        wait(lambda: worker.restores() >= 1, 90, "the restart")
        book = DeadLetterBook(KafkaLog(kafka_bootstrap), topics)
        book.decide(entry["entry_id"], "skip", "ops-1")
        wait(lambda: (sick.case_id, "callback:cb2") in opened(), 60, "the held fact, once skipped past")
        assert len({e["entry_id"] for e in parked()}) == 1
        assert worker.proc.poll() is None
    finally:
        worker.stop()
        kafka.close()
