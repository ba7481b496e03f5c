"""The console's foundation (issue 18): accounts, argon2, lockout, sessions with their expiries, CSRF,
the sign-in flow over HTTP, assets served locally, security headers, and one agency never reaching
another's data through a console session."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from services import wiring
from services.bootstrap import Container
from services.console.accounts.orm import SessionRow, UserRow
from services.console.accounts.sessions import token_hash
from services.console.accounts.users import SIGN_IN_REFUSED, User, create_user
from services.console.clients import (
    AgencyKeys,
    AuditClient,
    CompensationClient,
    ServiceError,
)
from services.console.web.app import CONSOLE_CSP, create_app
from services.console.web.deps import Console
from services.console.web.security import CurrentUser, require_role
from services.platform.access.keys import authenticate
from services.platform.access.orm import ApiKeyRow
from tests.integration.conftest import TEST_KEYS, http_client, make_container
from tests.integration.test_intake_api import PETITION

PASSWORD = "정확한-비밀번호-2026"
HTML = {"accept": "text/html,application/xhtml+xml"}
START = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def c(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[Container]:
    container = make_container(tmp_path, database_url, clock=clock)
    yield container
    container.close()


def deps(c: Container, **overrides: Any) -> Console:
    """The console bound to the compensation and audit apps in this process (no ports)."""
    keys = AgencyKeys(c.database("access").sessions, c.now)
    values: dict[str, Any] = {
        "db": c.database("console"), "clock": c.now, "keys": keys,
        "compensation": CompensationClient(keys, http=TestClient(wiring.compensation_app(c))),
        "audit": AuditClient(keys, http=TestClient(wiring.audit_app(c))), **overrides}
    return Console(**values)


def add_user(c: Container, username: str, agency: str = "agency-a", role: str = "official", **extra: Any) -> User:
    with c.database("console").sessions.begin() as session:
        return create_user(session, agency_id=agency, username=username, password=PASSWORD, role=role,
                           now=c.now(), **extra)


def login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password, "csrf_token": login_csrf(client)},
                       headers=HTML, follow_redirects=False)


def page_csrf(client: TestClient, path: str = "/queue") -> str:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def refusal(page: str) -> str:
    """The sign-in page's error message, as a person would read it."""
    found = re.search(r'<div class="cw-alert cw-alert-error" role="alert" id="login-error">([^<]*)</div>', page)
    assert found, page
    return found.group(1)


