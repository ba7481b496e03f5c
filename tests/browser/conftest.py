"""The browser tests' world: one running system per session (``charterwatch up``, embedded log, a drill
clock) filled with a month of petitions through the intake API (``month.py``), console accounts for every
role of two agencies made with the CLI, and Debian's chromium driven by Playwright (never a downloaded
browser).

Fixtures for the pages' tests:

- ``world``: the running system, its console's URL, the agencies' API keys, the case ids by key, the
  accounts, and the log (``world.events(topic)``);
- ``chromium``, ``browser``: Debian's chromium (missing, or Playwright missing: skipped locally, a failure
  under CI=true, before anything is started);
- ``sign_in(agency, role)``: a page of a fresh browser context (CSP bypassed so axe can be injected),
  signed in as that agency's account with that role, on the work queue;
- ``assert_accessible(page)``: axe-core (``axe.min.js``, vendored 4.14.1) finds no serious or critical
  violation;
- ``assert_keyboard(page)``: the skip link comes first and takes the focus to the main content, and Tab
  reaches the main navigation, then the page's first action;
- ``screenshot(page, name)``: ``docs/console/<name>.png`` (set CHARTERWATCH_SCREENSHOTS=0 not to write).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.platform.log.embedded import EmbeddedLog
from services.platform.log.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import Envelope, decode
from shared.working_time import WorkingCalendar
from tests.browser.month import NOW, OFFICIALS, petitions, seed, write_clock
from tests.conftest import _missing
from tests.e2e.harness import RunningSystem

CHROMIUM = os.environ.get("CHARTERWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parent / "axe.min.js"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"
PASSWORD = "콘솔-시험용-비밀번호-2026"
AGENCIES = ("dangjin", "seongnam")
ROLES = ("official", "department_head", "auditor", "administrator")
ROLE_LABELS = {"official": "담당 공무원", "department_head": "부서장", "auditor": "감사 담당", "administrator": "관리자"}


@dataclass(frozen=True)
class Account:
    agency: str
    role: str
    username: str
    display_name: str
    official_id: str | None = None
    department: str | None = None


def accounts() -> dict[tuple[str, str], Account]:
    """Per agency: an official whose id the assignments carry (their "my cases"), the department head of
    that official's department, an auditor and an administrator."""
    out = {}
    for agency, prefix, who in (("dangjin", "dj", "kim"), ("seongnam", "sn", "kang")):
        oid, name, department = OFFICIALS[who]
        out[(agency, "official")] = Account(agency, "official", f"{prefix}-{who}", name, oid, department)
        out[(agency, "department_head")] = Account(agency, "department_head", f"{prefix}-head", f"{department}장",
                                                   None, department)
        out[(agency, "auditor")] = Account(agency, "auditor", f"{prefix}-audit", "감사 담당자")
        out[(agency, "administrator")] = Account(agency, "administrator", f"{prefix}-admin", "관리자")
    return out


@dataclass
class World:
    system: RunningSystem
    workdir: Path
    env: dict[str, str]
    console_url: str
    tokens: dict[str, str]  # agency -> API key
    cases: dict[str, str] = field(default_factory=dict)  # petition key (month.py) -> case id
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    now: Any = NOW  # the drill clock's instant once the month is in (month.NOW)
    timings: dict[str, float] = field(default_factory=dict)  # seconds from the start: up, keys, seeded, ready

    @property
    def data_dir(self) -> Path:
        return self.workdir / "var"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "services.cli", *args], input=stdin, capture_output=True,
                              text=True, cwd=self.workdir, env=self.env, timeout=120)
        assert done.returncode == 0, f"charterwatch {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def events(self, topic: str) -> list[Envelope]:
        """Every event on one topic (``Topics`` attribute name: petition_events, sla_events, ...), read from
        the embedded log's file as any reader of the log would."""
        log = EmbeddedLog(self.data_dir / "eventlog.db")
        try:
            records, _ = read_all(log, getattr(Topics(), topic))
        finally:
            log.close()
        return [decode(r.value) for r in records]

    def api(self, agency: str, port: int) -> httpx.Client:
        """One of the services' APIs as an agency (``system.compensation_port``, ``system.port``...)."""
        return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                            headers={"Authorization": f"Bearer {self.tokens[agency]}"})


