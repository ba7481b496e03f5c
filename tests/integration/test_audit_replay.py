"""Audit replay against what the live services recorded (embedded log and the real broker): golden
cases agree exactly; a decision altered after the fact, a rewritten event, a charter revised after
receipt and an old event version are all handled as the audit requires."""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.audit.replay import officials_found, replay_case
from services.audit.service import case_report, replay_all, verify
from services.audit.source import read_log
from services.notify.channels.files import FileChannel
from services.notify.channels.inbox import InboxChannel
from services.notify.delivery import RetryPolicy
from services.platform.log.partitioner import partition_for
from services.sla_monitor.runner import MonitorLoop
from services.wiring import petition_projection_runner
from shared.charters import CharterBook
from shared.events import decode, encode
from shared.instants import KST
from shared.notices.render import Renderer
from tests.integration.conftest import api_token, make_container
from tests.integration.test_lifecycle import APPLICANT, OFFICIAL, do

T0 = datetime(2026, 11, 2, 10, tzinfo=KST)  # a Monday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class World:
    """Intake over HTTP and the other services stepped by hand on one log, with one driven clock."""

    def __init__(self, c, clock: Clock, tmp: Path) -> None:
        self.c, self.clock, self.tmp = c, clock, tmp
        self.http = TestClient(wiring.intake_app(c))
        self.audit = wiring.audit(c)
        self.http.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
        self.start_monitor()
        self.compensation = [wiring.compensation_consumer(c), wiring.strike_counter(c)]
        self.notify = wiring.notify_worker(
            c, channels={"sms": FileChannel(tmp / "sms"), "email": FileChannel(tmp / "email"),
                         "inbox": InboxChannel(c.database("notify").sessions, clock)},
            policy=RetryPolicy(2, 0.01), decisions_topic=None, clock=clock)

    def start_monitor(self) -> None:
        self.monitor = MonitorLoop(self.c.log, self.c.topics, self.c.dead_letters("sla_monitor"), self.c.calendar,
                                   self.c.charters, self.clock)
        positions = self.monitor.restore()
        self.readers = [self.c.log.reader(topic, at) for topic, at in positions.items()]

    def stop_monitor(self) -> None:
        for r in self.readers:
            r.close()

    def pump(self) -> None:
        """Let every service catch up with the log, twice (notices feed back into the monitor)."""
        petition_projection_runner(self.c).run(poll_timeout=0.2, until_caught_up=True)
        for _ in range(2):
            for reader in self.readers:
                while records := reader.poll(max_records=1000, timeout=0.3):
                    self.monitor.step(records)
            self.monitor.step([])
            for loop in self.compensation:
                loop.run(poll_timeout=0.2, until_caught_up=True)
            self.notify.run(poll_timeout=0.2, until_caught_up=True)

    def at(self, when: datetime) -> str:
        self.clock.now = when
        return when.isoformat()

    def file(self, municipality: str = "dangjin", petition_type: str = "grievance") -> str:
        r = self.http.post("/v1/petitions", json={
            "municipality_id": municipality, "petition_type": petition_type, "channel": "visit", "title": "보도블록 파손",
            "received_at": self.at(T0), "applicant": APPLICANT, "notice_channels": ["sms", "inbox"]})
        assert r.status_code == 201, r.text
        return r.json()["case_id"]


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def world(request, tmp_path: Path):
    clock = Clock(T0)
    if request.param == "kafka":
        from services.platform.log.kafka import KafkaLog

        c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", clock=clock,
                           log=KafkaLog(request.getfixturevalue("kafka_bootstrap")),
                           topic_prefix=request.getfixturevalue("topic_prefix"))
    else:
        c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", clock=clock)
    w = World(c, clock, tmp_path)
    yield w
    w.stop_monitor()
    c.close()


