"""The officials' console in a real browser (issue 18): the work queue, the overdue review, a case, the
remedies, on the running system filled with a month of petitions (month.py), signed in as each role of
two agencies.

What is checked: every role signs in; the at-risk case comes first in an official's queue, ahead of a
case with less time left that is not at risk, and every urgent case of the agency (read from the log)
ahead of every other; a Seongnam department head approves a voucher (the compensation API then has it
issued) and rejects another with a reason, while an official sees no button and is refused (403) when
posting anyway; the overdue export's rows match what the log says (open cases with their statutory
deadline breached, the cases completed late within a month, the working days overdue); a case's page
shows its clocks without calling a warning a breach, the audit replay's verdict and its report through
the console; every page works by keyboard and axe finds no serious or critical violation; and one
agency's accounts see none of the other's cases (a foreign case is the same 404 as a missing one).
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from services.console.stats.common import month_before
from shared.working_time import WORKING_DAY_SECONDS, WorkingCalendar
from tests.browser.conftest import (
    AGENCIES,
    ROLE_LABELS,
    ROLES,
    World,
    assert_accessible,
    assert_keyboard,
    csrf_of,
    screenshot,
    sign_in_as,
)
from tests.browser.month import NOW

pytestmark = pytest.mark.browser

Page = Any
SignIn = Callable[[str, str], Page]


# -- what the log says, computed here without the console ----------------------------------------------
class Ledger:
    """The month as the log tells it: each case's agency, when it was resolved, and its statutory
    deadline breaches (voided ones removed), plus the obligations still warned at risk."""

    def __init__(self, world: World) -> None:
        self.agency: dict[str, str] = {}
        self.resolved: dict[str, datetime] = {}
        for e in world.events("petition_events"):
            if e.event_type == "PetitionReceived":
                self.agency[e.case_id] = e.payload.agency_id
            elif e.event_type == "PetitionTransferred" and e.payload.to_agency_id:
                self.agency[e.case_id] = e.payload.to_agency_id
            elif e.event_type == "PetitionResolved":
                self.resolved[e.case_id] = e.occurred_at
            elif e.event_type == "ObjectionFiled":
                self.resolved.pop(e.case_id, None)
        self.breaches: dict[str, list[datetime]] = defaultdict(list)  # statutory deadline breaches by case
        last: dict[tuple[str, str], Any] = {}  # (case, obligation) -> its last SLA event
        for e in world.events("sla_events"):
            p = e.payload
            if e.event_type == "ObligationBreached" and p.kind == "statutory_deadline" and p.severity == "breach":
                self.breaches[e.case_id].append(p.due_at)
            if e.event_type == "ObligationDischarged" and getattr(p, "voids_breach", False):
                if p.due_at in self.breaches.get(e.case_id, []):
                    self.breaches[e.case_id].remove(p.due_at)
            last[(e.case_id, p.obligation_id)] = e
        self.at_risk = {case for (case, _), e in last.items() if e.event_type == "ObligationAtRisk"}

    def open_cases(self, agency: str) -> set[str]:
        return {c for c, a in self.agency.items() if a == agency and c not in self.resolved}

    def urgent(self, agency: str) -> set[str]:
        """Open cases with an obligation warned at risk or their statutory deadline breached."""
        return {c for c in self.open_cases(agency) if c in self.at_risk or self.breaches.get(c)}


@pytest.fixture(scope="module")
def ledger(world: World) -> Ledger:
    return Ledger(world)


def rows(page: Page, table: str) -> list[str]:
    """The case ids of a table's rows, in order."""
    return page.eval_on_selector_all(f"{table} tbody tr", "rs => rs.map(r => r.dataset.caseId)")  # type: ignore[no-any-return]


