"""A broker lost mid-stream (issue 20 §4): the system on a three-node Kafka cluster (replication factor 3,
min.insync.replicas 2) takes a steady stream of petitions through intake's HTTP API while the node leading
most of their partitions is killed with ``kill -9`` and, later, started again.

Then, from the topics read back with a fresh consumer: every petition answered 201 is on the log exactly
once and nothing else is; no answer was a 500 (while the cluster cannot take writes intake may answer
503 problem+json, and those requests are sent again with the same Idempotency-Key, as an integrator
would); the restarted node is back in every ISR; and the consumers went on: the SLA monitor opened each
case's statutory obligation once and the projection (intake's read model) lists every case.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.platform.log.kafka import KafkaLog
from services.platform.log.reading import read_all
from services.platform.log.topics import Topics
from shared.instants import KST
from tests.chaos.cluster import KafkaCluster, free_ports
from tests.chaos.harness import PII_KEYS, fresh_database
from tests.conftest import IN_CI
from tests.e2e.harness import RunningSystem

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

PETITIONS = 300
RATE = 10.0  # petitions per second, all writers together
WRITERS = 3
RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=KST)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    lacking = KafkaCluster.missing()
    if lacking:
        if IN_CI:
            pytest.fail(f"{lacking} is not available, and CI=true forbids skipping")
        pytest.skip(f"{lacking} is not available")
    data = tmp_path_factory.mktemp("kafka-cluster")
    pinned = os.environ.get("CHARTERWATCH_TEST_KAFKA_CLUSTER_PORT")  # else the first free block from 29192
    c = KafkaCluster(data, int(pinned) if pinned else free_ports())
    try:
        c.start()
        yield c
    finally:
        c.stop()
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class Answer:
    key: str
    status: int | None  # None: no answer (the connection failed or timed out)
    problem: bool  # Content-Type application/problem+json
    at: float  # wall clock, seconds
    detail: str = ""


class Integrator:
    """Files petitions with Idempotency-Keys at a steady rate; keeps every answer."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.answers: list[Answer] = []
        self.acked: dict[str, dict[str, Any]] = {}  # key -> 201 body, with the instant it came
        self.lock = threading.Lock()

    @staticmethod
    def petition(i: int) -> dict[str, Any]:
        return {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit",
                "title": f"가로등 고장 {i}", "received_at": RECEIVED.isoformat(),
                "applicant": {"name": f"시민{i}", "phone": f"010-{2000 + i // 10000:04d}-{i % 10000:04d}"},
                "notice_channels": ["sms"]}

    def file(self, i: int) -> bool:
        """One attempt; True when answered 201."""
        key = f"broker-loss-{i}"
        try:
            r = self.http.post("/v1/petitions", json=self.petition(i), headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            with self.lock:
                self.answers.append(Answer(key, None, False, time.time(), type(exc).__name__))
            return False
        answer = Answer(key, r.status_code, r.headers.get("content-type", "").startswith("application/problem+json"),
                        time.time(), "" if r.status_code == 201 else r.text[:300])
        with self.lock:
            self.answers.append(answer)
            if r.status_code == 201:
                body = r.json()
                if key in self.acked and self.acked[key]["case_id"] != body["case_id"]:
                    raise AssertionError(f"{key}: a second 201 named another case: {self.acked[key]} then {body}")
                self.acked.setdefault(key, {**body, "acked_at": answer.at})
        return r.status_code == 201

    def stream(self, indexes: list[int], interval: float, rejected: list[int]) -> None:
        next_at = time.monotonic()
        for i in indexes:
            if not self.file(i):
                with self.lock:
                    rejected.append(i)
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)


def wait_for(condition: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what()}")
        time.sleep(0.5)


