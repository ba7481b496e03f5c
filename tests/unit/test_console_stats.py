"""The console's statistics over a realistic month (tests/unit/console_world.py: the real petition rules,
obligation book and remedies), each figure checked against counts computed here, independently, from the
events themselves; idempotence under redelivery; tenancy; waiting joins; no applicant data kept."""
from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.console.projection.handler import ProjectionHandler, VersionConflict
from services.console.projection.orm import CaseFactRow, CaseRow
from services.console.schema import Base
from services.console.stats.case import case_detail
from services.console.stats.common import month_before
from services.console.stats.compliance import compliance, compliance_csv
from services.console.stats.overdue import overdue_cases, overdue_csv
from services.console.stats.queue import QueueFilter, work_queue
from services.console.stats.reports import (
    publication_status,
    publish_report,
    report_csv,
    yearly_report,
)
from services.console.stats.satisfaction import satisfaction, satisfaction_csv
from shared.events import Envelope, encode
from shared.events import petition as ev
from shared.instants import KST
from shared.periods import Period
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar
from tests.unit.console_world import CHARTERS, END, Script, World
from tests.unit.console_world import official as assigned

A, B = "agency-a", "agency-b"
NOV = (datetime(2026, 11, 1, tzinfo=KST), datetime(2026, 12, 1, tzinfo=KST))
YEAR = (datetime(2026, 1, 1, tzinfo=KST), datetime(2027, 1, 1, tzinfo=KST))


# -- the truth, from the events alone ------------------------------------------------------------------
@dataclass
class Truth:
    """One case as its events say, tracked here without the projection's code."""

    agency: str = ""
    municipality: str = ""
    channel: str = ""
    petition_type: str = ""
    department: str | None = None
    official: tuple[str, str] | None = None
    status: str = ""
    first_received: datetime | None = None
    received: datetime | None = None  # the clock now (an objection restarts it)
    resolved: datetime | None = None
    pauses: list[list[datetime | None]] = field(default_factory=list)
    facts: list[Envelope] = field(default_factory=list)
    evaluations: list[tuple[datetime, int, str, str | None, str | None, str | None]] = field(default_factory=list)
    sla: list[Envelope] = field(default_factory=list)
    compensation: list[Envelope] = field(default_factory=list)
    notices: list[Envelope] = field(default_factory=list)
    # Decree 13: who handled the case when. A fact is the agency's that handled the case when it happened
    # (a transfer, the sender's); a derived event the agency's handling it after the fact of its version.
    received_by: str = ""  # the agency that first received the petition
    acting: dict[str, str] = field(default_factory=dict)  # fact's event id -> agency
    after: dict[int, str] = field(default_factory=dict)  # case version -> the agency handling it after that fact
    handed_on: dict[str, str | None] = field(default_factory=dict)  # agency -> its last department, once it
    # transferred the case to another

    def last(self, kind: str, *types: str) -> Envelope | None:
        found = [e for e in self.sla if e.payload.kind == kind and (not types or e.event_type in types)]
        return found[-1] if found else None

    def agency_at(self, version: int | None) -> str:
        return self.after.get(version or 0, self.agency)

    def department_of(self, agency: str) -> str | None:
        """The department a row of ``agency`` counts under: the case's now for the agency handling it, the
        one that last handled it there for an agency that handed it on."""
        return self.department if agency == self.agency else self.handed_on.get(agency)


