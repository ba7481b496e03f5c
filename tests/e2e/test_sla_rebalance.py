"""Faust workers share the petition partitions, one crashes, a third restarts from the changelog:
no obligation event is lost, none is emitted twice, breaches included."""
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
from tests.unit.test_obligations import Case, kst


class Worker:
    def __init__(self, name: str, tmp: Path, env: dict[str, str]) -> None:
        self.out_path = tmp / f"{name}.out"
        self.out = self.out_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", "sla-monitor"], env=env, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def restores(self) -> int:
        return self.out_path.read_bytes().count(b"monitor_restored")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.mark.kafka
def test_rebalance_and_crash_neither_lose_nor_duplicate(tmp_path: Path, kafka_bootstrap: str, topic_prefix: str,
                                                       calendar) -> None:
    cases = [Case(at=kst(2027, 3, 2, 10)) for _ in range(12)]
    first = [c.received for c in cases]
    second = [c.event(ev.SupplementRequested(items="x"), kst(2027, 3, 3, 10)) for c in cases]
    third = [c.event(ev.SupplementReceived(), kst(2027, 3, 4, 10)) for c in cases[:8]]
    later = kst(2027, 6, 1, 9)  # every open deadline and interim notice has fallen due by then

    # what one monitor alone derives from the whole sequence, with the clock at `later`
    embedded = EmbeddedLog(tmp_path / "log.db")
    etopics = Topics("")
    embedded.create_topics(etopics.specs())
    for e in first + second + third:
        embedded.append(etopics.petition_events, e.case_id, encode(e))
    loop = MonitorLoop(embedded, etopics,
                       DeadLetters(embedded, etopics.dead_letter, "t"), calendar, CharterBook.bundled(), lambda: later)
    loop.restore()
    loop.step([])
    expected_events = [decode(r.value) for r in read_all(embedded, etopics.sla_events)[0]]
    expected = {str(e.event_id) for e in expected_events}
    assert sum(e.event_type == "ObligationBreached" for e in expected_events) >= 12

    topics = Topics(topic_prefix)
    kafka = KafkaLog(kafka_bootstrap)
    kafka.create_topics(topics.specs())
    clock = tmp_path / "now"
    clock.write_text(kst(2027, 3, 1).isoformat())
    env = {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CHARTERWATCH_TOPIC_PREFIX": topic_prefix, "CHARTERWATCH_DATA_DIR": str(tmp_path / "var"),
           "CHARTERWATCH_CLOCK_FILE": str(clock)}

    def emitted() -> list[str]:
        return [str(decode(r.value).event_id) for r in read_all(kafka, topics.sla_events)[0]]

    a = Worker("a", tmp_path, env)
    b = c = None
    try:
        wait(lambda: a.restores() >= 1, 90, "worker a to start")
        for e in first:
            kafka.append(topics.petition_events, e.case_id, encode(e))
        b = Worker("b", tmp_path, env)  # joins: the partitions are split between a and b
        wait(lambda: b.restores() >= 1 and a.restores() >= 2, 120, "the rebalance onto two workers")
        for e in second:
            kafka.append(topics.petition_events, e.case_id, encode(e))
        time.sleep(3)  # let a write its snapshots: a crash inside that window repeats an event id, by design
        a.stop(signal.SIGKILL)  # crashes: b takes every partition, restored from the changelog
        wait(lambda: b.restores() >= 2, 120, "worker b to take over")
        for e in third:
            kafka.append(topics.petition_events, e.case_id, encode(e))
        clock.write_text(later.isoformat())  # the deadlines pass while b runs
        wait(lambda: set(emitted()) >= expected, 90, "every expected event, breaches included")
        time.sleep(3)
        b.stop(signal.SIGKILL)
        c = Worker("c", tmp_path, env)  # a restart: the breaches already emitted must not be emitted again
        wait(lambda: c.restores() >= 1, 120, "worker c to restore")
        time.sleep(4)
        got = emitted()
        assert set(got) == expected
        assert len(got) == len(set(got)), "an event was emitted twice"
    finally:
        for w in (a, b, c):
            if w is not None:
                w.stop()
        kafka.close()
