"""The console's projection behind the live services: intake over HTTP, the SLA monitor, compensation and
notify on one log with a driven clock (tests/integration/test_audit_replay.py's golden month, and more).
Its rows and statistics are checked against counts read from the log here; a redelivered log changes
nothing; derived topics read before the petition facts wait and end the same; the HTTP API answers each
agency with its own cases only, in JSON and CSV, with problem+json errors."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services import wiring
from services.bootstrap import Container
from services.console.api import Stats, install, stats_router
from services.console.projection.orm import (
    CaseRow,
    NoticeRow,
    ObligationRow,
    VoucherRow,
)
from services.console.schema import RUNTIME, Base
from services.console.stats.compliance import compliance
from services.console.stats.overdue import overdue_cases
from services.console.stats.satisfaction import satisfaction
from services.platform.http import problems
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.reading import read_all
from shared.events import Envelope, decode
from shared.instants import KST
from tests.integration.conftest import api_token, make_container
from tests.integration.test_audit_replay import T0, Clock, World, scripted
from tests.integration.test_lifecycle import APPLICANT, OFFICIAL, do

A, B = "agency-a", "agency-b"
NOW = datetime(2026, 11, 30, 10, tzinfo=KST)
TOPICS = ("petition_events", "sla_events", "compensation_events", "notice_events")
OFFICIAL_B = {**OFFICIAL, "official_id": "o-b1", "name": "최주무관", "department": "복지과"}


def month_of_events(w: World) -> dict[str, str]:
    """The golden cases, then results, evaluations and another agency's petitions, to the month's end."""
    cases = scripted(w)
    b = TestClient(wiring.intake_app(w.c))
    b.headers["Authorization"] = f"Bearer {api_token(w.c, B)}"
    for i in range(2):
        r = b.post("/v1/petitions", json={
            "municipality_id": "yeonje-gu", "petition_type": "question_system", "channel": "phone",
            "title": f"복지 문의 {i}", "received_at": w.at(datetime(2026, 11, 13, 10 + i, tzinfo=KST)),
            "applicant": APPLICANT, "notice_channels": ["sms"]})
        assert r.status_code == 201, r.text
        cases[f"b{i}"] = r.json()["case_id"]
        do(b, cases[f"b{i}"], "assignment", w.at(datetime(2026, 11, 13, 11 + i, tzinfo=KST)), official=OFFICIAL_B)
    w.pump()
    do(w.http, cases["extension"], "resolution", w.at(datetime(2026, 11, 16, 10, tzinfo=KST)), outcome="accepted",
       explanation="보수 완료")
    do(w.http, cases["pause"], "resolution", w.at(datetime(2026, 11, 16, 11, tzinfo=KST)), outcome="accepted",
       explanation="처리 완료")
    do(b, cases["b0"], "resolution", w.at(datetime(2026, 11, 17, 10, tzinfo=KST)), outcome="accepted",
       explanation="안내 완료")
    w.pump()
    do(w.http, cases["extension"], "evaluations", w.at(datetime(2026, 11, 17, 15, tzinfo=KST)), score=5,
       comment="빠른 처리 감사합니다")
    do(w.http, cases["pause"], "evaluations", w.at(datetime(2026, 11, 18, 9, tzinfo=KST)), score=2, comment="")
    do(b, cases["b0"], "evaluations", w.at(datetime(2026, 11, 18, 10, tzinfo=KST)), score=4, comment="좋아요")
    w.pump()
    w.clock.now = NOW  # the month goes on: what falls due by now is breached
    w.pump()
    return cases


def records(c: Container) -> dict[str, list[Envelope]]:
    """Each topic's events, once each (a relay may have published one twice)."""
    out: dict[str, list[Envelope]] = {}
    for t in TOPICS:
        seen: set[object] = set()
        out[t] = []
        for e in (decode(r.value) for r in read_all(c.log, getattr(c.topics, t))[0]):
            if e.event_id not in seen:
                seen.add(e.event_id)
                out[t].append(e)
    return out