def truths(world: World) -> dict[str, Truth]:
    out: dict[str, Truth] = defaultdict(Truth)
    for e in world.log["petition"]:
        t, p, kind = out[e.case_id], e.payload, e.event_type
        t.facts.append(e)
        t.acting[str(e.event_id)] = t.agency or p.agency_id
        if kind == "PetitionReceived":
            t.agency, t.municipality, t.channel = p.agency_id, p.municipality_id, p.channel.value
            t.petition_type = p.petition_type.value
            t.status = "filed" if t.channel == "internet" else "received"
            if t.status == "received":
                t.first_received = t.received = e.occurred_at
                t.received_by = t.agency
        elif kind == "ReceiptRecorded":
            t.status, t.first_received, t.received = "received", e.occurred_at, e.occurred_at
            t.received_by = t.agency
        elif kind == "OfficialAssigned":
            t.official, t.department = (p.official.official_id, p.official.name), p.official.department
        elif kind == "PetitionTransferred":
            t.official = None
            if p.scope == "other_agency":
                t.handed_on[t.agency] = t.department
                t.agency, t.department = p.to_agency_id, None
            else:
                t.department = p.to_department
        elif kind in ("SupplementRequested", "FieldInvestigationStarted"):
            t.pauses.append([e.occurred_at, None])
        elif kind in ("SupplementReceived", "FieldInvestigationEnded"):
            t.pauses[-1][1] = e.occurred_at
        elif kind == "PetitionResolved":
            t.status, t.resolved = "resolved", e.occurred_at
        elif kind == "PetitionClosed":
            t.status = "closed"
        elif kind == "ObjectionFiled":
            t.status, t.received, t.pauses = "reopened", e.occurred_at, []
        elif kind == "ResultEvaluated":
            t.evaluations.append((e.occurred_at, p.score, p.comment, t.official[0] if t.official else None,
                                  t.official[1] if t.official else None, t.department))
        t.after[e.case_version] = t.agency
    for topic in ("sla", "compensation", "notice"):
        for e in world.log[topic]:
            getattr(out[e.case_id], "notices" if topic == "notice" else topic).append(e)
    return dict(out)


def breaches(t: Truth) -> list[Envelope]:
    voided = {(e.payload.obligation_id, e.payload.due_at) for e in t.sla
              if e.event_type == "ObligationDischarged" and e.payload.voids_breach}
    return [e for e in t.sla if e.event_type == "ObligationBreached"
            and (e.payload.obligation_id, e.payload.due_at) not in voided]


def month(at: datetime) -> str:
    return at.astimezone(KST).strftime("%Y-%m")


def inside(at: datetime | None, span: tuple[datetime, datetime]) -> bool:
    return at is not None and span[0] <= at < span[1]


# -- fixtures --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(calendar: WorkingCalendar) -> World:
    return World(calendar)


@pytest.fixture(scope="module")
def truth(world: World) -> dict[str, Truth]:
    return truths(world)


def feed(sessions: sessionmaker, handler: ProjectionHandler, world: World) -> None:
    with sessions.begin() as s:
        for _, e in world.all_events():  # the petition topic first: nothing waits
            assert handler.handle(s, e, encode(e)) is None


@pytest.fixture(scope="module")
def db(world: World, calendar: WorkingCalendar) -> tuple[sessionmaker, ProjectionHandler]:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    handler = ProjectionHandler(calendar, CHARTERS)
    feed(sessions, handler, world)
    return sessions, handler


@pytest.fixture
def session(db: tuple[sessionmaker, ProjectionHandler]) -> Session:
    with db[0]() as s:
        yield s  # type: ignore[misc]


def snapshot(sessions: sessionmaker) -> dict[str, list[tuple]]:
    with sessions() as s:
        return {t.name: sorted(tuple(map(str, r)) for r in s.execute(select(t)))
                for t in Base.metadata.sorted_tables if t.name.startswith("console_")}


# -- the tests -----------------------------------------------------------------------------------------
def test_the_month_is_realistic(truth: dict[str, Truth]) -> None:
    kinds = Counter(e.event_type for t in truth.values() for e in t.sla + t.compensation)
    assert len(truth) >= 40 and {A, B} <= {t.agency for t in truth.values()}
    assert kinds["ObligationBreached"] and kinds["ObligationAtRisk"] and kinds["ObligationSuspended"]
    assert kinds["VoucherProposed"] and kinds["ApologyOwed"] and kinds["VoucherApproved"]
    assert sum(bool(t.evaluations) for t in truth.values()) >= 10