def scripted(w: World) -> dict[str, str]:
    """The golden cases, run through the live services."""
    cases: dict[str, str] = {}
    cases["extension"] = w.file()
    cases["pause"] = w.file()
    cases["transfer"] = w.file()
    cases["objection"] = w.file()
    cases["late_breach"] = w.file()
    cases["voucher_cancelled"] = w.file(municipality="seongnam")
    w.pump()
    for case_id in cases.values():
        if case_id != cases["voucher_cancelled"]:
            do(w.http, case_id, "assignment", w.at(T0 + timedelta(hours=1)), official=OFFICIAL)
    do(w.http, cases["pause"], "supplement-requests", w.at(T0 + timedelta(days=1)), items="도면")
    do(w.http, cases["transfer"], "transfers", w.at(T0 + timedelta(days=1)), scope="within_agency",
       to_department="건설과", reason="소관 부서")
    w.pump()
    do(w.http, cases["pause"], "supplements", w.at(T0 + timedelta(days=3)))
    do(w.http, cases["extension"], "extensions", w.at(T0 + timedelta(days=7)), period="7d", reason="관계기관 협의",
       expected_completion="2026-11-19T18:00:00+09:00")
    w.pump()
    do(w.http, cases["objection"], "resolution", w.at(T0 + timedelta(days=7, hours=1)), outcome="refused",
       explanation="요건 미충족", refusal_reasons="도로법 제61조", remedies="60일 이내 이의신청")
    w.pump()
    do(w.http, cases["objection"], "objections", w.at(T0 + timedelta(days=8)), reason="재검토 요청")
    w.pump()
    # The monitor is down while the Seongnam and 'late breach' deadlines (Tue 11/10 18:00) pass.
    w.stop_monitor()
    w.clock.now = datetime(2026, 11, 12, 9, tzinfo=KST)
    w.start_monitor()  # on recovery it emits the breaches that fell due while it was down
    w.pump()
    page = TestClient(wiring.compensation_app(w.c))
    page.headers["Authorization"] = w.http.headers["Authorization"]
    # Seongnam: a repeat visit by the official's fault; the head approves the voucher; the finding is withdrawn.
    do(w.http, cases["voucher_cancelled"], "repeat-visits", w.at(datetime(2026, 11, 12, 10, tzinfo=KST)),
       official_id="o-3", cause="서류 안내 누락")
    w.pump()
    vouchers = page.get("/v1/vouchers", params={"case_id": cases["voucher_cancelled"]}).json()["items"]
    [visit] = [v for v in vouchers if v["cause"] == "repeat_visit"]
    w.clock.now = datetime(2026, 11, 12, 11, tzinfo=KST)
    assert page.post(f"/v1/vouchers/{visit['voucher_id']}/approval", json={"official_id": "head-1"}).json()["status"] \
        == "issued"
    do(w.http, cases["voucher_cancelled"], "finding-withdrawals", w.at(datetime(2026, 11, 12, 14, tzinfo=KST)),
       finding="repeat_visit", reason="민원인 착오로 확인")
    w.pump()
    return cases


def test_golden_replays_reproduce_what_the_live_services_recorded(world: World) -> None:
    cases = scripted(world)
    snap = read_log(world.c.log, world.c.topics)
    kinds: dict[str, set[str]] = {}
    for name, case_id in cases.items():
        case = snap.cases[case_id]
        r = replay_case(case, world.c.calendar, world.c.charters, Renderer())
        assert r.agrees, f"{name}: {[dataclasses.asdict(d) for d in r.differences]}"
        assert r.rederived.get("sla", 0) > 0 and r.agreed.get("sla", 0) == len(case.sla)
        assert r.agreed.get("compensation", 0) == len(case.compensation)  # officials' actions re-applied, then compared
        kinds[name] = {e.event_type for e in case.sla + case.compensation + case.notices}
    late = snap.cases[cases["late_breach"]]
    [breach] = [e for e in late.sla if e.event_type == "ObligationBreached" and e.payload.kind == "statutory_deadline"]
    assert breach.recorded_at - breach.occurred_at > timedelta(hours=10)  # detected after the restart
    assert {"VoucherProposed", "VoucherIssued"} <= kinds["late_breach"]
    assert "ObligationSuspended" in kinds["pause"] and "NoticeSent" in kinds["extension"]
    assert {"VoucherApproved", "VoucherIssued", "VoucherCancelled"} <= kinds["voucher_cancelled"]
    summary = replay_all(world.audit)
    assert summary.ok and summary.cases == len(cases) and summary.decisions > 50
    assert replay_all(world.audit, workers=2) == summary  # sharded by partition: the same decisions, the same result