@pytest.fixture(scope="package")
def chromium() -> str:
    """Debian's chromium and Playwright, or the session's browser tests cannot run: skipped locally, a
    failure under CI=true (checked before the system is started and filled, which takes a minute)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright (pip install playwright; no browser download: Debian's chromium is used)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"chromium at {CHROMIUM} (apt-get install chromium; deploy/test.sh does)")
    return CHROMIUM


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory, calendar: WorkingCalendar, chromium: str) -> Iterator[World]:
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp("console-browser")
    clock = workdir / "clock"
    write_clock(clock, min(p.received for p in petitions()))  # the month's first instant; seeding moves it on
    env = {"CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_CLOCK_FILE": str(clock)}
    system = RunningSystem(workdir, env)
    full_env = {**os.environ, **env, "CHARTERWATCH_DATA_DIR": str(workdir / "var")}
    try:
        w = World(system, workdir, full_env, f"http://127.0.0.1:{system.console_port}", {})
        console = httpx.Client(base_url=w.console_url, timeout=10)

        def console_up() -> bool:
            try:
                return console.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False
        system.wait_for(console_up, 60, "the console (charterwatch up starts it on console_port) to answer")
        console.close()
        w.timings["up"] = time.monotonic() - started
        with ThreadPoolExecutor(max_workers=2) as pool:
            keys = {a: pool.submit(w.cli, "keys", "create", "--agency", a, "--label", "browser tests")
                    for a in AGENCIES}
            w.tokens = {a: f.result().strip().splitlines()[-1] for a, f in keys.items()}
            w.accounts = accounts()
            made = [pool.submit(w.cli, "users", "create", "--agency", a.agency, "--username", a.username,
                                "--role", a.role, "--display-name", a.display_name, "--password-stdin",
                                *(["--official-id", a.official_id] if a.official_id else []),
                                *(["--department", a.department] if a.department else []), stdin=PASSWORD + "\n")
                    for a in w.accounts.values()]
            w.timings["keys"] = time.monotonic() - started
            w.cases = seed(system.http, w.tokens, clock, w.data_dir, calendar)
            w.timings["seeded"] = time.monotonic() - started
            for f in made:
                f.result()
        w.timings["ready"] = time.monotonic() - started
        yield w
    finally:
        code = system.stop()
        assert code in (0, 130), system.text()[-3000:]


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Any, world: World) -> Iterator[Callable[[], Any]]:
    """Pages of fresh browser contexts (each its own cookies), closed after the test."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=world.console_url, bypass_csp=True, locale="ko-KR",
                                      timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


def sign_in_as(page: Any, account: Account, password: str = PASSWORD) -> Any:
    page.goto("/login")
    page.fill("#username", account.username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/queue")
    return page


@pytest.fixture
def sign_in(new_page: Callable[[], Any], world: World) -> Callable[[str, str], Any]:
    """``sign_in("seongnam", "department_head")``: a page signed in as that account, on the work queue."""
    def go(agency: str, role: str) -> Any:
        return sign_in_as(new_page(), world.accounts[(agency, role)])
    return go


def csrf_of(page: Any) -> str:
    """The session's CSRF token, as every form of the page carries it."""
    return page.locator("input[name=csrf_token]").first.get_attribute("value")  # type: ignore[no-any-return]


def assert_accessible(page: Any, context: str = "") -> None:
    """axe-core on the page as it is: no violation of impact serious or critical."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    details = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                        + "; ".join(" ".join(n["target"]) + " " + n.get("failureSummary", "").replace("\n", " ")
                                    for n in v["nodes"][:4]) for v in bad)
    assert not bad, f"axe on {context or page.url}:\n{details}"


FOCUS = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim(),
          skip: !!e.closest('#krds-skip-link'), nav: !!e.closest('nav[aria-label="주 메뉴"]'),
          main: !!e.closest('main'), id: e.id, visible: !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)}; }"""


def focus(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUS)  # type: ignore[no-any-return]


def assert_keyboard(page: Any) -> dict[str, Any]:
    """From the top of the page by keyboard alone: the skip link first, then the main navigation, then the
    page's first action inside <main>. Then the skip link itself: Enter moves the focus to <main> and the
    next Tab lands on main's first control. Returns that first action. (The page is loaded again before
    each walk: a blur would leave the browser's focus starting point where it was.)"""
    page.reload()
    page.keyboard.press("Tab")
    first = focus(page)
    assert first and first["skip"] and first["text"] == "본문 바로가기", f"Tab first reached {first}"
    seen = [first]
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(focus(page))
        if seen[-1] and seen[-1]["nav"]:
            break
    assert seen[-1] and seen[-1]["nav"], f"Tab never reached the main navigation: {seen}"
    for _ in range(15):
        page.keyboard.press("Tab")
        seen.append(focus(page))
        if seen[-1] and seen[-1]["main"]:
            break
    action = seen[-1]
    assert action and action["main"] and action["visible"] and action["tag"] in ("a", "button", "input", "select"), \
        f"Tab never reached the page's first action: {seen}"
    # the skip link
    page.reload()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    at_main = page.evaluate("() => document.activeElement && document.activeElement.id")
    assert at_main == "main", f"the skip link left the focus on {at_main!r}"
    page.keyboard.press("Tab")
    after = focus(page)
    assert after and after["main"], f"after the skip link, Tab reached {after}"
    return action


def screenshot(page: Any, name: str) -> Path | None:
    """docs/console/<name>.png, the whole page (docs/console.md shows them)."""
    if os.environ.get("CHARTERWATCH_SCREENSHOTS", "1") == "0":
        return None
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