def test_compliance_per_department_and_month(session: Session, truth: dict[str, Truth],
                                             calendar: WorkingCalendar) -> None:
    for agency in (A, B):
        expected: dict[tuple[str | None, str], dict] = defaultdict(lambda: defaultdict(int))
        spent: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
        for t in truth.values():  # each fact, breach and voucher for the agency that handled the case then
            department = t.department_of(agency)
            if t.received_by == agency and inside(t.first_received, NOV):
                expected[(department, "2026-11")]["received"] += 1
            if t.agency == agency and t.status in ("resolved", "closed") and inside(t.resolved, NOV):
                x = expected[(t.department, month(t.resolved))]  # type: ignore[arg-type]
                x["completed"] += 1
                done = t.last("statutory_deadline", "ObligationDischarged")
                x["on_time_statutory"] += bool(done and done.payload.on_time and not any(
                    b.payload.kind == "statutory_deadline" for b in breaches(t)))
                if t.last("charter_target"):
                    x["completed_with_target"] += 1
                    hit = t.last("charter_target", "ObligationDischarged")
                    x["on_time_target"] += bool(hit and hit.payload.on_time)
                paused = sum(calendar.working_seconds_between(max(s, t.received), min(e, t.resolved))
                             for s, e in t.pauses if e and e > t.received and s < t.resolved)
                period = t.last("statutory_deadline", "ObligationOpened").payload.proof.period
                spent[(t.department, month(t.resolved), t.petition_type)].append(
                    (calendar.working_seconds_between(t.received, t.resolved) - paused,
                     Period.parse(period).working_seconds))
            for f in t.facts:
                if t.acting[str(f.event_id)] == agency and inside(f.occurred_at, NOV):
                    name = {"ProcessingExtended": "extensions", "PetitionTransferred": "transfers",
                            "SupplementRequested": "pauses", "FieldInvestigationStarted": "pauses"}.get(f.event_type)
                    if name:
                        expected[(department, month(f.occurred_at))][name] += 1
            for b in breaches(t):
                if t.agency_at(b.case_version) == agency and inside(b.payload.due_at, NOV):
                    expected[(department, month(b.payload.due_at))][
                        ("breach:" if b.payload.severity == "breach" else "warning:") + b.payload.kind] += 1
            cancelled = {e.payload.voucher_id for e in t.compensation if e.event_type == "VoucherCancelled"}
            for e in t.compensation:
                if e.event_type == "VoucherProposed" and inside(e.occurred_at, NOV) \
                        and t.agency_at(e.case_version) == agency and e.payload.voucher_id not in cancelled:
                    amount = [x.payload.amount_won for x in t.compensation
                              if getattr(x.payload, "voucher_id", None) == e.payload.voucher_id
                              and hasattr(x.payload, "amount_won")][-1]
                    x = expected[(department, month(e.occurred_at))]
                    x["voucher:" + e.payload.cause] += 1
                    x["amount:" + e.payload.cause] += amount
        got = {(c.department, c.month): c for c in compliance(session, agency, 2026, 11)}
        assert set(got) == {k for k, v in expected.items() if any(v.values())}
        for key, c in got.items():
            x = expected[key]
            for name in ("received", "completed", "on_time_statutory", "completed_with_target", "on_time_target",
                         "extensions", "pauses", "transfers"):
                assert getattr(c, name) == x[name], (agency, key, name)
            assert c.breaches == {k[7:]: n for k, n in x.items() if k.startswith("breach:") and n}
            assert c.warnings == {k[8:]: n for k, n in x.items() if k.startswith("warning:") and n}
            assert {k: (v.count, v.amount_won) for k, v in c.vouchers.items()} == {
                k[8:]: (n, x["amount:" + k[8:]]) for k, n in x.items() if k.startswith("voucher:") and n}
            assert c.on_time_rate_statutory == (x["on_time_statutory"] / x["completed"] if x["completed"] else None)
            for petition_type, p in c.processing.items():
                pairs = spent[(*key, petition_type)]
                assert p.cases == len(pairs)
                assert p.average_working_days == pytest.approx(sum(s for s, _ in pairs) / len(pairs) / 28800)
                assert p.average_statutory_days == pytest.approx(sum(d for _, d in pairs) / len(pairs) / 28800)
            assert sum(len(v) for k, v in spent.items() if k[:2] == key) == sum(p.cases for p in c.processing.values())
    whole_year = compliance(session, A, 2026)
    assert {c.month for c in whole_year} == {"2026-11", "2026-12"}
    text = compliance_csv(whole_year)
    assert text.startswith("\ufeff부서,월,지표,구분,값\r\n") and ",2026-11,received,," in text


