"""The console's statistics pages over HTTP (issue 18): 처리 현황 (/compliance), 만족도 (/satisfaction) and
연간 보고서 (/reports), served by the console app with its pages (``wiring.console_routers``) over a
realistic month (tests/unit/console_world.py: the real petition rules, obligation book and remedies)
projected into the console's database.

Every figure a page shows is read back from its HTML tables and checked against counts computed here
from the events themselves (tests/unit/test_console_stats.py's ``truths``: no projection or statistics
code), for each role of the agency; another agency's departments, officials and comments never appear;
the CSV downloads carry the BOM and the expected rows; the yearly report's PDF is a real PDF whose text
layer holds the Korean report, drawn in a Korean font; publishing is refused to an official and without
CSRF, works for a department head, and moves the obligation's status."""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services import wiring
from services.bootstrap import Container
from services.console.accounts.orm import UserRow
from services.console.projection.handler import ProjectionHandler
from services.console.stats.privacy import without_contacts
from services.console.web.app import create_app
from shared.events import encode
from shared.events import petition as ev
from shared.instants import KST
from shared.periods import Period
from shared.sealing import Sealed
from shared.working_time import WorkingCalendar
from tests.conftest import _missing
from tests.integration.conftest import api_token, make_container
from tests.integration.test_console_accounts import (
    HTML,
    PASSWORD,
    Clock,
    add_user,
    deps,
    login_csrf,
)
from tests.unit.console_world import CHARTERS, END, OFFICIALS, Script, World, official
from tests.unit.test_console_stats import NOV, YEAR, Truth, breaches, inside, truths

A, B = "agency-a", "agency-b"
ROLES = ("official", "department_head", "auditor", "administrator")
WORDS = {"grievance": "고충민원", "question_system": "질의민원(제도·절차)", "suggestion": "건의민원", "other": "기타민원"}
OBLIGATION_WORDS = {"statutory_deadline": "법정 처리기한", "charter_target": "헌장 목표기한", "transfer": "이송 기한",
                    "formal_receipt": "전자민원 정식 접수 기한", "interim_notice": "중간통지",
                    "extension_notice": "연장통지", "callback": "회신 약속"}
CAUSE_WORDS = {"statutory_deadline_missed": "법정 처리기한 위반", "repeat_visit": "재방문", "discourtesy": "불친절",
               "administrative_error": "행정착오", "insincere_handling": "불성실 처리"}
TYPED_CONTACTS = "빨리 연락 주세요 010-1234-5678 hong@example.com"
# agency-b's own departments and officials (a case transferred to it keeps nothing of agency-a's)
THEIRS = {A: ("복지과", "민원과", "최주무관", "정주무관"), B: ("도로과", "건축과", "김주무관", "이주무관", "박주무관")}