def test_strikes_across_partitions_are_counted_in_one_ledger_when_sharded(world: World) -> None:
    """Three discourtesy findings against one official, in cases on partitions of different workers:
    the referral at the third strike is re-derived only if the ledger sees all three, in order."""
    n = world.c.log.partitions(world.c.topics.petition_events)
    cases: list[str] = []
    while {partition_for(c, n) % 2 for c in cases} != {0, 1} or len(cases) < 3:
        cases.append(world.file())
        cases = cases[-3:]
    world.pump()
    for hour, case_id in enumerate(cases, start=1):
        do(world.http, case_id, "discourtesy-findings", world.at(T0 + timedelta(hours=hour)), official_id="o-17",
           finding="불친절 확인")
        world.pump()
    snap = read_log(world.c.log, world.c.topics)
    recorded = [e.event_type for c in cases for e in snap.cases[c].compensation]
    assert "PersonnelActionReferred" in recorded
    one, two = replay_all(world.audit, workers=1), replay_all(world.audit, workers=2)
    assert one.ok, one.disagreements
    assert two == one
    for case_id in cases:  # one case's report reads the official's other cases for their strikes
        report = case_report(world.audit, case_id)
        assert report is not None and report["agrees"], report["differences"]
    alone = replay_case(snap.cases[cases[-1]], world.c.calendar, world.c.charters, Renderer())
    assert [(d.event_type, d.problem) for d in alone.differences] == [
        ("PersonnelActionReferred", "recorded, not re-derived")]  # without them, the third strike is unknown


def test_strikes_of_two_agencies_officials_of_one_id_are_replayed_apart(world: World) -> None:
    """Agency A's "o-17" and agency B's "o-17" are two people: B's third strike is B's referral alone,
    A's two strikes none; the replay decides the same, and A's case report reads only A's cases."""
    b = TestClient(world.http.app)
    b.headers["Authorization"] = f"Bearer {api_token(world.c, 'agency-b')}"
    a_cases = [world.file() for _ in range(2)]
    b_cases = []
    for _ in range(3):
        r = b.post("/v1/petitions", json={
            "municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "보도블록 파손",
            "received_at": world.at(T0), "applicant": APPLICANT, "notice_channels": ["inbox"]})
        assert r.status_code == 201, r.text
        b_cases.append(r.json()["case_id"])
    world.pump()
    for hour, (client, case_id) in enumerate([(world.http, a_cases[0]), (b, b_cases[0]), (world.http, a_cases[1]),
                                              (b, b_cases[1]), (b, b_cases[2])], start=1):
        do(client, case_id, "discourtesy-findings", world.at(T0 + timedelta(hours=hour)), official_id="o-17",
           finding="불친절 확인")
        world.pump()
    snap = read_log(world.c.log, world.c.topics)
    referred = {c: [e.payload.strike_event_ids for e in snap.cases[c].compensation
                    if e.event_type == "PersonnelActionReferred"] for c in a_cases + b_cases}
    b_findings = tuple(str(e.event_id) for c in b_cases for e in snap.cases[c].petition
                       if e.event_type == "DiscourtesyConfirmed")
    assert referred == {**{c: [] for c in a_cases + b_cases[:2]}, b_cases[2]: [b_findings]}
    summary = replay_all(world.audit, workers=2)
    assert summary.ok, summary.disagreements
    for case_id in a_cases + b_cases:
        report = case_report(world.audit, case_id)
        assert report is not None and report["agrees"], report["differences"]
    assert officials_found(snap.cases[a_cases[0]]) == {("agency-a", "o-17")}