def test_overdue_review(session: Session, truth: dict[str, Truth], calendar: WorkingCalendar) -> None:
    since = month_before(END)
    for agency in (A, B):
        expected = {}
        for case_id, t in truth.items():
            if t.agency != agency:
                continue
            last = t.last("statutory_deadline", "ObligationOpened", "ObligationBreached", "ObligationSuspended")
            breached = [b for b in breaches(t) if b.payload.kind == "statutory_deadline"]
            if last is None or (last.event_type == "ObligationSuspended" and not breached):
                continue
            due = last.payload.due_at if last.event_type != "ObligationSuspended" else breached[-1].payload.due_at
            is_open = t.status in ("filed", "received", "reopened")
            end = END if is_open else t.resolved
            if end > due and (is_open or t.resolved >= since):  # type: ignore[operator]
                late = calendar.working_seconds_between(due, end)  # type: ignore[arg-type]
                told = [(n.payload.kind, n.occurred_at) for n in t.notices]
                expected[case_id] = (due, "open" if is_open else "completed_late", math.ceil(late / 28800), told)
        got = overdue_cases(session, agency, calendar, END)
        assert {o.case_id: (o.statutory_due_at, o.state, o.days_overdue, [(n.kind, n.at) for n in o.told])
                for o in got} == expected
        assert [o.working_seconds_overdue for o in got] == sorted((o.working_seconds_overdue for o in got),
                                                                  reverse=True)
    rows = overdue_csv(overdue_cases(session, A, calendar, END)).split("\r\n")
    assert rows[0].startswith("\ufeff민원번호,제목,") and len([r for r in rows[1:] if r]) == len(
        overdue_cases(session, A, calendar, END)) > 0


def test_work_queue(session: Session, truth: dict[str, Truth], calendar: WorkingCalendar) -> None:
    for agency in (A, B):
        mine = {c: t for c, t in truth.items() if t.agency == agency and t.status in ("filed", "received", "reopened")}
        queue = work_queue(session, agency, calendar, END)
        assert {i.case_id for i in queue} == set(mine)
        for item in queue:
            t = mine[item.case_id]
            last: dict[str, Envelope] = {}
            for e in t.sla:
                last[e.payload.obligation_id] = e
            warned = any(e.event_type == "ObligationAtRisk" for e in last.values())
            # the monitor's clock ran to END: a statutory deadline passed is a breach on the log
            overdue = any(b.payload.kind == "statutory_deadline" for b in breaches(t))
            assert (item.at_risk, item.overdue) == (warned, overdue), item.case_id
            left = []
            for e in last.values():
                if e.event_type in ("ObligationOpened", "ObligationAtRisk") or (
                        e.event_type == "ObligationBreached" and e.payload.kind == "statutory_deadline"):
                    left.append(calendar.working_seconds_between(END, e.payload.due_at))
                elif e.event_type == "ObligationSuspended":
                    left.append(e.payload.remaining_working_seconds if e.payload.remaining_working_seconds is not None
                                else e.payload.remaining_working_days * 28800)
            assert (item.nearest.remaining_working_seconds if item.nearest else None) == (min(left) if left else None)
        urgent = [i.at_risk or i.overdue for i in queue]
        assert urgent == sorted(urgent, reverse=True)  # at risk and overdue first
        for block in (True, False):
            left = [i.nearest.remaining_working_seconds for i in queue if (i.at_risk or i.overdue) == block and i.nearest]
            assert left == sorted(left)
        some = next(i for i in queue if i.department)
        filtered = work_queue(session, agency, calendar, END, QueueFilter(department=some.department))
        assert {i.case_id for i in filtered} == {c for c, t in mine.items() if t.department == some.department}
        official = next(i.official_id for i in queue if i.official_id)
        assert {i.case_id for i in work_queue(session, agency, calendar, END, QueueFilter(mine=official))} == {
            c for c, t in mine.items() if t.official and t.official[0] == official}


def _summary_expected(truth: dict[str, Truth], agency: str, span: tuple[datetime, datetime],
                      municipality: str | None = None) -> tuple[list, list]:
    cases = [t for t in truth.values() if t.agency == agency and (municipality is None or t.municipality == municipality)]
    evaluations = [(t, e) for t in cases for e in t.evaluations if inside(e[0], span)]
    completed = [t for t in cases if t.status in ("resolved", "closed") and inside(t.resolved, span)]
    return evaluations, completed


