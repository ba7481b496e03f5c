"""The statistics pages in a real browser (issue 18): 처리 현황, 만족도 and 연간 보고서 on the running system
filled with the month (tests/browser/month.py), signed in as the agencies' accounts.

Each page: its charts are drawn by chart.js under the console's own policy (no CSP bypass: no inline
script, nothing refused), its figures agree with counts read here from the log, axe-core finds no
serious or critical violation (also at a narrow width, where the tables scroll), it works by keyboard
(the skip link, the navigation, the form; a table that scrolls is a Tab stop), and its screenshot goes to
docs/console/. The report prints without the navigation, and its draft PDF is downloaded by the
department head, not by an official. (Publishing needs the survey year closed: the running system's
clock stays in December; tests/integration/test_console_pages.py publishes.)
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from shared.instants import KST
from tests.browser.conftest import (
    World,
    assert_accessible,
    screenshot,
    sign_in_as,
)
from tests.browser.month import APPLICANTS, OFFICIALS

NOV = (datetime(2026, 11, 1, tzinfo=KST), datetime(2026, 12, 1, tzinfo=KST))
YEAR = (datetime(2026, 1, 1, tzinfo=KST), datetime(2027, 1, 1, tzinfo=KST))
ELECTRONIC = ("internet", "api")


def agencies_of(world: World) -> dict[str, str]:
    """case id -> the agency handling it (no case of the month moves to another agency)."""
    return {e.case_id: e.payload.agency_id for e in world.events("petition_events") if e.event_type == "PetitionReceived"}


def received_in(world: World, agency: str, span: tuple[datetime, datetime]) -> int:
    """Petitions whose statutory clock started in the span: on arrival, or an electronic one at its formal
    receipt (Decree 6-7)."""
    channel: dict[str, str] = {}
    owner = agencies_of(world)
    count = 0
    for e in world.events("petition_events"):
        if e.event_type == "PetitionReceived":
            channel[e.case_id] = e.payload.channel.value
        clock_starts = (e.event_type == "ReceiptRecorded") if channel.get(e.case_id) in ELECTRONIC else (
            e.event_type == "PetitionReceived")
        if clock_starts and span[0] <= e.occurred_at < span[1]:
            count += owner.get(e.case_id) == agency
    return count


def evaluations(world: World, agency: str, span: tuple[datetime, datetime]) -> list[tuple[int, str]]:
    owner = agencies_of(world)
    return [(e.payload.score, e.payload.comment) for e in world.events("petition_events")
            if e.event_type == "ResultEvaluated" and owner[e.case_id] == agency and span[0] <= e.occurred_at < span[1]]


FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  return {tag: e.tagName.toLowerCase(), id: e.id, text: (e.innerText || e.getAttribute('aria-label') || '').trim(),
          skip: !!e.closest('#krds-skip-link'), nav: !!e.closest('nav'), main: !!e.closest('main'),
          current: e.getAttribute('aria-current'), region: e.hasAttribute('data-scroll-region'),
          visible: !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)}; }"""


def tab(page: Any) -> dict[str, Any]:
    page.keyboard.press("Tab")
    found = page.evaluate(FOCUSED)
    assert found and found["visible"], f"Tab reached {found}"
    return found  # type: ignore[no-any-return]


def keyboard_path(page: Any, stops: int) -> list[dict[str, Any]]:
    """By keyboard alone from a fresh load: the skip link first, to the current page's item of the main
    navigation, then the skip link again (Enter: the focus on <main>) and the first ``stops`` stops in main."""
    page.reload()
    page.wait_for_load_state("load")
    first = tab(page)
    assert first["skip"] and first["text"] == "본문 바로가기", first
    for _ in range(20):
        found = tab(page)
        if found["nav"] and found["current"] == "page":
            break
    else:
        raise AssertionError("Tab never reached the page's item of the main navigation")
    page.reload()
    page.wait_for_load_state("load")
    tab(page)
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "main"
    path = [tab(page) for _ in range(stops)]
    assert all(p["main"] for p in path), path
    return path


def charts_drawn(page: Any) -> list[str]:
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.dataset.drawn)")
    return page.eval_on_selector_all("canvas[data-chart]", "cs => cs.map(c => c.id)")  # type: ignore[no-any-return]


def cells(page: Any, table_id: str) -> dict[str, list[str]]:
    """A table's body rows keyed by their header cell, as the page shows them."""
    rows = page.eval_on_selector_all(
        f"#{table_id} tbody tr", "rs => rs.map(r => [...r.children].map(c => c.innerText.trim()))")
    return {r[0]: r[1:] for r in rows}