def test_a_disagreement_in_any_shard_is_reported(world: World) -> None:
    n = world.c.log.partitions(world.c.topics.petition_events)
    cases = [world.file(), world.file()]
    while {partition_for(c, n) % 2 for c in cases} != {0, 1}:  # a case for each of two workers
        cases.append(world.file())
    world.pump()
    snap = read_log(world.c.log, world.c.topics)
    for case_id in cases:  # a target warning no rule derives, appended as an old release might have
        opened = next(d for d in snap.cases[case_id].sla_records
                      if d["event_type"] == "ObligationOpened" and d["payload"]["kind"] == "charter_target")
        forged = {**opened, "event_id": str(uuid.uuid4()), "event_type": "ObligationBreached",
                  "payload": {**opened["payload"], "severity": "warning"}}
        forged["payload"].pop("replaces_due_at", None)
        world.c.log.append(world.c.topics.sla_events, case_id, json.dumps(forged, ensure_ascii=False).encode())
    summary = replay_all(world.audit, workers=2)
    assert summary.disagreements == {"sla: recorded, not re-derived": len(cases)}
    assert sorted(summary.disagreeing_cases) == sorted(cases)
    assert replay_all(world.audit, workers=1) == summary


def test_a_decision_recorded_differently_is_reported_field_by_field(world: World) -> None:
    case_id = world.file()
    world.pump()
    world.clock.now = datetime(2026, 11, 11, 9, tzinfo=KST)
    world.pump()  # the statutory deadline (11/10 18:00) is breached
    snap = read_log(world.c.log, world.c.topics)
    case = snap.cases[case_id]
    [i] = [n for n, e in enumerate(case.sla) if e.event_type == "ObligationBreached" and e.payload.kind == "statutory_deadline"]
    bad = case.sla[i]
    case.sla_records[i]["payload"]["proof"]["working_seconds_counted"] = 1  # what a buggy release wrote
    r = replay_case(case, world.c.calendar, world.c.charters, Renderer())
    [d] = r.differences
    assert (d.kind, d.event_type, d.problem) == ("sla", "ObligationBreached", "differs")
    assert d.fields == {"payload.proof.working_seconds_counted": (1, bad.payload.proof.working_seconds_counted)}


def test_an_undecodable_decision_is_named_not_skipped(world: World) -> None:
    case_id = world.file()
    world.pump()
    bad = {"envelope_version": 2, "event_id": str(uuid.uuid4()), "case_id": case_id, "event_type": "ObligationBreached",
           "schema_version": 1, "payload": {"obligation_id": "statutory_deadline"}}  # no instants, no proof
    world.c.log.append(world.c.topics.sla_events, case_id, json.dumps(bad).encode())
    report = case_report(world.audit, case_id)
    assert report is not None and not report["agrees"]
    [d] = report["differences"]
    assert (d["event_id"], d["problem"], d["problem_ko"]) == (bad["event_id"], "undecodable", "기록을 읽을 수 없음")
    assert d["fields"]["error"]["recorded"] == "payload.kind: Field required"  # the field at fault


def test_a_decision_recorded_twice_differently_is_reported_a_redelivery_is_not(world: World) -> None:
    case_id = world.file()
    world.pump()
    [opened] = [d for d in read_log(world.c.log, world.c.topics).cases[case_id].sla_records
                if d["payload"]["kind"] == "statutory_deadline"]
    redelivered = {**opened, "recorded_at": "2026-11-02T10:00:05+09:00"}  # at-least-once: sent again, later
    world.c.log.append(world.c.topics.sla_events, case_id, json.dumps(redelivered, ensure_ascii=False).encode())
    assert case_report(world.audit, case_id)["agrees"]
    rewritten = {**opened, "payload": {**opened["payload"], "due_at": "2026-12-31T18:00:00+09:00"}}
    world.c.log.append(world.c.topics.sla_events, case_id, json.dumps(rewritten, ensure_ascii=False).encode())
    [d] = case_report(world.audit, case_id)["differences"]
    assert (d["event_id"], d["problem"]) == (opened["event_id"], "recorded twice, differently")