# -- accounts ---------------------------------------------------------------------------------------------
def test_users_cli_creates_lists_and_disables_accounts_never_taking_a_password_argument(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.cli import app

    for name, value in {"CHARTERWATCH_DATA_DIR": str(tmp_path), "CHARTERWATCH_DATABASE_URL": database_url,
                        "CHARTERWATCH_PII_KEYS": TEST_KEYS, "CHARTERWATCH_LOG_LEVEL": "warning"}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    made = runner.invoke(app, ["users", "create", "--agency", "dangjin", "--username", "park", "--role", "official",
                               "--official-id", "o-17", "--department", "도로과", "--display-name", "박주무관",
                               "--password-stdin"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert "created park" in made.output and PASSWORD not in made.output
    prompted = runner.invoke(app, ["users", "create", "--agency", "yeonje", "--username", "lee", "--role",
                                   "department_head"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    # the password is never an argument (shell history, the process list)
    as_argument = runner.invoke(app, ["users", "create", "--agency", "dangjin", "--username", "x", "--role",
                                      "official", "--password", PASSWORD])
    assert as_argument.exit_code != 0
    for bad, hint in ((["--role", "mayor"], "role"), (["--agency", "bad agency"], "agency")):
        args = {"--agency": "dangjin", "--username": "kim", "--role": "official"}
        args.update(dict(zip(bad[::2], bad[1::2])))
        refused = runner.invoke(app, ["users", "create", *[x for kv in args.items() for x in kv], "--password-stdin"],
                                input=PASSWORD + "\n")
        assert refused.exit_code != 0 and hint in refused.output, refused.output
    short = runner.invoke(app, ["users", "create", "--agency", "dangjin", "--username", "kim", "--role", "official",
                                "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "password" in short.output
    taken = runner.invoke(app, ["users", "create", "--agency", "dangjin", "--username", "park", "--role", "official",
                                "--password-stdin"], input=PASSWORD + "\n")
    assert taken.exit_code != 0 and "taken" in taken.output

    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.output.strip().splitlines()]
    assert [line[:5] for line in lines] == [["park", "dangjin", "official", "active", "o-17"],
                                            ["lee", "yeonje", "department_head", "active", "-"]]
    only = runner.invoke(app, ["users", "list", "--agency", "yeonje"])
    assert [line.split("\t")[0] for line in only.output.strip().splitlines()] == ["lee"]
    assert "$argon2" not in listed.output

    assert runner.invoke(app, ["users", "disable", "park"]).exit_code == 0
    assert "\tdisabled\t" in runner.invoke(app, ["users", "list", "--agency", "dangjin"]).output
    missing = runner.invoke(app, ["users", "disable", "nobody"])
    assert missing.exit_code == 1


def test_passwords_are_kept_as_argon2id_hashes(c: Container) -> None:
    add_user(c, "kim")
    with c.database("console").readers() as session:
        row = session.execute(select(UserRow).where(UserRow.username == "kim")).scalar_one()
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert PasswordHasher().verify(row.password_hash, PASSWORD)


def test_five_failures_lock_the_account_for_15_minutes_with_the_same_answer_as_a_wrong_password(
        c: Container, clock: Clock) -> None:
    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))
    wrong = sign_in(client, "kim", "틀린-비밀번호-0000")
    assert wrong.status_code == 401
    answer = refusal(wrong.text)
    assert answer == SIGN_IN_REFUSED
    for _ in range(4):
        assert refusal(sign_in(client, "kim", "틀린-비밀번호-0000").text) == answer
    locked = sign_in(client, "kim")  # the right password, while locked
    assert locked.status_code == 401 and refusal(locked.text) == answer
    assert refusal(sign_in(client, "nobody").text) == answer  # unknown: the same words
    with c.database("console").readers() as session:
        row = session.execute(select(UserRow).where(UserRow.username == "kim")).scalar_one()
    assert row.locked_until == START + timedelta(minutes=15)

    clock.advance(minutes=14, seconds=59)
    assert sign_in(client, "kim").status_code == 401  # still locked, and the attempt does not extend it
    clock.advance(seconds=1)
    ok = sign_in(client, "kim")
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    # a success clears the count: four more failures do not lock
    client.post("/logout", data={"csrf_token": page_csrf(client)}, headers=HTML)
    for _ in range(4):
        sign_in(client, "kim", "틀린-비밀번호-0000")
    assert sign_in(client, "kim").status_code == 303


def test_a_disabled_account_is_refused_the_same_way_and_its_sessions_end(c: Container) -> None:
    from services.console.accounts.users import disable_user

    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))
    assert sign_in(client, "kim").status_code == 303
    assert client.get("/queue", headers=HTML).status_code == 200
    with c.database("console").sessions.begin() as session:
        assert disable_user(session, "kim")
    ended = client.get("/queue", headers=HTML, follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    refused = sign_in(client, "kim")
    assert refused.status_code == 401 and refusal(refused.text) == SIGN_IN_REFUSED


# -- sessions ---------------------------------------------------------------------------------------------
def test_a_session_ends_after_30_idle_minutes_and_8_hours_in_all(c: Container, clock: Clock) -> None:
    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))

    def alive() -> bool:
        r = client.get("/queue", headers=HTML, follow_redirects=False)
        assert r.status_code in (200, 303)
        return r.status_code == 200

    assert sign_in(client, "kim").status_code == 303
    clock.advance(minutes=29)
    assert alive()  # seen: the idle clock restarts
    clock.advance(minutes=29)
    assert alive()
    clock.advance(minutes=30)
    assert not alive()  # idle 30 minutes

    assert sign_in(client, "kim").status_code == 303
    signed_at = clock.at
    while clock.at + timedelta(minutes=25) < signed_at + timedelta(hours=8):  # busy all day
        clock.advance(minutes=25)
        assert alive(), clock.at - signed_at
    clock.at = signed_at + timedelta(hours=8)
    assert not alive()  # 8 hours after sign-in, however busy
    # the refused token's row is gone: an expired session cannot come back
    with c.database("console").readers() as session:
        assert session.execute(select(SessionRow)).scalars().all() == []


def test_the_session_token_is_random_and_stored_only_as_its_sha256(c: Container) -> None:
    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))
    tokens = set()
    for _ in range(2):
        assert sign_in(client, "kim").status_code == 303
        tokens.add(client.cookies["cw_session"])
    assert len(tokens) == 2 and all(len(t) >= 43 for t in tokens)  # 32 random bytes, base64
    with c.database("console").readers() as session:
        stored = {r.token_hash for r in session.execute(select(SessionRow)).scalars()}
    # a second sign-in ended the first session (no fixation); the table holds no token, only its hash
    assert stored == {token_hash(client.cookies["cw_session"])}
    assert not stored & tokens


