"""One event sequence, two runtimes: the faust worker on Kafka and the embedded loop emit the same events."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.platform.log.deadletter import DeadLetters
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.kafka import KafkaLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import MonitorLoop, read_all
from shared.charters import CharterBook
from shared.events import decode, encode
from shared.events import petition as ev
from tests.unit.test_obligations import OFFICIAL, Case, kst


def sequence() -> list:
    # 2027 dates: nothing falls due by wall-clock time while the test runs, so both outputs are deterministic.
    a = Case(at=kst(2027, 3, 2, 10))
    b = Case(municipality="yeonje-gu", petition_type="other", channel="internet", at=kst(2027, 3, 2, 16))
    return [
        a.received,
        b.received,
        a.event(ev.OfficialAssigned(official=OFFICIAL), kst(2027, 3, 2, 11)),
        a.event(ev.SupplementRequested(items="사진"), kst(2027, 3, 3, 10)),
        b.event(ev.ReceiptRecorded(), kst(2027, 3, 3, 9)),
        a.event(ev.SupplementReceived(), kst(2027, 3, 5, 15)),
        b.event(ev.CallbackPromised(callback_id="cb"), kst(2027, 3, 3, 10)),
        a.event(ev.ProcessingExtended(period="5d", reason="협의", expected_completion=kst(2027, 3, 30, 18)),
                kst(2027, 3, 8, 10)),
        b.event(ev.CallbackMade(callback_id="cb"), kst(2027, 3, 3, 11)),
        a.event(ev.PetitionResolved(outcome="accepted", explanation="처리 완료"), kst(2027, 3, 9, 10)),
    ]


def comparable(events) -> list:
    return sorted((str(e.event_id), e.event_type, e.case_id, e.case_version, e.occurred_at.isoformat(),
                   e.payload.model_dump_json()) for e in events)


@pytest.mark.kafka
def test_faust_and_embedded_emit_the_same_events(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str,
                                                  calendar) -> None:
    events = sequence()
    charters = CharterBook.bundled()

    embedded = EmbeddedLog(tmp_path / "log.db")
    etopics = Topics("")
    embedded.create_topics(etopics.specs())
    for e in events:
        embedded.append(etopics.petition_events, e.case_id, encode(e))
    loop = MonitorLoop(embedded, etopics,
                       DeadLetters(embedded, etopics.dead_letter, "sla"), calendar, charters,
                       lambda: kst(2027, 3, 1, 0))
    loop.restore()
    expected = [decode(r.value) for r in read_all(embedded, etopics.sla_events)[0]]
    assert len(expected) > 10

    topics = Topics(topic_prefix)
    kafka = KafkaLog(kafka_bootstrap)
    kafka.create_topics(topics.specs())
    out = (tmp_path / "faust.out").open("wb")
    env = {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CHARTERWATCH_TOPIC_PREFIX": topic_prefix, "CHARTERWATCH_DATA_DIR": str(tmp_path / "var")}
    worker = subprocess.Popen([sys.executable, "-m", "services.cli", "sla-monitor"], env=env, stdout=out,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while b"monitor_restored" not in (tmp_path / "faust.out").read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "faust.out").read_text()
            time.sleep(0.2)
        for e in events:  # live, one by one, as intake would append them
            kafka.append(topics.petition_events, e.case_id, encode(e))
        got: list = []
        while len(got) < len(expected) and time.monotonic() < deadline:
            got = [decode(r.value) for r in read_all(kafka, topics.sla_events)[0]]
            time.sleep(0.3)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        out.close()
        kafka.close()
    assert comparable(got) == comparable(expected), (tmp_path / "faust.out").read_text()[-3000:]