def test_a_charter_revised_after_receipt_is_not_used(world: World) -> None:
    case_id = world.file()
    world.pump()
    old = world.c.charters.in_force("dangjin", T0)
    target = next(p for p in old.promises if p.kind == "processing_target")
    revised = old.model_copy(update={"version": "2027.1", "effective_from": (T0 + timedelta(days=1)).date(),
                                     "promises": [target.model_copy(update={"fraction": 0.5}) if p is target else p
                                                  for p in old.promises]})
    book = CharterBook([*[v for cid in world.c.charters.ids() for v in world.c.charters.versions(cid)], revised])
    assert book.in_force("dangjin", T0 + timedelta(days=2)).version == "2027.1"
    case = read_log(world.c.log, world.c.topics).cases[case_id]
    r = replay_case(case, world.c.calendar, book, Renderer())
    assert r.agrees and r.charter == f"dangjin {old.version}"


def test_verify_names_the_first_broken_link(world: World, tmp_path: Path) -> None:
    case_id = world.file()
    do(world.http, case_id, "assignment", world.at(T0 + timedelta(hours=1)), official=OFFICIAL)
    do(world.http, case_id, "supplement-requests", world.at(T0 + timedelta(days=1)), items="도면")
    do(world.http, case_id, "supplements", world.at(T0 + timedelta(days=2)))
    report = verify(world.audit, wiring.stored_head(world.c))
    assert report.ok and report.events == 4 and report.unchained == 0
    if not isinstance(world.c.log, __import__("services.platform.log.embedded", fromlist=["EmbeddedLog"]).EmbeddedLog):
        return  # a Kafka topic cannot be rewritten in place; the embedded log stands in for an altered copy
    db = sqlite3.connect(world.c.log.path)
    topic = world.c.topics.petition_events
    raw, offset = db.execute("SELECT value, offset FROM records WHERE topic=? AND key=? ORDER BY offset LIMIT 1 OFFSET 1",
                             (topic, case_id)).fetchone()
    data = json.loads(raw)
    data["payload"]["official"]["name"] = "다른사람"  # rewrite version 2
    db.execute("UPDATE records SET value=? WHERE topic=? AND key=? AND offset=?",
               (json.dumps(data, ensure_ascii=False).encode(), topic, case_id, offset))
    db.commit()
    report = verify(world.audit, wiring.stored_head(world.c))
    [broken] = report.broken
    assert (broken.case_id, broken.case_version) == (case_id, 3) and "rewritten" in broken.problem
    db.execute("DELETE FROM records WHERE topic=? AND key=? AND offset=?", (topic, case_id, offset))  # delete it
    db.commit()
    [broken] = verify(world.audit, wiring.stored_head(world.c)).broken
    assert broken.case_version == 3 and "version 2 is missing" in broken.problem
    db.close()