def snapshot(c: Container) -> dict[str, list[tuple]]:
    with c.database("console").sessions() as s:
        return {t.name: sorted(tuple(map(str, r)) for r in s.execute(select(t)))
                for t in Base.metadata.sorted_tables if t.name.startswith("console_") and "consumer" not in t.name
                and t.name not in ("console_users", "console_sessions")}


def project(c: Container) -> int:
    return wiring.console_projection(c).run(poll_timeout=0.2, until_caught_up=True)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One month through the live services, shared by the tests (a redelivery leaves it as it was)."""
    tmp_path = tmp_path_factory.mktemp("live")
    clock = Clock(T0)
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", clock=clock)
    w = World(c, clock, tmp_path)
    cases = month_of_events(w)
    project(c)
    yield c, clock, cases
    w.stop_monitor()
    c.close()


def test_rows_follow_the_log(live) -> None:  # type: ignore[no-untyped-def]
    c, clock, cases = live
    log = records(c)
    facts: dict[str, list[Envelope]] = defaultdict(list)
    for e in log["petition_events"]:
        facts[e.case_id].append(e)
    with c.database("console").readers() as s:
        rows = {r.case_id: r for r in s.execute(select(CaseRow)).scalars()}
        assert {k: (r.version, r.agency_id) for k, r in rows.items()} == {
            k: (len(v), v[0].payload.agency_id) for k, v in facts.items()}
        numbers = {k: (v[0].payload.case_number, v[0].payload.receipt_number) for k, v in facts.items()}
        for e in log["petition_events"]:  # a formal receipt may give the agency's receipt number
            if e.event_type == "ReceiptRecorded" and e.payload.receipt_number:
                numbers[e.case_id] = (numbers[e.case_id][0], e.payload.receipt_number)
        assert {k: (r.case_number, r.receipt_number) for k, r in rows.items()} == numbers
        assert all(n for n, _ in numbers.values())  # intake numbers every case it files
        last: dict[tuple[str, str], str] = {}
        for e in log["sla_events"]:
            last[(e.case_id, e.payload.obligation_id)] = e.event_type
        states = {(o.case_id, o.obligation_id): o.state for o in s.execute(select(ObligationRow)).scalars()}
        named = {"ObligationOpened": "open", "ObligationAtRisk": "at_risk", "ObligationBreached": "breached",
                 "ObligationDischarged": "discharged", "ObligationSuspended": "suspended"}
        assert states == {k: named[v] for k, v in last.items()}
        sent = sum(e.event_type == "NoticeSent" for e in log["notice_events"])
        assert s.scalar(select(func.count()).select_from(NoticeRow).where(NoticeRow.status == "sent")) == sent > 0
        status = {"VoucherProposed": "proposed", "VoucherApproved": "approved", "VoucherIssued": "issued",
                  "VoucherDelivered": "delivered", "VoucherCancelled": "cancelled"}
        vouchers: dict[str, str] = {}
        for e in log["compensation_events"]:
            if e.event_type in status:
                vouchers[e.payload.voucher_id] = status[e.event_type]
        assert {v.voucher_id: v.status for v in s.execute(select(VoucherRow)).scalars()} == vouchers
        assert "cancelled" in vouchers.values() and "issued" in vouchers.values()
        # statistics against the log: breaches of agency-a's cases in November, by obligation kind
        breaches: dict[str, int] = defaultdict(int)
        for e in log["sla_events"]:
            if e.event_type == "ObligationBreached" and e.payload.severity == "breach" \
                    and facts[e.case_id][0].payload.agency_id == A and e.payload.due_at.month == 11:
                breaches[e.payload.kind] += 1
        got: dict[str, int] = defaultdict(int)
        for entry in compliance(s, A, 2026, 11):
            for kind, n in entry.breaches.items():
                got[kind] += n
        assert got == breaches and breaches["statutory_deadline"] >= 1
        late = {o.case_id: o for o in overdue_cases(s, A, c.calendar, NOW)}
        breached = [e for e in log["sla_events"] if e.event_type == "ObligationBreached"
                    and e.payload.kind == "statutory_deadline" and e.case_id == cases["late_breach"]]
        assert late[cases["late_breach"]].statutory_due_at == breached[-1].payload.due_at
        assert late[cases["late_breach"]].days_overdue == -(-c.calendar.working_seconds_between(
            breached[-1].payload.due_at, NOW) // 28800)
        scores = [e.payload.score for e in log["petition_events"] if e.event_type == "ResultEvaluated"
                  and facts[e.case_id][0].payload.agency_id == A]
        sat = satisfaction(s, A, 2026, 11)
        assert sat.summary.evaluations == len(scores) == 2
        assert sat.summary.average_score == sum(scores) / len(scores)
        assert satisfaction(s, B, 2026, 11).summary.evaluations == 1


def test_redelivery_changes_nothing(live) -> None:  # type: ignore[no-untyped-def]
    c, _, _ = live
    before = snapshot(c)
    for t in TOPICS:  # a relay that published everything twice
        for r in read_all(c.log, getattr(c.topics, t))[0]:
            c.log.append(getattr(c.topics, t), r.key, r.value)
    project(c)
    assert snapshot(c) == before
    assert project(c) == 0  # a restart resumes from its committed positions


def test_derived_topics_first_wait_then_end_the_same(live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c, clock, _ = live
    expected = snapshot(c)
    source = {t: read_all(c.log, getattr(c.topics, t))[0] for t in TOPICS}
    fresh = make_container(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}", clock=clock,
                           log=EmbeddedLog(tmp_path / "fresh-log.db"))
    try:
        for t in TOPICS[1:]:
            for r in source[t]:
                fresh.log.append(getattr(fresh.topics, t), r.key, r.value)
        project(fresh)
        with fresh.database("console").readers() as s:
            assert s.scalar(select(func.count()).select_from(CaseRow)) == 0
            assert s.scalar(select(func.count()).select_from(RUNTIME.held).where(RUNTIME.held.state == "waiting")) > 0
        for r in source["petition_events"]:
            fresh.log.append(fresh.topics.petition_events, r.key, r.value)
        project(fresh)
        with fresh.database("console").readers() as s:
            assert s.scalar(select(func.count()).select_from(RUNTIME.held)) == 0
        assert snapshot(fresh) == expected
    finally:
        fresh.close()


def _api(c: Container, clock: Clock, bound: bool) -> FastAPI:
    """An app serving the statistics: the router bound to what it reads, or the one that finds it on the app."""
    app = FastAPI()
    problems.install(app)
    stats = Stats(c.database("console").readers, c.calendar, c.charters, clock)
    if bound:
        app.include_router(stats_router(stats, c.database("access").readers))
    else:
        app.state.keys = c.database("access").readers
        install(app, stats)
    return app


@pytest.mark.parametrize("bound", [True, False], ids=["stats_router", "router"])
def test_http_api_scoped_to_the_calling_agency(live, bound: bool) -> None:  # type: ignore[no-untyped-def]
    c, clock, cases = live
    app = _api(c, clock, bound)
    a, b, anonymous = TestClient(app), TestClient(app), TestClient(app)
    a.headers["Authorization"] = f"Bearer {api_token(c, A)}"
    b.headers["Authorization"] = f"Bearer {api_token(c, B)}"
    mine = {v for k, v in cases.items() if not k.startswith("b")}
    queue = a.get("/v1/stats/queue").json()
    assert queue and {i["case_id"] for i in queue} <= mine
    assert queue[0]["overdue"] or queue[0]["at_risk"]
    # a case by its number: the agency's own, whatever its status (the extension case is resolved)
    with c.database("console").readers() as s:
        numbers = {r.case_id: r.case_number for r in s.execute(select(CaseRow)).scalars()}
    for case_id in (queue[0]["case_id"], cases["extension"]):
        assert [i["case_id"] for i in a.get("/v1/stats/queue", params={"number": f" {numbers[case_id]} "}).json()] == [
            case_id]
        assert b.get("/v1/stats/queue", params={"number": numbers[case_id]}).json() == []
    assert a.get("/v1/stats/queue", params={"number": numbers[cases["b1"]]}).json() == []
    assert {i["case_id"] for i in b.get("/v1/stats/queue").json()} == {cases["b1"]}
    assert cases["late_breach"] in {o["case_id"] for o in a.get("/v1/stats/overdue").json()}
    for path in ("/v1/stats/queue", "/v1/stats/overdue", "/v1/stats/overdue.csv", "/v1/stats/compliance?year=2026",
                 "/v1/stats/compliance.csv?year=2026&month=11", "/v1/stats/satisfaction?year=2026",
                 "/v1/stats/satisfaction.csv?year=2026", "/v1/stats/reports/yeonje-gu/2026",
                 "/v1/stats/reports/yeonje-gu/2026.json", "/v1/stats/reports/yeonje-gu/2026.csv"):
        got = b.get(path)
        assert got.status_code == 200, (path, got.text)
        assert not any(case_id in got.text for case_id in mine), path  # nothing of agency-a's
        if path.endswith(".csv") or ".csv?" in path:
            assert got.headers["content-type"].startswith("text/csv") and got.text.startswith("\ufeff")
        assert anonymous.get(path).status_code == 401
    report = b.get("/v1/stats/reports/yeonje-gu/2026.json").json()
    assert report["summary"]["evaluations"] == 1 and report["publication"]["status"] == "survey_running"
    for suffix in ("", ".json"):  # open data: never who published it
        assert "published_by" not in b.get(f"/v1/stats/reports/yeonje-gu/2026{suffix}").json()["publication"]
    assert a.get("/v1/stats/compliance.csv", params={"year": 2026, "month": 11}).text.count("\r\n") > 5
    for path, field in (("/v1/stats/compliance?month=13", "month"), ("/v1/stats/compliance?year=1800", "year"),
                        ("/v1/stats/satisfaction.csv?year=3000", "year"), ("/v1/stats/reports/x/2026.csv", "municipality"),
                        ("/v1/stats/queue?limit=0", "limit")):
        bad = a.get(path)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json", path
        assert bad.json()["field"] == field, (path, bad.json())
    missing = a.get("/v1/stats/reports/atlantis/2026")
    assert missing.status_code == 404 and missing.json()["field"] == "municipality"
    # a municipality whose petitions another agency handles: no report for this one, as the page answers
    # (agency-b's Yeonje-gu, with agency-a's key)
    for suffix in ("", ".json", ".csv"):
        theirs = a.get(f"/v1/stats/reports/yeonje-gu/2026{suffix}")
        assert theirs.status_code == 404 and theirs.json()["field"] == "municipality", (suffix, theirs.text)
        assert b.get(f"/v1/stats/reports/dangjin/2026{suffix}").status_code == 404, suffix


def test_migration_0003_gives_back_to_the_sending_agency_what_happened_before_a_transfer(tmp_path: Path) -> None:
    """Rows projected before 0003 were moved to the receiving agency at a transfer: 0003 attributes each fact,
    breach, voucher, remedy and evaluation to the agency that handled the case then (security review #4)."""
    import json
    import uuid
    from datetime import timedelta, timezone

    from alembic import command
    from sqlalchemy import text

    from services.console.projection.handler import scrub
    from services.console.schema import CHAIN
    from services.platform.db.engine import alembic_config, make_engine, migrate
    from shared.events import petition as ev
    from shared.sealing import Sealed
    from tests.unit.console_world import Script, official

    def utc(at: datetime) -> datetime:
        return at.astimezone(timezone.utc).replace(tzinfo=None)

    day = datetime(2026, 11, 3, 10, tzinfo=KST)
    moved, kept = Script(A, "dangjin"), Script(A, "dangjin")
    for s in (moved, kept):
        s.add(ev.PetitionReceived(municipality_id="dangjin", agency_id=A, petition_type="grievance",
                                  channel="visit", title="가로등 고장", body="",
                                  applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                                  applicant_ref="ref-5555-" + "x" * 16, notice_channels=["sms"]), day)
        s.add(ev.OfficialAssigned(official=official(A, 0)), day + timedelta(minutes=30))  # 도로과
    moved.add(ev.PetitionTransferred(scope="other_agency", to_agency_id=B, reason="관할 기관"), day + timedelta(hours=5))
    moved.add(ev.OfficialAssigned(official=official(B, 0)), day + timedelta(hours=6))  # 복지과
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), CHAIN.location)
    cfg.attributes["version_table"] = CHAIN.version_table
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        for s, agency, department in ((moved, B, "복지과"), (kept, A, "도로과")):
            conn.execute(text(
                "INSERT INTO console_cases (case_id, agency_id, municipality_id, petition_type, channel, title, "
                "department, status, arrived_at, extensions, pauses, transfers, at_risk, statutory_breached, "
                "target_missed, version, last_event_at) VALUES (:c, :a, 'dangjin', 'grievance', 'visit', '가로등 고장', "
                ":d, 'received', :at, 0, 0, 0, 0, 0, 0, :v, :at)"),
                {"c": s.case_id, "a": agency, "d": department, "at": utc(day), "v": len(s.events)})
            for e in s.events:
                conn.execute(text("INSERT INTO console_case_facts (case_id, version, event_id, event_type, occurred_at, "
                                  "envelope) VALUES (:c, :v, :e, :t, :at, :j)"),
                             {"c": s.case_id, "v": e.case_version, "e": str(e.event_id), "t": e.event_type,
                              "at": utc(e.occurred_at), "j": json.dumps(scrub(e), ensure_ascii=False)})
        # what 0002's projection did at the transfer: every row of the case moved to agency-b
        for event_id, due in (("breach-before", day + timedelta(hours=2)), ("breach-after", day + timedelta(hours=8))):
            conn.execute(text("INSERT INTO console_breaches (event_id, case_id, agency_id, obligation_id, kind, "
                              "severity, due_at, voided) VALUES (:e, :c, :a, 'transfer', 'transfer', 'breach', :d, 0)"),
                         {"e": event_id, "c": moved.case_id, "a": B, "d": utc(due)})
        conn.execute(text("INSERT INTO console_vouchers (voucher_id, case_id, agency_id, cause, amount_won, status, "
                          "needs_approval, proposed_at, updated_at) VALUES ('v-before', :c, :a, 'repeat_visit', 10000, "
                          "'proposed', 0, :at, :at)"), {"c": moved.case_id, "a": B, "at": utc(day + timedelta(hours=3))})
        conn.execute(text("INSERT INTO console_remedies (event_id, case_id, agency_id, kind, at) VALUES "
                          "(:e, :c, :a, 'apology', :at)"),
                     {"e": str(uuid.uuid4()), "c": moved.case_id, "a": B, "at": utc(day + timedelta(hours=3))})
    migrate(engine, CHAIN)
    with engine.connect() as conn:
        facts = conn.execute(text("SELECT case_id, version, agency_id, department FROM console_case_facts "
                                  "ORDER BY case_id, version")).all()
        assert [(v, a, d) for c, v, a, d in facts if c == moved.case_id] == [
            (1, A, "도로과"), (2, A, "도로과"), (3, A, "도로과"), (4, B, None)]
        assert [(v, a, d) for c, v, a, d in facts if c == kept.case_id] == [(1, A, None), (2, A, None)]
        assert sorted(conn.execute(text("SELECT event_id, agency_id, department FROM console_breaches")).all()) == [
            ("breach-after", B, None), ("breach-before", A, "도로과")]
        assert conn.execute(text("SELECT agency_id, department FROM console_vouchers")).one() == (A, "도로과")
        assert conn.execute(text("SELECT agency_id FROM console_remedies")).scalar_one() == A
    engine.dispose()