def events(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every event on the topic, read by a fresh consumer (no group) from the start."""
    log = KafkaLog(bootstrap, timeout_s=10)
    try:
        return [json.loads(r.value) | {"_ts": r.timestamp_ms / 1000} for r in read_all(log, topic)[0]]
    finally:
        log.close()


def listed_cases(http: httpx.Client) -> list[str]:
    """Every case intake's read model lists (the projection writes it from the log)."""
    out: list[str] = []
    cursor: str | None = None
    while True:
        page = http.get("/v1/petitions", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        out += [item["case_id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return out


def test_a_broker_killed_mid_stream_loses_and_repeats_nothing(tmp_path: Path, cluster: KafkaCluster,
                                                              postgres_url: str) -> None:
    prefix = f"brokerloss{int(time.time())}."
    topics = Topics(prefix)
    clock = tmp_path / "clock"
    clock.write_text((RECEIVED + timedelta(hours=1)).isoformat())  # no deadline passes during the run
    figures: dict[str, Any] = {}
    began = time.monotonic()

    def lap(what: str) -> None:
        figures.setdefault("seconds into the run", {})[what] = round(time.monotonic() - began, 1)

    system = RunningSystem(tmp_path, {
        "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
        "CHARTERWATCH_KAFKA_REPLICATION_FACTOR": "3", "CHARTERWATCH_KAFKA_MIN_INSYNC_REPLICAS": "2",
        "CHARTERWATCH_TOPIC_PREFIX": prefix, "CHARTERWATCH_DATABASE_URL": fresh_database(postgres_url),
        "CHARTERWATCH_CLOCK_FILE": str(clock), "CHARTERWATCH_PII_KEYS": PII_KEYS,
        "CHARTERWATCH_MONITOR_SESSION_TIMEOUT_S": "8", "CHARTERWATCH_LOG_LEVEL": "warning"})
    try:
        lap("system up")
        # The services created their topics with the settings' replication, not the broker's default.
        assert {len(p["replicas"]) for p in cluster.partitions([topics.petition_events, topics.sla_events])} == {3}
        assert cluster.topic_config(topics.petition_events, "min.insync.replicas") == {"min.insync.replicas": "2"}

        driver = Integrator(system.http)
        rejected: list[int] = []
        shares = [list(range(PETITIONS))[k::WRITERS] for k in range(WRITERS)]
        writers = [threading.Thread(target=driver.stream, args=(share, WRITERS / RATE, rejected)) for share in shares]
        for w in writers:
            w.start()

        # kill -9 the node leading most petition partitions a third of the way in; start it again once
        # two thirds are in (and it has been down long enough to be fenced), or after 25 s at most.
        wait_for(lambda: driver.acked_count() >= PETITIONS // 3 or not any(w.is_alive() for w in writers), 120,
                 lambda: f"a third of the petitions answered ({driver.acked_count()} so far)")
        victim = cluster.busiest_leader([topics.petition_events])
        killed_at = time.time()
        cluster.kill(victim)
        lap("node killed")
        down_since = time.monotonic()
        while time.monotonic() - down_since < 25 and not (
                time.monotonic() - down_since >= 10 and driver.acked_count() >= 2 * PETITIONS // 3):
            time.sleep(0.5)
        assert victim not in cluster.running()
        restarted_at = time.time()
        cluster.start(victim)
        lap("node restarted")
        for w in writers:
            w.join(300)
        lap("stream sent")
        figures |= {"killed node": victim, "down for s": round(restarted_at - killed_at, 1),
                    "answered 201 in the stream": driver.acked_count(), "not 201 in the stream": len(rejected)}

        # The integrator sends the rejected ones again, with the same keys, until each is answered 201.
        retry_deadline = time.monotonic() + 120
        for i in sorted(rejected):
            while not driver.file(i):
                assert time.monotonic() < retry_deadline, f"petition {i} still refused: {driver.answers[-1]}"
                time.sleep(1.0)
        # And a few answered ones once more: the same answer, no second case.
        for key in list(driver.acked)[:10]:
            driver.file(int(key.rsplit("-", 1)[1]))

        statuses = Counter(a.status for a in driver.answers)
        figures["answers"] = {str(k): n for k, n in sorted(statuses.items(), key=lambda kv: str(kv[0]))}
        wrong = [a for a in driver.answers if a.status != 201 and not (a.status == 503 and a.problem)]
        assert not wrong, f"answers other than 201 or 503 problem+json: {wrong[:5]} ({len(wrong)} in all)"
        assert len(driver.acked) == PETITIONS, f"{PETITIONS - len(driver.acked)} petitions never answered 201"

        # The restarted node caught up: every partition of every topic has its three replicas in sync.
        all_topics = [s.name for s in topics.specs()]
        wait_for(lambda: not cluster.under_replicated(all_topics), 120,
                 lambda: f"every ISR whole again: {cluster.under_replicated(all_topics)[:5]}")
        lap("ISRs whole")

        # Every 201 on the log exactly once; nothing on it that was not answered 201.
        acked_events = {a["event_id"]: a for a in driver.acked.values()}
        wait_for(lambda: acked_events.keys() <= {e["event_id"] for e in events(cluster.bootstrap, topics.petition_events)},
                 120, lambda: "every acknowledged petition on the log")
        on_log = events(cluster.bootstrap, topics.petition_events)
        by_id = Counter(e["event_id"] for e in on_log)
        repeated = {i: n for i, n in by_id.items() if n > 1}
        assert not repeated, f"events on the petition log more than once: {list(repeated.items())[:5]} ({len(repeated)})"
        assert by_id.keys() == acked_events.keys(), (
            f"on the log, not answered 201: {len(by_id.keys() - acked_events.keys())}; "
            f"answered 201, not on the log: {len(acked_events.keys() - by_id.keys())}")
        per_case = Counter(e["case_id"] for e in on_log if e["event_type"] == "PetitionReceived")
        cases = {a["case_id"] for a in driver.acked.values()}
        assert per_case.keys() == cases and set(per_case.values()) == {1}, (
            f"cases with other than one PetitionReceived: {[(c, n) for c, n in per_case.items() if n != 1][:5]}; "
            f"filed, not received: {len(cases - per_case.keys())}")
        figures["longest wait of a 201 for the log, s"] = round(max(
            e["_ts"] - acked_events[e["event_id"]]["acked_at"] for e in on_log), 1)

        # The consumers went on: the monitor opened each case's statutory obligation, once: one decision
        # (one event id) per case. The same event written again (a worker's at-least-once window) is
        # deduplicated by every consumer; it is counted below, not failed.
        def opened() -> Counter[str]:
            return Counter(case for case, _ in {(e["case_id"], e["event_id"])
                                                for e in events(cluster.bootstrap, topics.sla_events)
                                                if e["event_type"] == "ObligationOpened"
                                                and e["payload"]["kind"] == "statutory_deadline"})

        wait_for(lambda: opened().keys() >= cases, 150,
                 lambda: f"the monitor to open every case's deadline ({len(cases - opened().keys())} missing)")
        lap("monitor done")
        sla = events(cluster.bootstrap, topics.sla_events)
        twice = {c: n for c, n in opened().items() if n > 1}
        assert not twice, f"statutory deadlines opened more than once: {list(twice.items())[:5]} ({len(twice)} cases)"
        assert opened().keys() == cases, f"obligations of cases nobody filed: {opened().keys() - cases}"
        sla_ids = Counter(e["event_id"] for e in sla)
        figures["sla events written twice (same id)"] = sum(n - 1 for n in sla_ids.values() if n > 1)

        # ... and the projection lists every case, each once.
        wait_for(lambda: len(set(listed_cases(system.http)) & cases) == len(cases), 120,
                 lambda: f"the read model to list every case ({len(set(listed_cases(system.http)) & cases)} of {len(cases)})")
        lap("projection done")
        listed = listed_cases(system.http)
        assert sorted(listed) == sorted(cases), (
            f"the read model disagrees with the log: {len(listed)} rows for {len(cases)} cases")
    except BaseException:
        # what the services said, for the failure's reader (warnings and errors only)
        said = [line for line in system.text().splitlines() if '"level": "info"' not in line]
        print("\n".join(said[-60:]))
        raise
    finally:
        levels = Counter(e.get("level") for e in system.log_events())
        figures["services' log lines (warning, error)"] = [levels["warning"], levels["error"]]
        figures["parts failed and restarted"] = sum(e.get("event") == "loop_failed" for e in system.log_events())
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        code = system.stop()
    assert code in (0, 130), f"charterwatch up did not stop cleanly ({code}):\n{system.text()[-3000:]}"