@pytest.fixture
def strict_page(browser: Any, world: World) -> Iterator[tuple[Any, list[str]]]:
    """A page of a browser context under the console's own Content-Security-Policy (no bypass), and what
    the browser refused or failed to run there."""
    context = browser.new_context(base_url=world.console_url, locale="ko-KR", timezone_id="Asia/Seoul",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page, problems = context.new_page(), []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page, problems
    context.close()


def test_charts_are_drawn_under_the_consoles_own_policy(strict_page: tuple[Any, list[str]], world: World) -> None:
    page, problems = strict_page
    sign_in_as(page, world.accounts[("dangjin", "auditor")])
    for path, expected in (("/compliance?year=2026&month=11", {"chart-volume", "chart-on-time", "chart-processing"}),
                           ("/satisfaction?year=2026", {"chart-scores", "chart-trend", "chart-departments"}),
                           ("/reports/dangjin/2026", {"chart-scores", "chart-months"})):
        page.goto(path)
        assert expected <= set(charts_drawn(page)), path
        # chart.js drew on the canvas: some pixels are not blank
        assert page.evaluate("""() => [...document.querySelectorAll('canvas[data-chart]')].every(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; })"""), path
    assert not problems, problems  # nothing refused by the policy, no script error


def test_compliance(sign_in: Callable[[str, str], Any], world: World) -> None:
    page = sign_in("dangjin", "department_head")
    page.goto("/compliance?year=2026&month=11")
    charts_drawn(page)
    total = cells(page, "table-departments")["기관 전체"]
    assert total[0] == str(received_in(world, "dangjin", NOV))
    departments = set(cells(page, "table-departments")) - {"기관 전체"}
    assert departments and departments <= {d for _, _, d in OFFICIALS.values()}
    assert not departments & {"교통과", "복지과"}  # Seongnam's
    assert page.get_by_role("img", name=re.compile("부서별 접수·완료 건수")).count() == 1
    assert_accessible(page, "처리 현황")
    screenshot(page, "compliance")
    names = [p["id"] or p["text"] for p in keyboard_path(page, 5)]
    assert names[:4] == ["f-year", "f-month", "f-department", "조회"] and names[4].startswith("CSV 내려받기"), names

    # the month chosen by keyboard alone: the form's controls in order, then 조회
    page.focus("#f-month")
    page.keyboard.press("ArrowUp")  # 11월 -> 10월
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "f-department"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/compliance\?year=2026&month=10"))
    assert page.locator("h2#summary-title").inner_text().startswith("2026년 10월")

    page.goto("/compliance?year=2026&month=11")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("CSV 내려받기")).click()
    data = download.value.path().read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["부서", "월", "지표", "구분", "값"]
    assert sum(int(v) for _, _, m, k, v in rows[1:] if m == "received" and not k) == received_in(world, "dangjin", NOV)

    # narrow: the tables scroll, each scroll region becomes a Tab stop, and axe still finds nothing serious
    page.mouse.move(0, 0)  # off the button just clicked (its hover colours are KRDS's)
    page.set_viewport_size({"width": 760, "height": 900})
    page.wait_for_function("() => document.querySelector('[data-scroll-region]').getAttribute('tabindex') === '0'")
    assert_accessible(page, "처리 현황 (좁은 화면)")


def test_satisfaction(sign_in: Callable[[str, str], Any], world: World) -> None:
    scored = evaluations(world, "dangjin", YEAR)
    page = sign_in("dangjin", "auditor")
    page.goto("/satisfaction?year=2026")
    charts_drawn(page)
    scores = cells(page, "table-scores")
    assert {k: v[0] for k, v in scores.items()} == {f"{i}점": str(sum(s == i for s, _ in scored)) for i in range(1, 6)}
    comments = page.eval_on_selector_all("#table-comments tbody td.cw-comment", "cs => cs.map(c => c.innerText.trim())")
    assert sorted(comments) == sorted(c for _, c in scored if c) and comments
    text = page.inner_text("main")
    assert not any(name in text for name in APPLICANTS)  # never the applicant's name
    assert not any(name in text for key, (_, name, _) in OFFICIALS.items() if key in ("jung", "kang", "yoon"))
    assert_accessible(page, "만족도")
    screenshot(page, "satisfaction")
    names = [p["id"] or p["text"] for p in keyboard_path(page, 4)]
    assert names[:3] == ["f-year", "f-month", "조회"] and names[3].startswith("CSV 내려받기"), names

    # an official sees only their own per-official line
    page = sign_in("dangjin", "official")
    page.goto("/satisfaction?year=2026")
    own = cells(page, "table-officials")
    assert list(own) == [f"{OFFICIALS['kim'][1]} ({OFFICIALS['kim'][0]})"]
    assert_accessible(page, "만족도 (담당 공무원)")


def test_reports(sign_in: Callable[[str, str], Any], world: World) -> None:
    page = sign_in("dangjin", "official")
    page.goto("/reports")
    rows = page.eval_on_selector_all("#table-reports tbody tr", "rs => rs.map(r => [...r.children].map(c => c.innerText.trim()))")
    assert ["2026년", "당진시"] == rows[0][:2] and rows[0][3] == "조사 기간 중" and rows[0][4] == "2027년 1월 30일까지"
    assert_accessible(page, "연간 보고서 목록")
    screenshot(page, "reports")
    (first,) = keyboard_path(page, 1)
    assert first["tag"] == "a" and first["text"] == "당진시 2026년 보고서 보기"
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports/dangjin/2026")
    charts_drawn(page)
    assert page.locator(".cw-draft").inner_text().startswith("초안")
    assert page.get_by_role("link", name=re.compile("PDF 내려받기")).count() == 0  # a draft: not the official's
    assert cells(page, "table-report-scores")["합계"][0] == str(len(evaluations(world, "dangjin", YEAR)))
    assert not any(name in page.inner_text("main") for _, name, _ in OFFICIALS.values())  # open data
    assert_accessible(page, "연간 보고서")
    assert [p["text"] for p in keyboard_path(page, 2)] == ["연간 보고서 목록", "인쇄"]
    page.emulate_media(media="print")  # printed: the report alone
    assert not page.locator("nav.cw-nav").is_visible() and not page.locator("[data-print]").is_visible()
    assert page.locator("#table-report-types").is_visible()
    page.emulate_media(media="screen")

    head = sign_in("dangjin", "department_head")
    head.goto("/reports/dangjin/2026")
    charts_drawn(head)
    assert "조사 기간이 2027년 1월 1일에 끝난 뒤 공표할 수 있습니다" in head.inner_text("main")
    screenshot(head, "report")
    with head.expect_download() as download:
        head.get_by_role("link", name=re.compile("PDF 내려받기")).click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename == "satisfaction-report-dangjin-2026.pdf"
    print_button = head.get_by_role("button", name="인쇄")
    print_button.focus()
    assert head.evaluate("() => document.activeElement.dataset.print !== undefined")