def test_satisfaction(session: Session, truth: dict[str, Truth]) -> None:
    for agency in (A, B):
        for span, m in ((YEAR, None), (NOV, 11)):
            evaluations, completed = _summary_expected(truth, agency, span)
            got = satisfaction(session, agency, 2026, m)
            scores = [e[1] for _, e in evaluations]
            assert got.summary.evaluations == len(scores)
            assert got.summary.average_score == (pytest.approx(sum(scores) / len(scores)) if scores else None)
            assert got.summary.distribution == {s: scores.count(s) for s in range(1, 6)}
            answered = sum(bool(t.evaluations) for t in completed)
            assert (got.summary.completed, got.summary.evaluated_cases) == (len(completed), answered)
            by_official = {g.key: g.summary for g in got.by_official}
            for official in {e[3] for _, e in evaluations}:
                mine = [e[1] for _, e in evaluations if e[3] == official]
                assert by_official[official].evaluations == len(mine)
                assert by_official[official].average_score == pytest.approx(sum(mine) / len(mine))
            by_type = {g.key: g.summary.evaluations for g in got.by_petition_type}
            assert by_type == {k: v for k, v in Counter(t.petition_type for t, _ in evaluations).items()} | {
                k: 0 for k in {t.petition_type for t in completed} - {t.petition_type for t, _ in evaluations}}
            assert [c.comment for c in got.comments] == [e[2] for _, e in sorted(evaluations, key=lambda x: x[1][0],
                                                                                 reverse=True) if e[2]]
            assert got.trend.previous.evaluations == 0 and got.trend.evaluations_change == len(scores)
        assert satisfaction_csv(got).startswith("\ufeff구분,코드,이름,평가 건수")


def test_yearly_report_and_its_publication(db: tuple[sessionmaker, ProjectionHandler],
                                           truth: dict[str, Truth]) -> None:
    sessions = db[0]
    with sessions() as s:
        report = yearly_report(s, A, "dangjin", 2026, CHARTERS, END)
        evaluations, completed = _summary_expected(truth, A, YEAR, "dangjin")
        assert report.summary.evaluations == len(evaluations) > 0
        assert report.summary.completed == len(completed)
        assert report.municipality == "당진시"
        assert report.publication.status == "survey_running" and report.publication.promise_id == "D13"
        assert report.publication.due_at == datetime(2027, 1, 31, tzinfo=KST)  # 30 days after the year closes
        assert "comment" not in report_csv(report) and "김주무관" not in report_csv(report)  # open data: no names
        assert yearly_report(s, A, "dangjin", 2026, CHARTERS, datetime(2027, 2, 1, tzinfo=KST)
                             ).publication.status == "breached"
        # agency-b has only the Dangjin case transferred to it (Decree 13): its report counts that one alone
        assert yearly_report(s, B, "dangjin", 2026, CHARTERS, END).summary.evaluations == len(
            _summary_expected(truth, B, YEAR, "dangjin")[0])
        with pytest.raises(ValueError):
            publish_report(s, A, "dangjin", 2026, datetime(2026, 12, 31, tzinfo=KST), "head-1")
    with sessions.begin() as s:
        assert publish_report(s, A, "dangjin", 2026, datetime(2027, 1, 20, tzinfo=KST), "head-1")
        assert not publish_report(s, A, "dangjin", 2026, datetime(2027, 1, 25, tzinfo=KST), "head-2")
    with sessions() as s:
        p = yearly_report(s, A, "dangjin", 2026, CHARTERS, datetime(2027, 3, 1, tzinfo=KST)).publication
        assert (p.status, p.published_by) == ("published_on_time", "head-1")
        assert yearly_report(s, B, "dangjin", 2026, CHARTERS, datetime(2027, 3, 1, tzinfo=KST)
                             ).publication.status == "breached"  # one agency's publication is not another's
    closes, due = datetime(2027, 1, 1, tzinfo=KST), datetime(2027, 1, 31, tzinfo=KST)
    assert publication_status(closes, due, None, closes - timedelta(seconds=1)) == "survey_running"
    assert publication_status(closes, due, None, due) == "open"
    assert publication_status(closes, due, due + timedelta(seconds=1), due) == "published_late"
    assert publication_status(closes, None, None, due) == "not_promised"