# -- signing in ----------------------------------------------------------------------------------------
def test_every_role_of_both_agencies_signs_in(world: World, new_page: Callable[[], Page]) -> None:
    for agency in AGENCIES:
        for role in ROLES:
            account = world.accounts[(agency, role)]
            page = sign_in_as(new_page(), account)
            header = page.locator("header").inner_text()
            assert agency in header and ROLE_LABELS[role] in header and account.display_name in header
            assert page.locator("nav[aria-label='주 메뉴'] a[aria-current=page]").inner_text() == "작업 목록"
            assert (page.locator("a.btn-tab", has_text="내 민원").count() == 1) == (role == "official")
            page.context.close()
    page = new_page()
    page.goto("/login")
    page.fill("#username", world.accounts[("dangjin", "official")].username)
    page.fill("#password", "틀린-비밀번호-입니다")
    page.click("main button[type=submit]")
    assert page.locator("#login-error").inner_text() == "아이디 또는 비밀번호가 올바르지 않습니다."
    assert page.url.endswith("/login")


# -- the work queue ------------------------------------------------------------------------------------
def test_the_at_risk_case_comes_first(world: World, sign_in: SignIn, ledger: Ledger) -> None:
    page = sign_in("dangjin", "official")
    # the whole agency: every urgent case (at risk or overdue, from the log) before every other
    everything = rows(page, "#queue-table")
    assert set(everything) == ledger.open_cases("dangjin")
    urgent = ledger.urgent("dangjin")
    assert set(everything[:len(urgent)]) == urgent, "urgent cases are not first"
    first = page.locator("#queue-table tbody tr").first
    assert first.locator(".krds-badge", has_text="기한").count() >= 1  # 기한 임박 or 기한 경과
    # "my cases": the at-risk case first, ahead of a fresh case with less time left that is not at risk
    page.click("a.btn-tab:has-text('내 민원')")
    page.wait_for_url("**/queue?mine=1")
    mine = rows(page, "#queue-table")
    at_risk, fresh = world.cases["D17"], world.cases["D18"]
    assert mine[0] == at_risk and at_risk in ledger.at_risk and at_risk not in ledger.breaches
    assert fresh in mine and fresh not in ledger.urgent("dangjin")
    assert page.locator(f"tr[data-case-id='{at_risk}'] .krds-badge", has_text="기한 임박").count() == 1
    left = page.eval_on_selector_all("#queue-table tbody tr td:last-child", "tds => tds.map(t => t.innerText)")
    assert "남음" in left[0] and mine.index(fresh) > 0
    # a filter as a GET form: the department's cases only
    page.goto("/queue")
    page.select_option("#f-department", "건축과")
    page.click("form.cw-filters button[type=submit]")
    page.wait_for_url("**department=**")
    departments = page.eval_on_selector_all("#queue-table tbody tr td:nth-child(6)", "tds => tds.map(t => t.innerText)")
    assert departments and all(d.startswith("건축과") for d in departments)
    # each row leads to its case
    page.click(f"#queue-table a[href='/cases/{rows(page, '#queue-table')[0]}']")
    page.wait_for_url("**/cases/*")
    assert page.locator("h1").inner_text()