def test_migration_0005_numbers_the_cases_projected_before_it(tmp_path: Path) -> None:
    """The cases projected before 0005 get their case and receipt numbers from their stored facts (a receipt
    number given at the formal receipt replaces the filing's); a case filed before numbers existed has none."""
    import json
    from datetime import timedelta, timezone

    from alembic import command
    from sqlalchemy import text

    from services.console.projection.handler import scrub
    from services.console.schema import CHAIN
    from services.platform.db.engine import alembic_config, make_engine, migrate
    from shared.events import petition as ev
    from shared.sealing import Sealed
    from tests.unit.console_world import Script

    def utc(at: datetime) -> datetime:
        return at.astimezone(timezone.utc).replace(tzinfo=None)

    day = datetime(2026, 11, 3, 10, tzinfo=KST)
    numbered, received, old = Script(A, "dangjin"), Script(A, "dangjin"), Script(A, "dangjin")
    for s, channel, numbers in ((numbered, "visit", {"case_number": "dangjin-2026-000001",
                                                      "receipt_number": "2026-민원-0001"}),
                                (received, "internet", {"case_number": "dangjin-2026-000002"}),
                                (old, "visit", {})):
        s.add(ev.PetitionReceived(municipality_id="dangjin", agency_id=A, petition_type="grievance",
                                  channel=channel, title="가로등 고장", body="",
                                  applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                                  applicant_ref="ref-5555-" + "x" * 16, notice_channels=["sms"], **numbers), day)
    received.add(ev.ReceiptRecorded(receipt_number="2AA-2611-0001"), day + timedelta(hours=1))
    old_facts = [scrub(e) for e in old.events]
    for fact in old_facts:  # as a v1 event was stored: no number fields at all
        fact["payload"] = {k: v for k, v in fact["payload"].items() if k not in ("case_number", "receipt_number")}
        fact["schema_version"] = 1
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), CHAIN.location)
    cfg.attributes["version_table"] = CHAIN.version_table
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        for s in (numbered, received, old):
            conn.execute(text(
                "INSERT INTO console_cases (case_id, agency_id, municipality_id, petition_type, channel, title, "
                "status, arrived_at, extensions, pauses, transfers, at_risk, statutory_breached, target_missed, "
                "version, last_event_at) VALUES (:c, :a, 'dangjin', 'grievance', 'visit', '가로등 고장', 'received', "
                ":at, 0, 0, 0, 0, 0, 0, :v, :at)"), {"c": s.case_id, "a": A, "at": utc(day), "v": len(s.events)})
            stored = old_facts if s is old else [scrub(e) for e in s.events]
            for e, fact in zip(s.events, stored):
                conn.execute(text("INSERT INTO console_case_facts (case_id, version, event_id, event_type, occurred_at, "
                                  "envelope, agency_id) VALUES (:c, :v, :e, :t, :at, :j, :a)"),
                             {"c": s.case_id, "v": e.case_version, "e": str(e.event_id), "t": e.event_type,
                              "at": utc(e.occurred_at), "j": json.dumps(fact, ensure_ascii=False), "a": A})
    migrate(engine, CHAIN)
    with engine.connect() as conn:
        got = dict((r[0], (r[1], r[2])) for r in conn.execute(
            text("SELECT case_id, case_number, receipt_number FROM console_cases")))
    engine.dispose()
    assert got == {numbered.case_id: ("dangjin-2026-000001", "2026-민원-0001"),
                   received.case_id: ("dangjin-2026-000002", "2AA-2611-0001"), old.case_id: (None, None)}