def test_the_report_over_http_and_the_cli(world: World, tmp_path: Path) -> None:
    case_id = world.file()
    world.pump()
    audit = TestClient(wiring.audit_app(world.c))
    audit.headers["Authorization"] = world.http.headers["Authorization"]  # the audit API: the same API keys
    r = audit.get(f"/v1/audit/cases/{case_id}")
    assert r.status_code == 200 and r.json()["agrees"] and r.json()["charter"].startswith("dangjin")
    labels = [t["label"] for t in r.json()["timeline"]]
    assert "민원 접수" in labels and "의무 발생" in labels
    html = audit.get(f"/v1/audit/cases/{case_id}", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "민원 재현 감사 보고서" in html.text
    assert audit.get("/v1/audit/cases/unknown").status_code == 404
    assert world.http.get(f"/v1/audit/cases/{case_id}").status_code == 404  # intake serves no audit
    early = case_report(world.audit, case_id, as_of=T0 - timedelta(days=1))
    assert early is not None and early["timeline"] == []


def test_a_log_written_with_an_old_event_version_replays() -> None:
    from pydantic import BaseModel, ConfigDict

    from shared.events.registry import event, upcaster

    @event("AuditProbeNoted", 1)
    class ProbeV1(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        text: str

    @event("AuditProbeNoted", 2)
    class ProbeV2(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        text: str
        language: str

    @upcaster("AuditProbeNoted", 1)
    def _v1_to_v2(payload: dict) -> dict:
        return {**payload, "language": "ko"}

    from services.audit.replay import CaseLog
    from shared.events import Envelope
    from tests.unit.test_obligations import Case, kst

    case = Case(at=kst(2026, 11, 2, 10))
    v1 = Envelope(event_id=__import__("uuid").uuid4(), case_id=case.case_id, case_version=0,
                  occurred_at=kst(2026, 11, 2, 11), recorded_at=kst(2026, 11, 2, 11), producer="old-release",
                  payload=ProbeV1(text="메모"))
    raw = encode(v1)
    assert b'"schema_version":1' in raw
    read_back = decode(raw)  # written as version 1, read after version 2 exists
    assert read_back.schema_version == 2 and read_back.payload.language == "ko"
    log = CaseLog(case.case_id, petition=[case.received], notices=[read_back])
    from shared.holiday_source import korean_calendar

    r = replay_case(log, korean_calendar(), CharterBook.bundled(), Renderer(), now=kst(2026, 11, 2, 12))
    assert r.rederived["sla"] > 0  # the old event version did not stop the replay


def test_projections_rebuild_equals_the_live_read_model_and_reports_tampering(world: World) -> None:
    from services.intake.readmodel.rebuild import rebuild

    case_id = world.file()
    do(world.http, case_id, "assignment", world.at(T0 + timedelta(hours=1)), official=OFFICIAL)
    petition_projection_runner(world.c).run(poll_timeout=0.2, until_caught_up=True)
    assert rebuild(world.c.log, world.c.topics, world.c.database("intake").sessions, wiring.petition_projection(world.c)).differences == []
    with world.c.database("intake").sessions.begin() as s:
        s.execute(__import__("sqlalchemy").text("UPDATE petitions SET title = 'changed'"))
    result = rebuild(world.c.log, world.c.topics, world.c.database("intake").sessions, wiring.petition_projection(world.c))
    assert len(result.differences) == 1 and "title" in result.differences[0]
    assert rebuild(world.c.log, world.c.topics, world.c.database("intake").sessions, wiring.petition_projection(world.c)).differences == []  # the live read model was rebuilt from the log


def test_an_event_the_rules_cannot_count_is_reported_not_a_crash(world: World) -> None:
    """A fact with an instant outside the calendar (written before intake bounded its input, or by a
    foreign producer): the replay reports that case undecided with the reason and goes on."""
    from tests.unit.test_obligations import Case, kst

    ordinary = world.file()
    world.pump()
    odd = Case(at=kst(2026, 11, 2, 10), agency="agency-a")
    received = dataclasses.replace(odd.received, occurred_at=kst(2070, 1, 1, 10),  # past the calendar's last year
                                   recorded_at=kst(2070, 1, 1, 10))
    world.c.log.append(world.c.topics.petition_events, odd.case_id, encode(received))
    summary = replay_all(world.audit)
    assert odd.case_id in summary.undecided and "calendar" in summary.undecided[odd.case_id]
    assert not summary.ok and ordinary not in summary.undecided and summary.cases == 2
    report = case_report(world.audit, odd.case_id)
    assert report is not None and report["undecided"] and report["agrees"] is False
    audit = TestClient(wiring.audit_app(world.c))
    audit.headers["Authorization"] = world.http.headers["Authorization"]
    assert audit.get(f"/v1/audit/cases/{odd.case_id}").status_code == 200
    assert audit.get(f"/v1/audit/cases/{odd.case_id}", params={"format": "html"}).status_code == 200