# -- the overdue review and its export ----------------------------------------------------------------
def test_the_overdue_export_agrees_with_the_log(world: World, sign_in: SignIn, ledger: Ledger,
                                                calendar: WorkingCalendar) -> None:
    page = sign_in("dangjin", "auditor")
    page.click("nav[aria-label='주 메뉴'] >> text=기한 경과 검토")
    page.wait_for_url("**/overdue")
    with page.expect_download() as download:
        page.click("a[href='/overdue.csv']")
    raw = open(download.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 BOM (Korean Excel)"
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert header[:2] == ["민원번호", "제목"] and "지연 근무일수" in header and "민원인 통지 내역" in header
    by_case = {r[header.index("사건 ID")]: dict(zip(header, r)) for r in body}  # 민원번호: the case number
    # open cases whose statutory deadline the monitor recorded as breached
    open_breached = {c for c in ledger.open_cases("dangjin") if ledger.breaches.get(c)}
    assert {c for c, r in by_case.items() if r["상태"] == "처리중"} == open_breached
    assert {world.cases["D13"], world.cases["D14"]} <= open_breached
    # completed after their deadline, within the last month
    since = month_before(NOW)
    late = {c for c, at in ledger.resolved.items() if ledger.agency[c] == "dangjin" and at >= since
            and any(due < at for due in ledger.breaches.get(c, []))}
    assert {c for c, r in by_case.items() if r["상태"] == "지연처리"} == late and late
    for case in open_breached:  # working days begun past the deadline, as compensation counts lateness
        due = max(ledger.breaches[case])
        seconds = calendar.working_seconds_between(due, NOW)
        assert int(by_case[case]["지연 근무일수"]) == math.ceil(seconds / WORKING_DAY_SECONDS), case
        assert int(by_case[case]["지연 근무시간(초)"]) == seconds
    # the page shows the same rows
    assert set(rows(page, "#overdue-table")) == set(by_case)
    assert page.locator("#overdue-table tbody tr[data-state=open]").count() == len(open_breached)


# -- a case --------------------------------------------------------------------------------------------
def test_a_case_shows_its_clocks_notices_remedies_and_the_audit_verdict(world: World, sign_in: SignIn) -> None:
    page = sign_in("dangjin", "auditor")
    page.goto(f"/cases/{world.cases['D21']}")  # open: its charter target missed (a warning), the deadline runs
    clocks = page.locator("#clocks-table").inner_text()
    assert "헌장 목표기한" in clocks and "목표 미달 (경고, 위반 아님)" in clocks
    target_row = page.locator("#clocks-table tr", has_text="헌장 목표기한").inner_text()
    assert "위반" not in target_row.replace("위반 아님", "")
    statutory = page.locator("#clocks-table tr", has_text="법정 처리기한").inner_text()
    assert "남음" in statutory and "흐르는 중" in statutory
    page.goto(f"/cases/{world.cases['D04']}")  # completed late: a breach, a voucher issued, notices
    statutory = page.locator("#clocks-table tr", has_text="법정 처리기한").inner_text()
    assert statutory.endswith("위반") and "경고" not in statutory and "끝남" in statutory
    timeline = page.locator(".cw-timeline").inner_text()
    for words in ("민원 접수", "담당자 지정", "처리 완료", "법정 처리기한 위반", "처리결과 평가", "접수 통지 발송"):
        assert words in timeline, words
    assert page.locator("#notices-table tbody tr").count() >= 2
    assert "GET /v1/notices?case_id=" in page.locator("#notice-text-where").inner_text()
    assert "지급됨" in page.locator("#case-vouchers").inner_text()
    assert "기록과 일치합니다" in page.locator("#audit-verdict").inner_text()
    report = page.request.get(f"/cases/{world.cases['D04']}/report.html")
    assert report.status == 200 and "감사 보고서" in report.text() and world.cases["D04"] in report.text()
    pdf = page.request.get(f"/cases/{world.cases['D04']}/report.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"


# -- every page: keyboard, axe, screenshot (before the remedies tests change what they show) -----------
PAGES = [  # (agency, role, path, screenshot name)
    ("dangjin", "official", "/queue", "queue"),
    ("dangjin", "auditor", "/overdue", "overdue"),
    ("dangjin", "auditor", "/cases/{D08}", "case"),
    ("seongnam", "department_head", "/remedies", "remedies"),
    ("dangjin", "department_head", "/remedies?status=issued", None),
    ("seongnam", "official", "/queue?mine=1", None),
    ("dangjin", "administrator", "/cases/{D15}", None),
    ("dangjin", "official", "/cases/00000000-0000-0000-0000-000000000000", None),
]


@pytest.mark.parametrize(("agency", "role", "path", "name"), PAGES, ids=[
    "queue", "overdue", "case", "remedies-awaiting", "remedies-issued", "queue-mine", "case-paused", "case-missing"])
def test_every_page_works_by_keyboard_and_passes_axe(world: World, sign_in: SignIn, agency: str, role: str,
                                                      path: str, name: str | None) -> None:
    page = sign_in(agency, role)
    page.goto(path.format(**world.cases))
    assert_keyboard(page)
    assert_accessible(page, path)
    if name:
        screenshot(page, name)


@pytest.mark.parametrize(("agency", "role", "path"), [
    ("dangjin", "official", "/queue"), ("dangjin", "auditor", "/overdue"), ("dangjin", "auditor", "/cases/{D21}"),
    ("seongnam", "department_head", "/remedies")], ids=["queue", "overdue", "case", "remedies"])
def test_pages_at_a_phone_width(world: World, sign_in: SignIn, agency: str, role: str, path: str) -> None:
    """On a phone's width the navigation stacks above the page and a table too wide scrolls: its region is
    then a Tab stop, so a keyboard reaches it (and axe finds nothing serious)."""
    page = sign_in(agency, role)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path.format(**world.cases))
    scrolling = page.eval_on_selector_all(
        "[data-scroll-region]", "rs => rs.map(r => [r.scrollWidth > r.clientWidth + 1, r.getAttribute('tabindex')])")
    assert scrolling and all(t == "0" for wide, t in scrolling if wide) and any(wide for wide, _ in scrolling)
    assert_keyboard(page)
    assert_accessible(page, f"{path} at 390 px")


def test_the_sign_in_page_works_by_keyboard_and_passes_axe(world: World, new_page: Callable[[], Page]) -> None:
    page = new_page()
    page.goto("/login")
    assert_accessible(page, "/login")
    order = []
    for _ in range(4):  # the skip link, the site's name, then the first field
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.id || document.activeElement.innerText"))
        if order[-1] == "username":
            break
    assert order[0] == "본문 바로가기" and order[-1] == "username", order
    account = world.accounts[("dangjin", "auditor")]
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type("콘솔-시험용-비밀번호-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue")


# -- remedies: approval by the department head ---------------------------------------------------------
def voucher_of(page: Page, case_id: str) -> str:
    return page.locator(f"#vouchers-table tr[data-case-id='{case_id}']").get_attribute("data-voucher-id")  # type: ignore[no-any-return]


def test_an_official_sees_no_approval_and_is_refused(world: World, sign_in: SignIn) -> None:
    page = sign_in("seongnam", "official")
    page.goto("/remedies?status=awaiting_approval")
    assert page.locator("#vouchers-table tbody tr").count() >= 3
    assert page.locator("#vouchers-table button", has_text="승인").count() == 0
    assert page.locator("#vouchers-table button", has_text="거절").count() == 0
    voucher = voucher_of(page, world.cases["S05"])
    token = csrf_of(page)
    for action, form in (("approve", {}), ("reject", {"reason": "사유"})):
        refused = page.request.post(f"/remedies/{voucher}/{action}", form={"csrf_token": token, **form},
                                    headers={"Accept": "text/html"}, max_redirects=0)
        assert refused.status == 403, (action, refused.status)
        assert "권한 없음" in refused.text()
    with world.api("seongnam", world.system.compensation_port) as compensation:
        assert compensation.get(f"/v1/vouchers/{voucher}").json()["status"] == "proposed"


def test_a_department_head_approves_and_rejects(world: World, sign_in: SignIn) -> None:
    page = sign_in("seongnam", "department_head")
    page.click("nav[aria-label='주 메뉴'] >> text=보상")
    page.wait_for_url("**/remedies")
    approved, rejected = voucher_of(page, world.cases["S05"]), voucher_of(page, world.cases["S02"])
    row = page.locator(f"tr[data-voucher-id='{approved}']")
    row.locator("button", has_text="승인").click()
    page.locator("#action-message").wait_for()  # the server's flash after the redirect
    assert approved in page.locator("#action-message").inner_text()
    assert page.locator(f"#vouchers-table tr[data-voucher-id='{approved}']").count() == 0
    with world.api("seongnam", world.system.compensation_port) as compensation:
        voucher = compensation.get(f"/v1/vouchers/{approved}").json()
        assert voucher["status"] == "issued" and voucher["approved_by"] == world.accounts[
            ("seongnam", "department_head")].username
        assert [t["status"] for t in voucher["transitions"]][-2:] == ["approved", "issued"]
    # a rejection needs its reason
    page.locator(f"tr[data-voucher-id='{rejected}'] button", has_text="거절").click()
    page.wait_for_load_state()
    field = page.locator(f"#reason-{rejected}")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator(f"#reason-error-{rejected}").inner_text() == "거절 사유를 입력하세요."
    assert page.evaluate("() => document.activeElement.id") == f"reason-{rejected}"  # the keyboard is taken there
    field.fill("처리기한 내 통지가 확인되어 보상 대상이 아님")
    page.locator(f"tr[data-voucher-id='{rejected}'] button", has_text="거절").click()
    page.locator("#action-message").wait_for()  # the server's flash after the redirect
    with world.api("seongnam", world.system.compensation_port) as compensation:
        voucher = compensation.get(f"/v1/vouchers/{rejected}").json()
        assert voucher["status"] == "cancelled" and "처리기한 내 통지가 확인되어" in voucher["cancel_reason"]
    page.goto("/remedies?status=issued")
    assert page.locator(f"#vouchers-table tr[data-voucher-id='{approved}']").count() == 1
    page.goto("/remedies?status=cancelled")
    assert page.locator(f"#vouchers-table tr[data-voucher-id='{rejected}']").count() == 1


def test_strikes_referrals_and_withdrawn_findings(world: World, sign_in: SignIn) -> None:
    page = sign_in("dangjin", "department_head")
    page.goto("/remedies?status=issued")
    # Dangjin's vouchers need no approval: issued by policy when the deadline was missed
    issued = set(page.eval_on_selector_all("#vouchers-table tbody tr", "rs => rs.map(r => r.dataset.caseId)"))
    assert {world.cases["D04"], world.cases["D12"], world.cases["D13"], world.cases["D14"]} <= issued
    assert page.locator("tr[data-official-id='o-dj-park'] td").first.inner_text() == "3회"
    assert "회부됨" in page.locator("tr[data-official-id='o-dj-park']").inner_text()
    assert "박지훈" in page.locator("#referrals").inner_text()
    lee = page.locator("tr[data-official-id='o-dj-lee'] td")
    assert (lee.nth(0).inner_text(), lee.nth(1).inner_text()) == ("0회", "1회")
    assert "녹취 확인 결과 사실이 아님" in page.locator("#withdrawn").inner_text()
    with page.expect_download() as download:
        page.click("#batch-links a >> nth=0")
    assert open(download.value.path(), "rb").read().startswith(b"\xef\xbb\xbf")


# -- tenancy -------------------------------------------------------------------------------------------
def test_an_agency_sees_none_of_the_others_cases(world: World, sign_in: SignIn, ledger: Ledger) -> None:
    theirs = {c for c, a in ledger.agency.items() if a == "seongnam"}
    page = sign_in("dangjin", "department_head")
    missing = page.goto("/cases/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404
    missing_text = page.locator("main").inner_text()
    for case in (world.cases["S02"], world.cases["S06"]):
        for suffix in ("", "/report.html", "/report.pdf"):
            response = page.goto(f"/cases/{case}{suffix}")
            assert response.status == 404, (case, suffix)
            assert page.locator("main").inner_text() == missing_text
    for path in ("/queue", "/overdue", "/remedies?status=awaiting_approval", "/remedies?status=issued",
                 "/remedies?status=cancelled"):
        page.goto(path)
        html = page.content()
        assert not [c for c in theirs if c in html], path
    # a Seongnam voucher is no voucher for Dangjin's department head
    with world.api("seongnam", world.system.compensation_port) as compensation:
        foreign = compensation.get("/v1/vouchers", params={"status": "proposed"}).json()["items"][0]["voucher_id"]
    page.goto("/remedies")
    refused = page.request.post(f"/remedies/{foreign}/approve", form={"csrf_token": csrf_of(page)},
                                headers={"Accept": "text/html"}, max_redirects=0)
    assert refused.status == 404
    with world.api("seongnam", world.system.compensation_port) as compensation:
        assert compensation.get(f"/v1/vouchers/{foreign}").json()["status"] == "proposed"
    # and the other way round
    page = sign_in("seongnam", "auditor")
    assert page.goto(f"/cases/{world.cases['D04']}").status == 404
    html = page.content()
    assert not [c for c in ledger.open_cases("dangjin") if c in html]