def test_one_case_for_its_page(session: Session, truth: dict[str, Truth], calendar: WorkingCalendar) -> None:
    case_id, t = next((c, t) for c, t in truth.items() if t.agency == A and t.compensation and t.notices)
    detail = case_detail(session, A, case_id, calendar, END)
    assert detail is not None
    assert [f.event_type for f in detail.facts] == [e.event_type for e in t.facts]
    assert {o.obligation_id for o in detail.obligations} == {e.payload.obligation_id for e in t.sla}
    assert len(detail.notices) == len(t.notices)
    assert {v.voucher_id for v in detail.vouchers} == {e.payload.voucher_id for e in t.compensation
                                                       if e.event_type == "VoucherProposed"}
    assert len(detail.remedies) == sum(e.event_type in ("ApologyOwed", "RetrainingOrdered", "PersonnelActionReferred")
                                       for e in t.compensation) + sum(f.event_type == "FindingWithdrawn"
                                                                      for f in t.facts)
    for o in detail.obligations:
        assert o.kept == (None if o.state in ("open", "at_risk", "suspended") else
                          o.state == "discharged" and bool(o.on_time))
        if o.running:
            assert o.remaining_working_seconds == calendar.working_seconds_between(END, o.due_at)
    assert "applicant" not in detail.facts[0].payload and "body" not in detail.facts[0].payload


def test_tenancy(session: Session, truth: dict[str, Truth], calendar: WorkingCalendar) -> None:
    theirs = {c for c, t in truth.items() if t.agency == A}
    moved = next(c for c, t in truth.items() if t.agency == B and any(
        f.event_type == "PetitionTransferred" and f.payload.scope == "other_agency" for f in t.facts))
    seen = {i.case_id for i in work_queue(session, B, calendar, END)} | {
        o.case_id for o in overdue_cases(session, B, calendar, END)} | {
        c.case_id for c in satisfaction(session, B, 2026).comments}
    assert not seen & theirs
    assert all(case_detail(session, B, c, calendar, END) is None for c in theirs)
    assert case_detail(session, A, moved, calendar, END) is None  # transferred away: no longer agency-a's
    assert case_detail(session, B, moved, calendar, END) is not None
    assert compliance(session, "agency-none", 2026) == [] and work_queue(session, "agency-none", calendar, END) == []
    assert satisfaction(session, "agency-none", 2026).summary.evaluations == 0


def test_redelivery_changes_nothing(db: tuple[sessionmaker, ProjectionHandler], world: World) -> None:
    sessions, handler = db
    before, applied = snapshot(sessions), handler.applied
    feed(sessions, handler, world)  # every event again, as a relay that published twice would deliver it
    assert snapshot(sessions) == before and handler.applied == applied


def test_derived_events_wait_for_their_petition_facts(world: World, calendar: WorkingCalendar) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    handler = ProjectionHandler(calendar, CHARTERS)
    script = next(s for s in world.scripts if len(s.events) >= 5)
    sla = [e for e in world.log["sla"] if e.case_id == script.case_id]
    later = next(e for e in sla if e.case_version == 2)
    with sessionmaker(engine).begin() as s:
        assert handler.handle(s, sla[0], encode(sla[0])) is not None  # nothing of the case read yet
        first, second, fourth = script.events[0], script.events[1], script.events[3]
        assert handler.handle(s, first, encode(first)) is None
        assert handler.handle(s, later, encode(later)) is not None  # its case version is not read yet
        assert handler.handle(s, second, encode(second)) is None
        assert handler.handle(s, later, encode(later)) is None
        with pytest.raises(VersionConflict):  # a gap in the case's versions is refused (parked), never folded
            handler.handle(s, fourth, encode(fourth))


def test_no_applicant_data_is_kept(db: tuple[sessionmaker, ProjectionHandler], world: World) -> None:
    dump = repr(snapshot(db[0]))
    assert "010-9999-0000" not in dump and "Yw==" not in dump and "ref-0001-" not in dump
    assert "보도블록 파손" in dump  # the title is the case's content, shown to officials
    with db[0]() as s:
        columns = {c["name"] for c in inspect(s.get_bind()).get_columns(CaseRow.__tablename__)}
    assert not columns & {"applicant", "applicant_sealed", "applicant_ref", "body"}