# -- reading a page as a person would: its tables, by id ---------------------------------------------------
class Tables(HTMLParser):
    """Each <table id=...>'s rows as lists of cell texts (th and td alike), whitespace collapsed."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "caption":
            self._in_caption = False
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._in_caption:
            self._cell.append(data)


def table(html: str, table_id: str) -> dict[str, list[str]]:
    """The body rows of a table keyed by their first cell (the header row left out)."""
    rows = Tables(html).tables[table_id]
    return {r[0]: r[1:] for r in rows[1:]}


def charts_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="cw-charts">(.*?)</script>', html, re.S)
    assert found, "the charts' data block"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "-"


def days(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 28800:.1f}일"


# -- the system: the month projected into the console's database, users of both agencies ------------------
@dataclass
class System:
    c: Container
    clock: Clock
    app: Any
    truth: dict[str, Truth]
    calendar: WorkingCalendar

    def client(self, username: str) -> TestClient:
        """A browser signed in as ``username`` now (a session lasts 8 hours: sign in after moving the clock)."""
        client = TestClient(self.app)
        signed = client.post("/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": login_csrf(client)}, headers=HTML, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        return client


def evaluated_with_contacts(world: World) -> None:
    """One more evaluation whose comment carries a phone number and an e-mail address (a citizen typed them)."""
    for s in world.scripts:
        if s.agency == A and s.state.status.value in ("resolved", "closed") and not any(
                e.event_type == "ResultEvaluated" for e in s.events):
            env = s.add(ev.ResultEvaluated(score=1, comment=TYPED_CONTACTS), END - timedelta(hours=1))
            if env is not None:
                world.log["petition"].append(env)
                return
    raise AssertionError("no completed case of agency-a left to evaluate")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, calendar: WorkingCalendar) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("console-pages")
    clock = Clock()
    clock.at = END
    c = make_container(tmp, f"sqlite:///{tmp / 'console.db'}", clock=clock)
    world = World(calendar)
    evaluated_with_contacts(world)
    handler = ProjectionHandler(calendar, CHARTERS)
    with c.database("console").sessions.begin() as session:
        for _, e in world.all_events():
            assert handler.handle(session, e, encode(e)) is None
    for agency in (A, B):
        official_id, name, department = OFFICIALS[agency][0]
        for role in ROLES:
            add_user(c, f"{agency}-{role}", agency=agency, role=role, display_name=f"{role} 사용자",
                     **({"official_id": official_id, "department": department} if role == "official" else {}))
    yield System(c, clock, create_app(deps(c), routers=wiring.console_routers(c)), truths(world), calendar)
    c.close()


def page(s: System, username: str, path: str) -> str:
    r = s.client(username).get(path, headers=HTML)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    assert r.headers["cache-control"] == "no-store"
    return r.text


def no_other_agency(html: str, agency: str) -> None:
    for word in THEIRS[agency]:
        assert word not in html, (agency, word)
    # never the applicant's data: the body carried a phone number, the reference an id of the citizen
    assert "010-9999-0000" not in html and "ref-0" not in html


# -- the counts, from the events ---------------------------------------------------------------------------
def expected_compliance(truth: dict[str, Truth], agency: str, span: tuple[datetime, datetime],
                        calendar: WorkingCalendar) -> dict[str, Any]:
    """Per department over the span: the page's department table; by type, kind and cause: its other tables.
    A fact, a breach and a voucher count for the agency that handled the case when it happened (Decree 13:
    a transfer is the sender's), under the department that handled it there last (now, for its agency)."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    spent: dict[str, list[tuple[int, int]]] = defaultdict(list)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    causes: dict[str, Counter[str]] = defaultdict(Counter)
    for t in truth.values():
        x = per[t.department_of(agency) or "(미배정)"]
        x["received"] += t.received_by == agency and inside(t.first_received, span)
        if t.agency == agency and t.status in ("resolved", "closed") and inside(t.resolved, span):
            x["completed"] += 1
            done = t.last("statutory_deadline", "ObligationDischarged")
            x["on_time_statutory"] += bool(done and done.payload.on_time and not any(
                b.payload.kind == "statutory_deadline" for b in breaches(t)))
            if t.last("charter_target"):
                x["with_target"] += 1
                hit = t.last("charter_target", "ObligationDischarged")
                x["on_time_target"] += bool(hit and hit.payload.on_time)
            paused = sum(calendar.working_seconds_between(max(a, t.received), min(b, t.resolved))  # type: ignore[type-var]
                         for a, b in t.pauses if b and b > t.received and a < t.resolved)  # type: ignore[operator]
            opened = t.last("statutory_deadline", "ObligationOpened")
            spent[t.petition_type].append((calendar.working_seconds_between(t.received, t.resolved) - paused,  # type: ignore[arg-type]
                                           Period.parse(opened.payload.proof.period).working_seconds))  # type: ignore[union-attr]
        for f in t.facts:
            if t.acting[str(f.event_id)] == agency and inside(f.occurred_at, span):
                name = {"ProcessingExtended": "extensions", "PetitionTransferred": "transfers",
                        "SupplementRequested": "pauses", "FieldInvestigationStarted": "pauses"}.get(f.event_type)
                if name:
                    x[name] += 1
        for b in breaches(t):
            if t.agency_at(b.case_version) == agency and inside(b.payload.due_at, span):
                severity = "breaches" if b.payload.severity == "breach" else "warnings"
                x[severity] += 1
                kinds[b.payload.kind][severity] += 1
        cancelled = {e.payload.voucher_id for e in t.compensation if e.event_type == "VoucherCancelled"}
        for e in t.compensation:
            if e.event_type == "VoucherProposed" and inside(e.occurred_at, span) \
                    and t.agency_at(e.case_version) == agency and e.payload.voucher_id not in cancelled:
                amount = [y.payload.amount_won for y in t.compensation
                          if getattr(y.payload, "voucher_id", None) == e.payload.voucher_id
                          and hasattr(y.payload, "amount_won")][-1]
                x["vouchers"] += 1
                x["amount"] += amount
                causes[e.payload.cause]["count"] += 1
                causes[e.payload.cause]["amount"] += amount
    return {"departments": {d: c for d, c in per.items() if any(c.values())}, "spent": spent, "kinds": kinds,
            "causes": causes}


def department_row(x: Counter[str]) -> list[str]:
    return [str(x["received"]), str(x["completed"]),
            f"{x['on_time_statutory']} / {x['completed']} ({pct(x['on_time_statutory'], x['completed'])})",
            f"{x['on_time_target']} / {x['with_target']} ({pct(x['on_time_target'], x['with_target'])})",
            str(x["extensions"]), str(x["pauses"]), str(x["transfers"]), str(x["breaches"]), str(x["warnings"]),
            f"{x['vouchers']}건 {x['amount']:,}원"]


def evaluations_of(truth: dict[str, Truth], agency: str, span: tuple[datetime, datetime],
                   municipality: str | None = None) -> tuple[list[tuple[Truth, tuple]], list[Truth]]:
    cases = [t for t in truth.values() if t.agency == agency and municipality in (None, t.municipality)]
    return ([(t, e) for t in cases for e in t.evaluations if inside(e[0], span)],
            [t for t in cases if t.status in ("resolved", "closed") and inside(t.resolved, span)])


def summary_row(scores: list[int], completed: list[Truth]) -> list[str]:
    """평가 건수, 평균 점수, 1-5점, 처리 완료, 평가된 민원, 응답률, as the tables write them."""
    answered = sum(bool(t.evaluations) for t in completed)
    return [str(len(scores)), f"{sum(scores) / len(scores):.2f}점" if scores else "-",
            *[str(scores.count(i)) for i in range(1, 6)], str(len(completed)), str(answered),
            pct(answered, len(completed))]


# -- 처리 현황 -------------------------------------------------------------------------------------------
def test_compliance_shows_each_department_as_the_log_counts_it_to_every_role(system: System) -> None:
    expected = expected_compliance(system.truth, A, NOV, system.calendar)
    departments = expected["departments"]
    assert {"도로과", "건축과"} <= set(departments)
    total: Counter[str] = sum(departments.values(), Counter())
    for role in ROLES:  # every role reads the same figures
        html = page(system, f"{A}-{role}", "/compliance?year=2026&month=11")
        rows = table(html, "table-departments")
        assert rows == {**{d: department_row(x) for d, x in departments.items()}, "기관 전체": department_row(total)}
        no_other_agency(html, A)

    html = page(system, f"{A}-auditor", "/compliance?year=2026&month=11")
    processing = table(html, "table-processing")
    assert processing == {WORDS[t]: [str(len(pairs)), days(sum(s for s, _ in pairs) / len(pairs)),
                                     days(sum(p for _, p in pairs) / len(pairs))]
                          for t, pairs in expected["spent"].items()}
    assert table(html, "table-breaches") == {OBLIGATION_WORDS[k]: [str(c["breaches"]), str(c["warnings"])]
                                             for k, c in expected["kinds"].items()}
    assert table(html, "table-vouchers") == {CAUSE_WORDS[k]: [str(c["count"]), f"{c['amount']:,}원"]
                                             for k, c in expected["causes"].items()}
    # the charts draw the table's numbers
    charts = charts_of(html)
    volume = charts["chart-volume"]
    assert volume["labels"] == list(departments)
    assert volume["datasets"][0]["data"] == [departments[d]["received"] for d in volume["labels"]]
    assert volume["datasets"][1]["data"] == [departments[d]["completed"] for d in volume["labels"]]
    on_time = charts["chart-on-time"]["datasets"][0]["data"]
    assert on_time == [round(departments[d]["on_time_statutory"] / departments[d]["completed"] * 100, 1)
                       for d in volume["labels"]]
    for chart in ("chart-volume", "chart-on-time", "chart-processing", "chart-breaches", "chart-vouchers"):
        assert f'data-chart="{chart}" role="img"' in html and f'id="{chart}-caption"' in html
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html and 'src="/static/stats-charts.js"' in html

    theirs = expected_compliance(system.truth, B, NOV, system.calendar)["departments"]
    html = page(system, f"{B}-official", "/compliance?year=2026&month=11")
    rows = table(html, "table-departments")
    assert {k: v for k, v in rows.items() if k != "기관 전체"} == {d: department_row(x) for d, x in theirs.items()}
    no_other_agency(html, B)


def test_compliance_over_the_year_by_month_and_one_department(system: System) -> None:
    html = page(system, f"{A}-department_head", "/compliance?year=2026&month=")
    months = table(html, "table-months")
    assert set(months) == {"2026년 11월", "2026년 12월"}
    dec = (datetime(2026, 12, 1, tzinfo=KST), datetime(2027, 1, 1, tzinfo=KST))
    for label, span in (("2026년 11월", NOV), ("2026년 12월", dec)):
        total: Counter[str] = sum(expected_compliance(system.truth, A, span, system.calendar)["departments"].values(),
                                  Counter())
        assert months[label][:2] == [str(total["received"]), str(total["completed"])]
    assert "chart-months" in charts_of(html)
    road = page(system, f"{A}-department_head", "/compliance?year=2026&month=11&department=%EB%8F%84%EB%A1%9C%EA%B3%BC")
    assert set(table(road, "table-departments")) == {"도로과", "기관 전체"}
    assert '<option value="도로과" selected>' in road
    # a year the working calendar does not count, a month that is none: refused with a Korean page
    for bad in ("/compliance?year=1999", "/compliance?year=2026&month=13", "/compliance?year=abc"):
        r = system.client(f"{A}-official").get(bad, headers=HTML)
        assert r.status_code in (400, 422) and "잘못된 요청" in r.text, bad


def test_compliance_csv_has_the_bom_and_the_agencys_rows(system: System) -> None:
    r = system.client(f"{A}-official").get("/compliance.csv?year=2026&month=11", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="compliance-2026-11.csv"'
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["부서", "월", "지표", "구분", "값"]
    departments = expected_compliance(system.truth, A, NOV, system.calendar)["departments"]
    got = {(d, m): v for d, month, m, k, v in rows[1:] if month == "2026-11" and not k}
    for d, x in departments.items():
        for measure, key in (("received", "received"), ("completed", "completed"), ("extensions", "extensions"),
                             ("pauses", "pauses"), ("transfers", "transfers"), ("on_time_statutory", "on_time_statutory")):
            assert got[(d, measure)] == str(x[key]), (d, measure)
    assert {d for d, *_ in rows[1:]} == set(departments)
    assert not any(word in r.content.decode("utf-8-sig") for word in THEIRS[A])
    # no API key in the browser: without a session the download is refused
    anonymous = TestClient(system.app).get("/compliance.csv?year=2026&month=11")
    assert anonymous.status_code == 401


# -- 만족도 ----------------------------------------------------------------------------------------------
def test_satisfaction_per_department_type_and_official_as_the_citizens_scored(system: System) -> None:
    evaluations, completed = evaluations_of(system.truth, A, YEAR)
    scores = [e[1] for _, e in evaluations]
    for role in ROLES:
        html = page(system, f"{A}-{role}", "/satisfaction?year=2026")
        no_other_agency(html, A)
        departments = table(html, "table-departments")
        for d in ("도로과", "건축과"):
            assert departments[d] == summary_row([e[1] for _, e in evaluations if e[5] == d],
                                                 [t for t in completed if t.department == d]), (role, d)
        types = table(html, "table-types")
        for t, label in WORDS.items():
            mine = [e[1] for x, e in evaluations if x.petition_type == t]
            done = [x for x in completed if x.petition_type == t]
            if mine or done:
                assert types[label] == summary_row(mine, done), (role, t)
        assert table(html, "table-scores") == {f"{i}점": [str(scores.count(i)), "0"] for i in range(5, 0, -1)}
        officials = table(html, "table-officials") if 'id="table-officials"' in html else {}
        comments = [r for r in Tables(html).tables.get("table-comments", [])[1:]]
        if role == "official":  # o-a1 김주무관 sees only their own
            assert list(officials) == ["김주무관 (o-a1)"]
            mine = [e for _, e in evaluations if e[3] == "o-a1"]
            assert officials["김주무관 (o-a1)"][:2] == [str(len(mine)), f"{sum(e[1] for e in mine) / len(mine):.2f}점"]
            assert sorted(r[-1] for r in comments) == sorted(without_contacts(e[2]) for e in mine if e[2])
            assert "다른 공무원의 결과는 부서장" in html
        else:
            assert set(officials) == {f"{name} ({oid})" for oid, name, _ in OFFICIALS[A]}
            for oid, name, _ in OFFICIALS[A]:
                mine = [e[1] for _, e in evaluations if e[3] == oid]
                assert officials[f"{name} ({oid})"][:2] == [str(len(mine)), f"{sum(mine) / len(mine):.2f}점"]
            assert sorted(r[-1] for r in comments) == sorted(without_contacts(e[2]) for _, e in evaluations if e[2])
            assert all(r[1] in {f"{i}점" for i in range(1, 6)} for r in comments)
        # the comment with a phone number and an e-mail address: shown masked, never as typed
        assert "010-1234-5678" not in html and "hong@example.com" not in html
        if role != "official":
            assert "빨리 연락 주세요 (연락처 가림) (연락처 가림)" in html
    html = page(system, f"{A}-auditor", "/satisfaction?year=2026")
    answered = sum(bool(t.evaluations) for t in completed)
    assert f"{len(scores)}건" in html and f"{sum(scores) / len(scores):.2f}점" in html
    assert pct(answered, len(completed)) in html and f"처리 완료 {len(completed)}건 중 {answered}건 평가" in html
    assert "전년 동기 0건" in html  # nothing a year earlier
    charts = charts_of(html)
    assert charts["chart-scores"]["datasets"][0]["data"] == [scores.count(i) for i in range(1, 6)]

    theirs, _ = evaluations_of(system.truth, B, YEAR)
    html = page(system, f"{B}-auditor", "/satisfaction?year=2026")
    no_other_agency(html, B)
    assert table(html, "table-scores")["5점"][0] == str(sum(e[1] == 5 for _, e in theirs))


def test_satisfaction_csv(system: System) -> None:
    r = system.client(f"{A}-department_head").get("/satisfaction.csv?year=2026&month=11", headers=HTML)
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["구분", "코드", "이름", "평가 건수", "평균 점수"]
    evaluations, completed = evaluations_of(system.truth, A, NOV)
    total = next(row for row in rows if row[0] == "total")
    assert total[3] == str(len(evaluations))
    assert {row[1] for row in rows if row[0] == "official"} <= {oid for oid, _, _ in OFFICIALS[A]}
    assert {row[1] for row in rows if row[0] == "department"} <= {"도로과", "건축과", "(미배정)"}
    official = system.client(f"{A}-official").get("/satisfaction.csv?year=2026&month=11", headers=HTML)
    assert {row[1] for row in csv.reader(io.StringIO(official.content.decode("utf-8-sig"))) if row[0] == "official"} \
        == {"o-a1"}


# -- 연간 보고서 -----------------------------------------------------------------------------------------
def test_the_reports_index_and_a_report_for_every_role(system: System) -> None:
    system.clock.at = END
    for role in ROLES:
        html = page(system, f"{A}-{role}", "/reports")
        rows = Tables(html).tables["table-reports"][1:]
        assert {(r[0], r[1]) for r in rows} == {("2026년", "당진시"), ("2026년", "경기도 성남시")}
        dangjin = next(r for r in rows if r[1] == "당진시")
        assert dangjin[2] == "D13: 조사 기간 종료 후 30일 이내 공표"
        assert dangjin[4] == "2027년 1월 30일까지"
        no_other_agency(html, A)

        report = page(system, f"{A}-{role}", "/reports/dangjin/2026")
        evaluations, completed = evaluations_of(system.truth, A, YEAR, "dangjin")
        scores = [e[1] for _, e in evaluations]
        assert table(report, "table-report-scores")["합계"][0] == str(len(scores))
        assert all(table(report, "table-report-scores")[f"{i}점"][0] == str(scores.count(i)) for i in range(1, 6))
        types = table(report, "table-report-types")
        for t, label in WORDS.items():
            mine = [e[1] for x, e in evaluations if x.petition_type == t]
            done = [x for x in completed if x.petition_type == t]
            if mine or done:
                assert types[label] == summary_row(mine, done)
        assert not any(name in report for _, name, _ in OFFICIALS[A])  # open data: no official's name
        assert "느렸어요" not in report and "친절했습니다" not in report  # no comment in the report
    # another agency's municipality it never handled: no such report
    assert system.client(f"{B}-administrator").get("/reports/seongnam/2026", headers=HTML).status_code == 404
    assert system.client(f"{A}-administrator").get("/reports/yeonje-gu/2026", headers=HTML).status_code == 404


def hangul_fonts(pdf: bytes) -> tuple[str, set[str]]:
    from tests.unit.test_audit_pdf import hangul_fonts as fonts_of
    from tests.unit.test_audit_pdf import needed, page_text

    pdfium = needed("pypdfium2")
    doc = pdfium.PdfDocument(pdf)
    return "".join(page_text(p) for p in doc), set().union(*(fonts_of(p) for p in doc))


def test_publication_draft_pdf_csv_json_and_the_obligation_status(system: System) -> None:
    system.clock.at = END  # 2026-12-04: the survey period (the year) is still running
    head, official = system.client(f"{A}-department_head"), system.client(f"{A}-official")
    before = head.get("/reports/dangjin/2026", headers=HTML).text
    assert "조사 기간 중" in before and "초안" in before and "미공표" in before
    assert "조사 기간이 2027년 1월 1일에 끝난 뒤 공표할 수 있습니다" in before
    # the draft is downloaded by those who publish it, not by an official
    for suffix in (".pdf", ".csv", ".json"):
        assert official.get(f"/reports/dangjin/2026{suffix}", headers=HTML).status_code == 403
    assert "공표된 뒤에 PDF와 공개용 자료" in official.get("/reports/dangjin/2026", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', before).group(1)  # type: ignore[union-attr]
    early = head.post("/reports/dangjin/2026/publish", data={"csrf_token": token}, headers=HTML)
    assert early.status_code == 409 and "조사 기간이 끝난 뒤" in early.text

    pdf = head.get("/reports/dangjin/2026.pdf", headers=HTML)
    if pdf.status_code == 503:
        _missing("the PDF report: WeasyPrint or a Korean font")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    text, fonts = hangul_fonts(pdf.content)
    flat = re.sub(r"\s+", "", text)
    for words in ("당진시2026년민원처리결과만족도조사보고서", "초안", "조사결과요약", "민원종류별", "부서별", "월별",
                  "2027년1월30일까지"):
        assert words in flat, words
    assert fonts and all(re.search("Nanum|CJK", f) for f in fonts), fonts
    for name in ("김주무관", "이주무관", "박주무관", "느렸어요"):
        assert name not in flat  # open data: no official's name, no comment

    # the year closes; on 20 January a department head publishes (within 30 days: on time)
    system.clock.at = datetime(2027, 1, 20, 10, tzinfo=KST)
    head, official = system.client(f"{A}-department_head"), system.client(f"{A}-official")
    opened = head.get("/reports/dangjin/2026", headers=HTML).text
    assert "공표 기한 진행 중" in opened
    assert "공표 기한 진행 중" in page(system, f"{A}-auditor", "/reports")
    token = re.search(r'name="csrf_token" value="([^"]+)"', opened).group(1)  # type: ignore[union-attr]
    official_token = re.search(r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                               official.get("/reports/dangjin/2026", headers=HTML).text).group(1)
    refused = official.post("/reports/dangjin/2026/publish", data={"csrf_token": official_token}, headers=HTML)
    assert refused.status_code == 403 and "권한" in refused.text
    assert head.post("/reports/dangjin/2026/publish", data={}, headers=HTML).status_code == 403  # no CSRF token
    assert head.post("/reports/dangjin/2026/publish", data={"csrf_token": official_token},
                     headers=HTML).status_code == 403  # another session's token
    assert "공표 기한 진행 중" in head.get("/reports/dangjin/2026", headers=HTML).text  # nothing recorded
    done = head.post("/reports/dangjin/2026/publish", data={"csrf_token": token}, headers=HTML,
                     follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/reports/dangjin/2026?published=1"
    shown = head.get(done.headers["location"], headers=HTML).text
    assert "보고서를 공표했습니다" in shown and "기한 내 공표" in shown and "2027년 1월 20일" in shown
    assert "초안" not in shown and 'action="/reports/dangjin/2026/publish"' not in shown
    # a second publication changes nothing: the first counts
    system.clock.at += timedelta(days=15)
    head = system.client(f"{A}-department_head")
    again = head.post("/reports/dangjin/2026/publish", data={"csrf_token": token}, headers=HTML,
                      follow_redirects=False)
    assert again.status_code == 403  # the old session's token: signed in again since
    token = re.search(r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                      head.get("/reports/dangjin/2026", headers=HTML).text).group(1)
    again = head.post("/reports/dangjin/2026/publish", data={"csrf_token": token}, headers=HTML,
                      follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/reports/dangjin/2026"

    # published: everyone of the agency downloads it, with its publication date
    evaluations, completed = evaluations_of(system.truth, A, YEAR, "dangjin")
    for role in ROLES:
        client = system.client(f"{A}-{role}")
        index = client.get("/reports", headers=HTML).text
        dangjin = next(r for r in Tables(index).tables["table-reports"][1:] if r[:2] == ["2026년", "당진시"])
        assert dangjin[3:6] == ["기한 내 공표", "2027년 1월 30일까지", "2027년 1월 20일"]
        data = client.get("/reports/dangjin/2026.csv", headers=HTML)
        assert data.status_code == 200 and data.content.startswith("\ufeff".encode())
        assert data.headers["content-disposition"] == 'attachment; filename="satisfaction-report-dangjin-2026.csv"'
        rows = list(csv.reader(io.StringIO(data.content.decode("utf-8-sig"))))
        assert rows[0][:8] == ["지자체코드", "지자체", "연도", "공표일", "구분", "코드", "이름", "평가 건수"]
        total = next(r for r in rows if r[4] == "total")
        assert total[:4] == ["dangjin", "당진시", "2026", "2027-01-20"] and total[7] == str(len(evaluations))
        assert {r[4] for r in rows[1:]} == {"total", "petition_type", "department", "month"}
        assert {r[6] for r in rows if r[4] == "department"} <= {"도로과", "건축과", "(미배정)"}
        body = client.get("/reports/dangjin/2026.json", headers=HTML)
        assert body.status_code == 200
        opened_data = body.json()
        assert opened_data["published_on"] == "2027-01-20"
        assert opened_data["publication"]["status"] == "published_on_time"
        assert opened_data["summary"]["evaluations"] == len(evaluations)
        assert opened_data["summary"]["completed"] == len(completed)
        assert "comment" not in body.text and "김주무관" not in body.text
        # open data never says who published it (the page shows the agency's officials; the data does not)
        assert "published_by" not in body.text and f"{A}-department_head" not in body.text
    assert client.get("/reports/dangjin/2026.pdf", headers=HTML).status_code == 200  # an administrator, now
    text, _ = hangul_fonts(system.client(f"{A}-official").get("/reports/dangjin/2026.pdf", headers=HTML).content)
    flat = re.sub(r"\s+", "", text)
    assert "2027년1월20일" in flat and "초안" not in flat

    # one agency's publication is not another's: agency-b's Dangjin report (a case transferred to it) and
    # its Yeonje-gu report stay unpublished, and after 31 January are breached
    system.clock.at = datetime(2027, 2, 1, 9, tzinfo=KST)
    index = page(system, f"{B}-auditor", "/reports")
    statuses = {(r[0], r[1]): r[3] for r in Tables(index).tables["table-reports"][1:]}
    assert statuses[("2026년", "부산광역시 연제구")] == "공표 기한 위반"
    assert statuses[("2026년", "당진시")] == "공표 기한 위반"
    assert "기한 내 공표" in page(system, f"{A}-auditor", "/reports")
    system.clock.at = END


def test_contacts_typed_into_a_comment_are_masked() -> None:
    for typed in ("010-1234-5678", "01012345678", "010 1234 5678", "+82-10-1234-5678", "02-123-4567",
                  "041)360-6000", "hong.gil-dong@example.co.kr", "900101-1234567"):
        assert without_contacts(f"연락처 {typed} 입니다") == "연락처 (연락처 가림) 입니다", typed
    for kept in ("3일 걸렸어요", "2026년 11월 30일", "10시 30분에 방문", "점수 5점"):
        assert without_contacts(kept) == kept


def test_pages_need_a_session(system: System) -> None:
    anonymous = TestClient(system.app)
    for path in ("/compliance", "/satisfaction", "/reports", "/reports/dangjin/2026", "/reports/dangjin/2026.csv"):
        r = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = anonymous.post("/reports/dangjin/2026/publish", data={}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# -- 보상: an agency acts on the vouchers of the cases it handles now, no other (security review) ---------
def transferred(system: System) -> str:
    """The case agency-a transferred to agency-b (Decree 13): agency-b's now."""
    return next(c for c, t in system.truth.items() if t.agency == B and any(
        f.event_type == "PetitionTransferred" and f.payload.scope == "other_agency" for f in t.facts))


def plant_voucher(system: System, case_id: str, *, agencies: tuple[str, ...], cause: str = "repeat_visit",
                  status: str = "proposed", batch_month: str | None = None, official_id: str | None = None) -> str:
    """A voucher in compensation's ledger, the case open to ``agencies`` there (compensation keeps the filing
    agency's access after a transfer: worker._grant never revokes it)."""
    import uuid

    from services.compensation.ledger.orm import CaseAccessRow
    from services.compensation.ledger.orm import VoucherRow as LedgerVoucher

    voucher_id = str(uuid.uuid4())
    with system.c.database("compensation").sessions.begin() as s:
        for agency in agencies:
            if s.get(CaseAccessRow, (case_id, agency)) is None:
                s.add(CaseAccessRow(case_id=case_id, agency_id=agency))
        s.add(LedgerVoucher(
            voucher_id=voucher_id, case_id=case_id, cause=cause, cause_event_id=str(uuid.uuid4()),
            charter_id="seongnam", charter_version="2021.1", promise_id="S1", amount_won=10000,
            voucher_kind="gift_certificate", approval="department_head",
            payment="monthly" if batch_month else "immediate", settled=True, status=status, official_id=official_id,
            batch_month=batch_month, proposed_at=END - timedelta(days=1),
            approved_at=END - timedelta(hours=20) if status == "approved" else None,
            approved_by="head-1" if status == "approved" else None))
    return voucher_id


def ledger_status(system: System, voucher_id: str) -> str:
    from services.compensation.ledger.orm import VoucherRow as LedgerVoucher

    with system.c.database("compensation").readers() as s:
        return s.get(LedgerVoucher, voucher_id).status  # type: ignore[union-attr]


def test_a_voucher_of_a_case_transferred_away_is_no_voucher_for_the_agency_that_sent_it(system: System) -> None:
    case_id = transferred(system)
    proposed = plant_voucher(system, case_id, agencies=(A, B))
    batched = plant_voucher(system, case_id, agencies=(A, B), cause="administrative_error", status="approved",
                            batch_month="2026-12")
    head = system.client(f"{A}-department_head")
    for tab in ("awaiting_approval", "proposed", "approved", "issued", "delivered", "cancelled"):
        html = head.get(f"/remedies?status={tab}", headers=HTML).text
        assert proposed not in html and batched not in html and case_id not in html, tab
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    missing = "00000000-0000-0000-0000-000000000000"
    for action, form in (("approve", {}), ("reject", {"reason": "agency-a rejects agency-b's voucher"}),
                         ("deliver", {})):
        none = head.post(f"/remedies/{missing}/{action}", data={"csrf_token": token, **form}, headers=HTML,
                         follow_redirects=False)
        theirs = head.post(f"/remedies/{proposed}/{action}", data={"csrf_token": token, **form}, headers=HTML,
                           follow_redirects=False)
        assert none.status_code == theirs.status_code == 404, (action, theirs.status_code)
        assert theirs.text == none.text, action  # the same page: nothing tells it exists
        as_json = head.post(f"/remedies/{proposed}/{action}", data=form,
                            headers={"X-CSRF-Token": token, "accept": "application/json"})
        assert as_json.status_code == 404 and as_json.json()["type"] == "/problems/not-found"
    assert ledger_status(system, proposed) == "proposed"
    # the month's batch holds agency-b's voucher: neither listed in agency-a's CSV nor issued from here
    csv_a = head.get("/remedies/batches/2026-12.csv", headers=HTML)
    assert csv_a.status_code == 200 and csv_a.content.startswith("\ufeff".encode())
    assert batched not in csv_a.text and case_id not in csv_a.text and "민원번호" in csv_a.text
    issued = head.post("/remedies/batches", data={"csrf_token": token, "month": "2026-12"}, headers=HTML,
                       follow_redirects=False)
    assert issued.status_code == 409 and "이송받은 기관이 지급합니다" in issued.text
    assert ledger_status(system, batched) == "approved"
    # agency-b, which handles the case, sees both
    theirs_head = system.client(f"{B}-department_head")
    assert proposed in theirs_head.get("/remedies?status=awaiting_approval", headers=HTML).text
    assert batched in theirs_head.get("/remedies?status=approved", headers=HTML).text
    assert batched in theirs_head.get("/remedies/batches/2026-12.csv", headers=HTML).text


# -- contacts masked wherever free text is shown or returned; evaluations to whom they concern -------------
CONTACTS = ("010-1234-5678", "hong@example.com", "010-2222-3333", "kim@example.com", "02-123-4567", "900101-1234567")


def no_contacts(text: str, where: str) -> None:
    for typed in CONTACTS:
        assert typed not in text, (where, typed)


def test_a_case_page_masks_contacts_and_shows_an_official_only_the_evaluations_of_their_own_work(
        system: System) -> None:
    typed = next((c, e) for c, t in system.truth.items() for e in t.evaluations if e[2] == TYPED_CONTACTS)
    colleague = next((c, e) for c, t in system.truth.items() if t.agency == A
                     for e in t.evaluations if e[2] and e[3] not in (None, "o-a1"))
    own = next((c, e) for c, t in system.truth.items() if t.agency == A
               for e in t.evaluations if e[2] and e[3] == "o-a1")
    masked = without_contacts(TYPED_CONTACTS)
    assert masked == "빨리 연락 주세요 (연락처 가림) (연락처 가림)"
    for role in ROLES:
        html = page(system, f"{A}-{role}", f"/cases/{typed[0]}")
        no_contacts(html, role)
        assert (masked in html) == (role != "official" or typed[1][3] == "o-a1"), role
        theirs = page(system, f"{A}-{role}", f"/cases/{colleague[0]}")
        mine = page(system, f"{A}-{role}", f"/cases/{own[0]}")
        assert f"“{own[1][2]}”" in mine, role  # the official evaluated reads it, as every head and auditor
        if role == "official":  # o-a1 김주무관: a colleague's evaluation is not theirs to read
            assert f"“{colleague[1][2]}”" not in theirs and f"{colleague[1][1]}점 · " not in theirs
            assert "평가받은 담당 공무원과 부서장·감사 담당·관리자만 볼 수 있습니다" in theirs
        else:
            assert f"“{colleague[1][2]}”" in theirs and "만 볼 수 있습니다" not in theirs, role


def test_the_statistics_api_returns_comments_with_contacts_masked(system: System) -> None:
    api = TestClient(system.app)
    api.headers["Authorization"] = f"Bearer {api_token(system.c, A)}"
    body = api.get("/v1/stats/satisfaction?year=2026")
    assert body.status_code == 200
    no_contacts(body.text, "/v1/stats/satisfaction")
    assert without_contacts(TYPED_CONTACTS) in [c["comment"] for c in body.json()["comments"]]


def test_free_text_of_titles_and_facts_is_masked_on_every_page_api_and_csv(tmp_path: Path,
                                                                          calendar: WorkingCalendar) -> None:
    clock = Clock()
    clock.at = END
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'console.db'}", clock=clock)
    try:
        s = Script(A, "dangjin")
        at = datetime(2026, 11, 5, 10, tzinfo=KST)
        s.add(ev.PetitionReceived(
            municipality_id="dangjin", agency_id=A, petition_type="grievance", channel="visit",
            title="보도블록 파손: 010-2222-3333 으로 연락 바람", body="", notice_channels=["sms"],
            applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
            applicant_ref="ref-9999-" + "x" * 16), at)
        s.add(ev.OfficialAssigned(official=official(A, 0)), at + timedelta(minutes=30))
        s.add(ev.SupplementRequested(items="현장 사진을 kim@example.com 으로 (주민번호 900101-1234567 확인)"),
              at + timedelta(hours=2))
        s.add(ev.SupplementReceived(note="02-123-4567 로 통화하여 받음"), at + timedelta(days=1))
        assert len(s.events) == 4
        handler = ProjectionHandler(calendar, CHARTERS)
        with c.database("console").sessions.begin() as session:
            for e in s.events:
                assert handler.handle(session, e, encode(e)) is None
        add_user(c, "masked-auditor", agency=A, role="auditor")
        app = create_app(deps(c), routers=wiring.console_routers(c))
        browser = TestClient(app)
        assert browser.post("/login", data={"username": "masked-auditor", "password": PASSWORD,
                                            "csrf_token": login_csrf(browser)}, headers=HTML,
                            follow_redirects=False).status_code == 303
        case = browser.get(f"/cases/{s.case_id}", headers=HTML).text
        assert "보도블록 파손: (연락처 가림) 으로 연락 바람" in case and "현장 사진을 (연락처 가림) 으로" in case
        api = TestClient(app)
        api.headers["Authorization"] = f"Bearer {api_token(c, A)}"
        for client, path in ((browser, f"/cases/{s.case_id}"), (browser, "/queue"), (browser, "/overdue"),
                             (browser, "/overdue.csv"), (api, "/v1/stats/queue"), (api, "/v1/stats/overdue"),
                             (api, "/v1/stats/overdue.csv")):
            r = client.get(path, headers=HTML if client is browser else {})
            assert r.status_code == 200, (path, r.status_code)
            assert s.case_id in r.text, path
            no_contacts(r.text, path)
            assert "(연락처 가림)" in r.text, path
    finally:
        c.close()


# -- a transfer (Decree 13): the receiving agency's page, and its statistics ---------------------------------
def test_the_receiving_agency_sees_the_sending_agencys_facts_as_its_history_naming_no_one(system: System) -> None:
    case_id = transferred(system)
    for role in ROLES:
        html = page(system, f"{B}-{role}", f"/cases/{case_id}")
        no_other_agency(html, B)  # none of agency-a's departments or officials
        for official_id, _, _ in OFFICIALS[A]:
            assert official_id not in html, (role, official_id)
        assert "이전 처리 기관 agency-a의 기록" in html and "관할 기관" in html  # the transfer and its reason
        assert "최주무관" in html and "복지과" in html  # its own official and department
        assert system.client(f"{A}-{role}").get(f"/cases/{case_id}", headers=HTML).status_code == 404


def test_a_year_outside_the_calendar_is_a_korean_400_page_to_a_browser_and_422_problem_json_to_a_script(
        system: System) -> None:
    client = system.client(f"{A}-auditor")
    for path in ("/satisfaction?year=1800", "/satisfaction.csv?year=3000", "/compliance?year=1999",
                 "/compliance.csv?year=1", "/compliance.csv?year=2500&month=1"):
        browser = client.get(path, headers=HTML)
        assert browser.status_code == 400 and "잘못된 요청" in browser.text, path
        script = client.get(path, headers={"accept": "application/json"})
        assert script.status_code == 422, (path, script.status_code)
        assert script.headers["content-type"] == "application/problem+json", path
        assert script.json()["field"] == "year" and script.json()["type"] == "/problems/validation", path


# -- approvals by the head of the case's department; success told by the server, never by a link ----------
def head_of(system: System, department: str) -> TestClient:
    """A department head of agency-a's ``department``, signed in."""
    username = {"도로과": "a-head-road", "건축과": "a-head-building"}[department]
    with system.c.database("console").readers() as s:
        exists = s.execute(select(UserRow.user_id).where(UserRow.username == username)).first() is not None
    if not exists:
        add_user(system.c, username, agency=A, role="department_head", department=department)
    return system.client(username)


def open_cases_of(system: System, department: str) -> list[str]:
    return [c for c, t in system.truth.items() if t.agency == A and t.department == department
            and t.status in ("received", "filed")]


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_a_department_head_approves_the_vouchers_of_their_own_departments_cases_only(system: System) -> None:
    road = open_cases_of(system, "도로과")
    ours, theirs = plant_voucher(system, road[0], agencies=(A,)), plant_voucher(system, road[1], agencies=(A,))
    building = head_of(system, "건축과")
    html = building.get("/remedies?status=awaiting_approval", headers=HTML).text
    assert ours in html and f'action="/remedies/{ours}/approve"' not in html  # listed, no button
    assert "도로과 부서장이 승인합니다" in html
    for action, form in (("approve", {}), ("reject", {"reason": "다른 부서의 보상"})):
        refused = building.post(f"/remedies/{ours}/{action}", data={"csrf_token": csrf(html), **form}, headers=HTML,
                                follow_redirects=False)
        assert refused.status_code == 403 and "권한 없음" in refused.text, action
    for account in (f"{A}-department_head", f"{A}-administrator"):  # a head without a department; no approver
        client = system.client(account)
        token = csrf(client.get("/remedies", headers=HTML).text)
        assert client.post(f"/remedies/{ours}/approve", data={"csrf_token": token}, headers=HTML,
                           follow_redirects=False).status_code == 403, account
    assert ledger_status(system, ours) == "proposed"
    head = head_of(system, "도로과")
    html = head.get("/remedies?status=awaiting_approval", headers=HTML).text
    assert f'action="/remedies/{ours}/approve"' in html
    approved = head.post(f"/remedies/{ours}/approve", data={"csrf_token": csrf(html)}, headers=HTML)
    assert approved.status_code == 200 and ledger_status(system, ours) in ("approved", "issued")
    rejected = head.post(f"/remedies/{theirs}/reject", data={"csrf_token": csrf(html), "reason": "통지 확인"},
                         headers=HTML)
    assert rejected.status_code == 200 and ledger_status(system, theirs) == "cancelled"


def test_a_success_message_is_the_servers_own_words_never_a_links(system: System) -> None:
    voucher = plant_voucher(system, open_cases_of(system, "도로과")[2], agencies=(A,))
    head = head_of(system, "도로과")
    # a crafted link confirms nothing
    crafted = head.get(f"/remedies?status=awaiting_approval&done=approved&voucher={voucher}&month=2026-12&count=99",
                       headers=HTML)
    assert crafted.status_code == 200 and 'id="action-message"' not in crafted.text
    assert "승인했습니다" not in crafted.text and "지급했습니다" not in crafted.text
    assert ledger_status(system, voucher) == "proposed"
    done = head.post(f"/remedies/{voucher}/approve", data={"csrf_token": csrf(crafted.text)}, headers=HTML,
                     follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/remedies?status=awaiting_approval"
    shown = head.get(done.headers["location"], headers=HTML).text
    assert f"보상 {voucher}: 승인했습니다." in shown and 'id="action-message"' in shown
    assert 'id="action-message"' not in head.get(done.headers["location"], headers=HTML).text  # told once
    # another session of the same account is told nothing
    assert 'id="action-message"' not in head_of(system, "도로과").get("/remedies", headers=HTML).text


# -- case and receipt numbers (issue 19): shown where a case is listed or shown, searched within the agency ----
def test_cases_are_shown_and_found_by_their_case_or_receipt_number_within_the_agency(
        tmp_path: Path, calendar: WorkingCalendar) -> None:
    clock = Clock()
    clock.at = END
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'console.db'}", clock=clock)
    try:
        at = datetime(2026, 11, 5, 10, tzinfo=KST)

        def filed(agency: str, municipality: str, title: str, channel: str = "visit", **numbers: str | None) -> Script:
            s = Script(agency, municipality)
            s.add(ev.PetitionReceived(
                municipality_id=municipality, agency_id=agency, petition_type="grievance", channel=channel,
                title=title, body="", notice_channels=["sms"], applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                applicant_ref="ref-7777-" + "x" * 16, **numbers), at)
            return s

        given = filed(A, "dangjin", "가로등 고장", case_number="dangjin-2026-000123", receipt_number="2026-민원-000777")
        done = filed(A, "dangjin", "불법 주차 신고", case_number="dangjin-2026-000124")
        done.add(ev.OfficialAssigned(official=official(A, 0)), at + timedelta(minutes=30))
        done.add(ev.PetitionResolved(outcome="accepted", explanation="단속 완료"), at + timedelta(hours=3))
        electronic = filed(A, "dangjin", "도로 파임", channel="internet", case_number="dangjin-2026-000125")
        electronic.add(ev.ReceiptRecorded(receipt_number="2AA-2611-0001"), at + timedelta(hours=1))
        old = filed(A, "dangjin", "번호 없는 옛 민원")  # PetitionReceived v1 upcast: neither number
        # agency-b's case: the same receipt number as agency-a's (agencies number independently)
        theirs = filed(B, "yeonje-gu", "복지 문의", case_number="yeonje-gu-2026-000001", receipt_number="2026-민원-000777")
        handler = ProjectionHandler(calendar, CHARTERS)
        with c.database("console").sessions.begin() as session:
            for s in (given, done, electronic, old, theirs):
                for e in s.events:
                    assert handler.handle(session, e, encode(e)) is None
        add_user(c, "numbers-auditor", agency=A, role="auditor")
        app = create_app(deps(c), routers=wiring.console_routers(c))
        browser = TestClient(app)
        assert browser.post("/login", data={"username": "numbers-auditor", "password": PASSWORD,
                                            "csrf_token": login_csrf(browser)}, headers=HTML,
                            follow_redirects=False).status_code == 303

        def get(path: str, **params: str) -> str:
            r = browser.get(path, params=params, headers=HTML)
            assert r.status_code == 200, (path, params, r.status_code)
            return r.text

        def found(**params: str) -> list[str]:
            return re.findall(r'<tr data-case-id="([^"]+)"', get("/queue", **params))

        queue = get("/queue")
        assert 'id="f-number"' in queue and 'name="number"' in queue  # the filter form's search field
        assert "민원번호 dangjin-2026-000123 · 접수번호 2026-민원-000777" in queue
        assert "민원번호 dangjin-2026-000125 · 접수번호 2AA-2611-0001" in queue  # given at the formal receipt
        assert f"민원번호 {old.case_id[:8]}<" in queue  # filed before numbers: its id, as before
        assert done.case_id not in queue  # the queue lists open cases
        # found by either number, exactly, spaces around it ignored, open or done, only agency-a's
        assert found(number="  dangjin-2026-000123\t") == [given.case_id]
        assert found(number="2026-민원-000777") == [given.case_id]
        assert found(number="2AA-2611-0001") == [electronic.case_id]
        resolved = get("/queue", number="dangjin-2026-000124")
        assert re.findall(r'<tr data-case-id="([^"]+)"', resolved) == [done.case_id] and "처리 완료" in resolved
        assert found(number="dangjin-2026") == [] and found(number="DANGJIN-2026-000123") == []
        assert found(number="dangjin-2026-000123", type="suggestion") == []  # with the other filters, not instead
        # agency-b's case is not found, and the answer is the one for a number nobody has
        foreign, missing = get("/queue", number="yeonje-gu-2026-000001"), get("/queue", number="yeonje-gu-2026-000002")
        assert theirs.case_id not in foreign and "민원번호나 접수번호가" in foreign
        assert foreign.replace("000001", "000002") == missing
        # the overdue review and its export; the case page
        overdue = get("/overdue")
        assert "민원번호 dangjin-2026-000123 · 접수번호 2026-민원-000777" in overdue
        rows = list(csv.reader(io.StringIO(browser.get("/overdue.csv", headers=HTML).content.decode("utf-8-sig"))))
        by_id = {r[rows[0].index("사건 ID")]: dict(zip(rows[0], r)) for r in rows[1:]}
        assert (by_id[given.case_id]["민원번호"], by_id[given.case_id]["접수번호"]) == (
            "dangjin-2026-000123", "2026-민원-000777")
        assert (by_id[old.case_id]["민원번호"], by_id[old.case_id]["접수번호"]) == (old.case_id, "")
        page_ = get(f"/cases/{given.case_id}")
        assert "민원번호 dangjin-2026-000123 · 접수번호 2026-민원-000777 · " in page_
        assert re.search(r'id="case-number">dangjin-2026-000123<', page_) and re.search(
            r'id="receipt-number">2026-민원-000777<', page_)
        assert re.search(r'id="case-number">없음', get(f"/cases/{old.case_id}"))
        # the statistics API searches the same way
        api = TestClient(app)
        api.headers["Authorization"] = f"Bearer {api_token(c, A)}"
        got = api.get("/v1/stats/queue", params={"number": " dangjin-2026-000124 "}).json()
        assert [(i["case_id"], i["case_number"], i["status"], i["nearest"]) for i in got] == [
            (done.case_id, "dangjin-2026-000124", "resolved", None)]
        api.headers["Authorization"] = f"Bearer {api_token(c, B)}"
        assert [i["case_id"] for i in api.get("/v1/stats/queue", params={"number": "2026-민원-000777"}).json()] == [
            theirs.case_id]
        assert api.get("/v1/stats/queue", params={"number": "dangjin-2026-000123"}).json() == []
    finally:
        c.close()