# -- CSRF -------------------------------------------------------------------------------------------------
def test_csrf_refuses_a_missing_or_wrong_token_and_a_foreign_origin(c: Container) -> None:
    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))
    # the sign-in form itself: its token must match its cookie (no login CSRF)
    forged = client.post("/login", data={"username": "kim", "password": PASSWORD}, headers=HTML,
                         follow_redirects=False)
    assert forged.status_code == 403 and "cw_session" not in client.cookies
    assert client.post("/login", data={"username": "kim", "password": PASSWORD, "csrf_token": "x" * 43},
                       headers=HTML).status_code == 403
    assert sign_in(client, "kim").status_code == 303
    token = page_csrf(client)

    assert client.post("/logout", data={}, headers=HTML).status_code == 403
    wrong = client.post("/logout", data={"csrf_token": token[:-1] + ("A" if token[-1] != "A" else "B")},
                        headers=HTML)
    assert wrong.status_code == 403 and "페이지를 새로 고친" in wrong.text
    assert client.post("/logout", data={"csrf_token": token}, headers={**HTML, "origin": "https://evil.example"},
                       ).status_code == 403
    assert client.post("/logout", data={"csrf_token": token},
                       headers={**HTML, "referer": "https://evil.example/page"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": token}, headers={**HTML, "origin": "null"}).status_code == 403
    api = client.post("/logout", json={})  # a script's request: problem+json
    assert api.status_code == 403 and api.headers["content-type"] == "application/problem+json"
    assert client.get("/queue", headers=HTML).status_code == 200  # none of them signed out

    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False,
                      headers={**HTML, "origin": "http://testserver", "referer": "http://testserver/queue"})
    assert out.status_code == 303 and out.headers["location"] == "/login"


def test_a_session_token_of_one_session_does_not_pass_for_another(c: Container) -> None:
    add_user(c, "kim")
    add_user(c, "lee")
    first, second = TestClient(create_app(deps(c))), TestClient(create_app(deps(c)))
    sign_in(first, "kim")
    sign_in(second, "lee")
    assert second.post("/logout", data={"csrf_token": page_csrf(first)}, headers=HTML).status_code == 403


# -- sign-in over HTTP --------------------------------------------------------------------------------------
def test_sign_in_and_out(c: Container) -> None:
    add_user(c, "kim", display_name="김주무관", department="도로과", official_id="o-17")
    client = TestClient(create_app(deps(c)))
    home = client.get("/", headers=HTML, follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/login"
    deep = client.get("/overdue?month=2026-11", headers=HTML, follow_redirects=False)
    assert deep.status_code == 303 and deep.headers["location"] == "/login?next=%2Foverdue%3Fmonth%3D2026-11"
    api = client.get("/queue")  # not a browser: 401 problem+json
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"

    empty = client.post("/login", data={"username": "", "password": "", "csrf_token": login_csrf(client)},
                        headers=HTML)
    assert empty.status_code == 400
    assert 'aria-describedby="username-error"' in empty.text and 'id="username-error"' in empty.text
    assert 'aria-describedby="password-error password-hint"' in empty.text

    signed = sign_in(client, "kim")
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "cw_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.get("/", headers=HTML, follow_redirects=False).headers["location"] == "/queue"
    queue = client.get("/queue", headers=HTML)
    assert queue.status_code == 200
    for text in ("김주무관", "도로과", "담당 공무원", "agency-a", "본문 바로가기", 'lang="ko"', 'aria-current="page"',
                 "작업 목록", "기한 경과 검토", "보상", "처리 현황", "만족도", "연간 보고서", "<main"):
        assert text in queue.text, text
    assert client.get("/login", headers=HTML, follow_redirects=False).status_code == 303  # already signed in

    old = client.cookies["cw_session"]
    out = client.post("/logout", data={"csrf_token": page_csrf(client)}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and "cw_session" not in client.cookies
    client.cookies.set("cw_session", old)  # the old token, replayed
    assert client.get("/queue", headers=HTML, follow_redirects=False).status_code == 303

    onward = client.post("/login", follow_redirects=False, headers=HTML, data={
        "username": "kim", "password": PASSWORD, "csrf_token": login_csrf(client), "next": "/remedies"})
    assert onward.headers["location"] == "/remedies"
    client.post("/logout", data={"csrf_token": page_csrf(client)}, headers=HTML)
    away = client.post("/login", follow_redirects=False, headers=HTML, data={
        "username": "kim", "password": PASSWORD, "csrf_token": login_csrf(client), "next": "//evil.example/x"})
    assert away.headers["location"] == "/"  # never an open redirect
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_cookie_is_secure_over_https_or_when_configured(c: Container) -> None:
    add_user(c, "kim")
    over_https = TestClient(create_app(deps(c)), base_url="https://testserver")
    assert "Secure" in sign_in(over_https, "kim").headers["set-cookie"]
    plain = TestClient(create_app(deps(c)))
    assert "Secure" not in sign_in(plain, "kim").headers["set-cookie"]
    configured = TestClient(create_app(deps(c, secure_cookies=True)))  # TLS ends at a proxy that does not say so
    form = configured.get("/login")
    assert "Secure" in form.headers["set-cookie"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    signed = configured.post("/login", data={"username": "kim", "password": PASSWORD, "csrf_token": token},
                             headers={**HTML, "cookie": f"cw_login_csrf={token}"}, follow_redirects=False)
    assert signed.status_code == 303 and "Secure" in signed.headers["set-cookie"]


def test_no_password_or_token_reaches_the_logs(c: Container, log_lines: io.StringIO) -> None:
    add_user(c, "kim", display_name="김주무관")
    client = TestClient(create_app(deps(c)))
    sign_in(client, "kim", "틀린-비밀번호-0000")
    sign_in(client, "kim")
    client.post("/logout", data={"csrf_token": page_csrf(client)}, headers=HTML)
    logged = log_lines.getvalue()
    assert "console_signed_in" in logged and "console_sign_in_refused" in logged
    for secret in (PASSWORD, "틀린-비밀번호-0000", "김주무관"):
        assert secret not in logged
    assert "$argon2" not in logged


# -- assets and headers -------------------------------------------------------------------------------------
def test_every_asset_is_served_by_the_console_itself(c: Container) -> None:
    client = TestClient(create_app(deps(c)))
    page = client.get("/login").text
    assets = re.findall(r"""<(?:link|script)\b[^>]*?(?:href|src)=["']([^"']+)["']""", page)
    assert len(assets) >= 4
    css_urls: list[str] = []
    for url in assets:
        assert url.startswith("/static/") and "//" not in url, url  # nothing from a CDN
        r = client.get(url)
        assert r.status_code == 200, url
        if url.endswith(".css"):
            css_urls += [str(Path(url).parent / u) for u in re.findall(r"""url\(["']?([^"')]+)["']?\)""", r.text)]
            css_urls += [str(Path(url).parent / u) for u in re.findall(r'@import\s+"([^"]+)"', r.text)]
    fonts = [u for u in css_urls if u.endswith(".woff2")]
    assert len(fonts) == 3
    for url in sorted(set(css_urls)):  # fonts, KRDS icons, imported token sheet: every one answers
        assert not url.startswith(("http:", "https:")), url
        assert client.get(re.sub(r"/[^/]+/\.\./", "/", re.sub(r"/[^/]+/\.\./", "/", url))).status_code == 200, url
    assert "inline" not in CONSOLE_CSP and re.search(r"<script>|<style>|\sstyle=|\son[a-z]+=", page) is None


def test_security_headers(c: Container) -> None:
    add_user(c, "kim")
    client = TestClient(create_app(deps(c)))
    sign_in(client, "kim")
    for path in ("/login", "/queue", "/static/console.css", "/healthz", "/nowhere"):
        r = client.get(path, headers=HTML)
        policy = r.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy and "http" not in policy, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "same-origin"
    assert client.get("/queue", headers=HTML).headers["cache-control"] == "no-store"
    missing = client.get("/nowhere", headers=HTML)
    assert missing.status_code == 404 and "페이지를 찾을 수 없음" in missing.text


# -- one agency, never another's ---------------------------------------------------------------------------
def scoped_router(console: Console) -> APIRouter:
    """What a page built on the foundation does: acts as its user's agency, never another."""
    router = APIRouter()

    @router.get("/t/me")
    def me(user: CurrentUser) -> dict[str, str]:
        return {"agency_id": user.agency_id, "username": user.username}

    @router.get("/t/case/{case_id}")
    def case(case_id: str, user: CurrentUser) -> dict[str, Any]:
        try:
            report = console.audit.case_report(user.agency_id, case_id)
        except ServiceError as exc:
            return {"status": exc.status}
        return {"status": 200, "case_id": report["case_id"]}

    @router.get("/t/heads-only")
    def heads(user: Annotated[User, Depends(require_role("department_head", "administrator"))]) -> dict[str, str]:
        return {"ok": user.username}

    return router


def test_an_account_reaches_only_its_own_agency(c: Container) -> None:
    add_user(c, "kim", agency="agency-a")
    add_user(c, "lee", agency="agency-b", role="department_head")
    filed = http_client(c, "agency-b").post("/v1/petitions", json=PETITION)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]

    console = deps(c)
    app = create_app(console, routers=[scoped_router(console)])
    with TestClient(app) as a, TestClient(app) as b:
        sign_in(a, "kim")
        sign_in(b, "lee")
        assert a.get("/t/me").json() == {"agency_id": "agency-a", "username": "kim"}
        assert b.get("/t/me").json() == {"agency_id": "agency-b", "username": "lee"}
        assert b.get(f"/t/case/{case_id}").json() == {"status": 200, "case_id": case_id}
        assert a.get(f"/t/case/{case_id}").json() == {"status": 404}  # B's case: as if it did not exist
        a.cookies.set("cw_session", "forged-" + b.cookies["cw_session"][7:])
        assert a.get("/t/me").status_code == 401
        # roles
        a.cookies.clear()
        sign_in(a, "kim")
        assert a.get("/t/heads-only").status_code == 403
        assert a.get("/t/heads-only", headers=HTML).status_code == 403
        assert b.get("/t/heads-only").json() == {"ok": "lee"}

    # the keys the console called with: one per agency, labelled, each authenticating as its agency only
    with c.database("access").readers() as session:
        keys = session.execute(select(ApiKeyRow).where(ApiKeyRow.label == "console")).scalars().all()
        assert sorted(k.agency_id for k in keys if k.revoked_at is None) == ["agency-a", "agency-b"]
        for agency in ("agency-a", "agency-b"):
            assert authenticate(session, f"Bearer {console.keys.token(agency)}") == agency


def test_the_console_revokes_its_earlier_keys_at_start_and_renews_a_revoked_one(c: Container) -> None:
    first = deps(c)
    stale = first.keys.token("agency-a")
    second = deps(c)
    with TestClient(create_app(second)):  # its start
        pass
    with c.database("access").readers() as session:
        with pytest.raises(Exception):
            authenticate(session, f"Bearer {stale}")
    # the first console, still running, finds its key revoked: it issues another and goes on
    assert first.compensation.list_vouchers("agency-a") == {"items": [], "next_cursor": None}
    assert first.keys.token("agency-a") != stale
    assert first.compensation.strikes("agency-a") == []
    with pytest.raises(ServiceError) as missing:
        first.compensation.voucher("agency-a", "../v1/strikes")  # an id never walks to another path
    assert missing.value.status == 404


def test_the_console_is_part_of_the_topology(c: Container) -> None:
    from services.topology import PARTS, describe, parts_of

    assert "console_web" in [p.name for p in parts_of("console")]
    assert any(line.startswith("console ") and "console tables" in line for line in describe(c))
    assert "console_web" in {p.name for p in PARTS}
    assert c.settings.console_port == 8084