# -- a transfer (Decree 13): what happened before stays the sending agency's -------------------------------
def like(template: Envelope, case_id: str, version: int, at: datetime, **changes: object) -> Envelope:
    """A derived event of the month's kind, for another case, version and instant."""
    return Envelope(event_id=uuid.uuid4(), case_id=case_id, occurred_at=at, recorded_at=at,
                    producer=template.producer, payload=template.payload.model_copy(update=changes),
                    charter=template.charter, case_version=version)


def test_a_transfer_leaves_each_agency_what_happened_while_it_handled_the_case(world: World,
                                                                               calendar: WorkingCalendar) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    handler = ProjectionHandler(calendar, CHARTERS)
    s = Script(A, "dangjin")
    day = datetime(2026, 11, 3, 10, tzinfo=KST)
    s.add(ev.PetitionReceived(municipality_id="dangjin", agency_id=A, petition_type="grievance", channel="visit",
                              title="민원: 가로등 고장", body="", applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                              applicant_ref="ref-7777-" + "x" * 16, notice_channels=["sms"]), day)
    s.add(ev.OfficialAssigned(official=assigned(A, 0)), day + timedelta(minutes=30))  # o-a1 김주무관, 도로과
    s.add(ev.SupplementRequested(items="현장 사진"), day + timedelta(hours=4))
    s.add(ev.SupplementReceived(), day + timedelta(hours=23))
    s.add(ev.PetitionTransferred(scope="other_agency", to_agency_id=B, reason="관할 기관"), day + timedelta(hours=25))
    s.add(ev.OfficialAssigned(official=assigned(B, 0)), day + timedelta(hours=26))  # o-b1 최주무관, 복지과
    s.add(ev.SupplementRequested(items="도면"), day + timedelta(days=2))
    assert [e.case_version for e in s.events] == [1, 2, 3, 4, 5, 6, 7]
    breach = next(e for e in world.log["sla"] if e.event_type == "ObligationBreached"
                  and e.payload.severity == "breach")
    proposed = next(e for e in world.log["compensation"] if e.event_type == "VoucherProposed")
    apology = next(e for e in world.log["compensation"] if e.event_type == "ApologyOwed")
    breach_a = like(breach, s.case_id, 4, day + timedelta(hours=24), due_at=day + timedelta(hours=24),
                    obligation_id="transfer", kind="transfer")
    voucher_a = like(proposed, s.case_id, 4, day + timedelta(hours=24, minutes=5), voucher_id=str(uuid.uuid4()))
    apology_a = like(apology, s.case_id, 4, day + timedelta(hours=24, minutes=5))
    breach_b = like(breach, s.case_id, 6, day + timedelta(days=3), due_at=day + timedelta(days=3),
                    obligation_id="callback:cb1", kind="callback")
    with sessions.begin() as session:
        for e in [*s.events[:4], breach_a, *s.events[4:], voucher_a, apology_a, breach_b]:  # the voucher and the
            assert handler.handle(session, e, encode(e)) is None  # apology read after the transfer
    with sessions() as session:
        facts = session.execute(select(CaseFactRow.version, CaseFactRow.agency_id, CaseFactRow.department)
                                .order_by(CaseFactRow.version)).all()
        assert [(v, a) for v, a, _ in facts] == [(1, A), (2, A), (3, A), (4, A), (5, A), (6, B), (7, B)]
        assert {d for _, a, d in facts if a == A} == {"도로과"}  # the department that last handled it at agency-a
        mine, theirs = compliance(session, A, 2026, 11), compliance(session, B, 2026, 11)
        assert [(e.department, e.received, e.pauses, e.transfers, e.breaches, list(e.vouchers)) for e in mine] == [
            ("도로과", 1, 1, 1, {"transfer": 1}, [proposed.payload.cause])]
        assert [(e.department, e.received, e.pauses, e.transfers, e.breaches, list(e.vouchers)) for e in theirs] == [
            ("복지과", 0, 1, 0, {"callback": 1}, [])]
        assert session.get(CaseRow, s.case_id).agency_id == B  # the case is agency-b's
        assert case_detail(session, A, s.case_id, calendar, END) is None
        detail = case_detail(session, B, s.case_id, calendar, END)
        assert detail is not None and detail.remedies == []  # agency-a's apology is about agency-a's official
        assert [f.agency_id for f in detail.facts] == [A, A, A, A, A, B, B]
