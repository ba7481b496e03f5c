"""The deadline calculator's own messages (issue 17): every error names the option or query
parameter at fault, nothing given is dropped silently, and time is told in the law's units
(working days, working hours and minutes; dates and years), never in seconds or internal ranks.

Both ends are driven: ``charterwatch deadline`` in-process (typer's CliRunner) and
``GET /v1/deadline`` through the intake router and the platform's problem+json handlers.
"""
from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli import app as cli_app
from services.intake.api.routes import router
from services.platform.http import problems
from shared.deadline import Deadline
from shared.deadline_report import time_left_text, working_time_text
from shared.instants import KST
from shared.periods import CountingMode, Period
from shared.working_time import CalendarRangeError, WorkingCalendar

R = "2026-11-25T09:00:00+09:00"  # a Wednesday, 09:00
LATE = "2060-12-20T09:00:00+09:00"  # the calendar's last weeks


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, ["deadline", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def http(calendar: WorkingCalendar) -> TestClient:
    api = FastAPI()
    problems.install(api)
    api.include_router(router)
    api.state.intake = SimpleNamespace(rules=SimpleNamespace(calendar=calendar))
    return TestClient(api)


# (CLI arguments after --received, the option the CLI must blame, the query the API must blame, words the message needs)
ERRORS = [
    # syntax, zero, negative and unknown units, for the period and for an extension
    (("--received", R, "--period", "0d"), "--period", "period", ["zero"]),
    (("--received", R, "--period", "-3d"), "--period", "period", ["negative"]),
    (("--received", R, "--period", "abc"), "--period", "period", ["Nh", "Nd"]),
    (("--received", R, "--period", "3w"), "--period", "period", ["unknown unit 'w'"]),
    (("--received", R, "--period", "3"), "--period", "period", ["no unit"]),
    (("--received", R, "--period", "99999999999999999999999d"), "--period", "period", ["calendar"]),
    (("--received", R, "--period", "3d", "--extend", "0d"), "--extend[0]", "extend[0]", ["zero"]),
    (("--received", R, "--period", "3d", "--extend", "abc"), "--extend[0]", "extend[0]", ["Nh", "Nd"]),
    (("--received", R, "--period", "3d", "--extend", "2x"), "--extend[0]", "extend[0]", ["unknown unit 'x'"]),
    (("--received", R, "--period", "7d", "--extend", "7d", "--extend", "-1d", "--consent"),
     "--extend[1]", "extend[1]", ["negative"]),
    # the receipt: syntax, offset, outside the calendar (stated as a date and years)
    (("--received", "2026-13-01T00:00:00+09:00", "--period", "3d"), "--received", "received", ["ISO 8601"]),
    (("--received", "2026-11-25T09:00:00", "--period", "3d"), "--received", "received", ["offset"]),
    (("--received", "2061-01-05T10:00:00+09:00", "--period", "3d"), "--received", "received",
     ["2061-01-05", "2000-2060"]),
    (("--received", "1999-12-31T23:00:00+09:00", "--period", "3d"), "--received", "received",
     ["1999-12-31", "2000-2060"]),
    # a count that runs past the calendar's last year names the input that pushed it there
    (("--received", LATE, "--period", "14d"), "--period", "period", ["last year (2060)"]),
    (("--received", R, "--period", "99999d"), "--period", "period", ["last year (2060)"]),
    (("--received", LATE, "--period", "5d", "--extend", "5d"), "--extend[0]", "extend[0]", ["last year (2060)"]),
    (("--received", LATE, "--period", "3d", "--pause", "2060-12-21T09:00:00+09:00/2060-12-31T09:00:00+09:00"),
     "--pause[0]", "pause[0]", ["last year (2060)"]),
    # pauses: syntax, outside the calendar, ending before they start, before receipt, two open
    (("--received", R, "--period", "3d", "--pause", "garbage"), "--pause[0]", "pause[0]", ["START/END"]),
    (("--received", R, "--period", "3d", "--pause", "2026-11-26T14:00:00+09:00/xx"), "--pause[0]", "pause[0]",
     ["ISO 8601"]),
    (("--received", R, "--period", "3d", "--pause", "2026-11-26T14:00:00+09:00/2070-11-26T10:00:00+09:00"),
     "--pause[0]", "pause[0]", ["2070-11-26", "2000-2060"]),
    (("--received", R, "--period", "3d", "--pause", "2026-11-26T14:00:00+09:00/2026-11-27T10:00:00+09:00",
      "--pause", "2026-11-30T14:00:00+09:00/2026-11-30T10:00:00+09:00"), "--pause[1]", "pause[1]", ["before it starts"]),
    (("--received", R, "--period", "3d", "--pause", "2026-11-24T14:00:00+09:00/2026-11-26T10:00:00+09:00"),
     "--pause[0]", "pause[0]", ["before the petition was received"]),
    (("--received", R, "--period", "3d", "--pause", "2026-11-26T14:00:00+09:00/",
      "--pause", "2026-11-27T14:00:00+09:00/"), "--pause[1]", "pause[1]", ["one pause"]),
    # Decree 21: a second extension needs consent, none longer than the period, never a third
    (("--received", R, "--period", "7d", "--extend", "7d", "--extend", "3d"), "--extend[1]", "extend[1]", ["consent"]),
    (("--received", R, "--period", "3d", "--extend", "5d"), "--extend[0]", "extend[0]", ["longer", "3d"]),
    (("--received", R, "--period", "7d", "--extend", "3d", "--extend", "8d", "--consent"), "--extend[1]", "extend[1]",
     ["longer"]),
    (("--received", R, "--period", "7d", "--extend", "3d", "--extend", "3d", "--extend", "3d", "--consent"),
     "--extend[2]", "extend[2]", ["Decree 21"]),
    # consent given with no second extension to consent to is not dropped silently
    (("--received", R, "--period", "7d", "--consent"), "--consent", "consent", ["second"]),
    (("--received", R, "--period", "7d", "--extend", "3d", "--consent"), "--consent", "consent", ["second"]),
]


def _query(args: tuple[str, ...]) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    it = iter(args)
    for option in it:
        name = option.removeprefix("--")
        query.append((name, "true") if name == "consent" else (name, next(it)))
    return query


@pytest.mark.parametrize(("args", "option", "param", "words"), ERRORS, ids=[" ".join(e[0]) for e in ERRORS])
def test_the_cli_names_the_option_at_fault(args: tuple[str, ...], option: str, param: str, words: list[str]) -> None:
    code, out, err = cli(*args)
    assert code == 2 and out == "", (out, err)
    assert err.startswith(f"charterwatch: {option}: "), err
    for word in words:
        assert word in err, (word, err)
    assert "#" not in err and "epoch" not in err and "working second" not in err, err
    if option != "--period":
        assert "--period" not in err, err  # the issue: --extend 0d was blamed on --period


@pytest.mark.parametrize(("args", "option", "param", "words"), ERRORS, ids=[" ".join(e[0]) for e in ERRORS])
def test_the_api_names_the_query_parameter_at_fault(http: TestClient, args: tuple[str, ...], option: str, param: str,
                                                    words: list[str]) -> None:
    r = http.get("/v1/deadline", params=_query(args))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    body = r.json()
    assert body["field"] == param and body["errors"][0]["field"] == param, body
    for word in words:
        assert word.replace("--consent", "consent=true") in body["detail"], (word, body)
    assert "--" not in body["detail"], body  # the API speaks of its own parameters, not the CLI's options


def test_no_message_speaks_of_ranks_or_epochs() -> None:
    for args in (("--received", R, "--period", "99999d"), ("--received", LATE, "--period", "14d"),
                 ("--received", LATE, "--period", "5d", "--extend", "5d"),
                 ("--received", LATE, "--period", "3d", "--pause", "2060-12-21T09:00:00+09:00/2060-12-31T09:00:00+09:00")):
        _, _, err = cli(*args)
        assert "#" not in err and "epoch" not in err and re.search(r"20[0-9]{2}", err), err


def test_consent_hint_on_each_end(http: TestClient) -> None:
    _, _, err = cli("--received", R, "--period", "7d", "--extend", "7d", "--extend", "3d")
    assert err.rstrip().endswith("give --consent"), err
    detail = http.get("/v1/deadline", params=_query(("--received", R, "--period", "7d", "--extend", "7d",
                                                      "--extend", "3d"))).json()["detail"]
    assert detail.endswith("give consent=true"), detail


def test_the_api_takes_extensions_like_the_cli(http: TestClient) -> None:
    base = ("--received", "2026-03-03T10:00:00+09:00", "--period", "7d",
            "--pause", "2026-03-05T10:00:00+09:00/2026-03-09T15:00:00+09:00")
    for extra in (("--extend", "7d"), ("--extend", "7d", "--extend", "3d", "--consent")):
        code, out, _ = cli(*base, *extra)
        r = http.get("/v1/deadline", params=_query((*base, *extra)))
        assert code == 0 and r.status_code == 200, r.text
        assert r.json()["due_at"] == out.strip()
        assert [e["period"] for e in r.json()["extensions"]] == [v for v in extra if v[0].isdigit()]
    assert r.json()["extensions"][1]["consented"] is True


@pytest.mark.parametrize(("period", "pause_start", "expected"), [
    ("3d", "2026-11-26T14:00:00+09:00", "paused: 12 working hours left"),  # 24h - Wed 8h - Thu 4h
    ("3h", "2026-11-25T10:00:00+09:00", "paused: 2 working hours left"),
    ("3h", "2026-11-25T10:30:00+09:00", "paused: 1 working hour and 30 working minutes left"),
    ("3d", "2026-11-25T10:00:00+09:00", "paused: 23 working hours left"),  # the 82800 seconds
])
def test_paused_text_speaks_in_working_hours(period: str, pause_start: str, expected: str) -> None:
    code, out, err = cli("--received", R, "--period", period, "--pause", f"{pause_start}/")
    assert code == 0 and out.strip() == expected, (out, err)
    assert "second" not in out


def test_paused_day_count_speaks_in_working_days() -> None:
    code, out, _ = cli("--received", R, "--period", "14d", "--pause", "2026-11-26T14:00:00+09:00/")
    assert code == 0 and re.fullmatch(r"paused: \d+ working days left", out.strip()), out


def test_an_extension_while_paused_is_never_dropped_silently() -> None:
    code, out, err = cli("--received", R, "--period", "3d", "--pause", "2026-11-26T14:00:00+09:00/", "--extend", "3d")
    assert code == 0 and out.startswith("paused: ") and "second" not in out, out
    assert "extension" in err and "3d" in err, err  # stated: added to the time left (or, at least, not applied)


def test_json_keeps_its_machine_fields_and_gains_words() -> None:
    import json

    code, out, _ = cli("--received", R, "--period", "3d", "--pause", "2026-11-25T10:00:00+09:00/", "--json")
    data = json.loads(out)
    assert code == 0 and data["remaining_working_seconds"] == 82800 and data["remaining_working_days"] is None
    assert data["time_left"] == "23 working hours left"
    code, out, _ = cli("--received", R, "--period", "3d", "--pause",
                       "2026-11-25T10:00:00+09:00/2026-11-25T13:30:00+09:00", "--json")
    data = json.loads(out)
    [p] = data["pauses_applied"]
    assert p["working_seconds_not_counted"] == 9000 and p["not_counted"] == "2 working hours and 30 working minutes"
    assert data["time_left"] is None and data["notes"] == []


def _paused(days: int | None, seconds: int | None) -> Deadline:
    return Deadline(received_at=datetime(2026, 11, 25, 9, tzinfo=KST), period=Period(7, "d"),
                    mode=CountingMode.WORKING_DAYS, due_at=None, paused=True, remaining_working_seconds=seconds,
                    remaining_working_days=days, pauses_applied=(), extensions=(), holidays_skipped=(),
                    calendar_version="t")


@pytest.mark.parametrize(("days", "seconds", "expected"), [
    (2, 7 * 3600, "2 working days and 7 working hours left"),  # a day count extended by hours
    (1, 5 * 3600, "1 working day and 5 working hours left"),
    (None, 82800, "23 working hours left"),  # Act 19-1: counted in hours, not folded into days
    (3, None, "3 working days left"),
    (3, 0, "3 working days left"),
    (1, 3600 + 60, "1 working day, 1 working hour and 1 working minute left"),
    (None, 59 * 60 + 59, "59 working minutes left"),  # rounded down to the minute
    (None, 30, "less than a working minute left"),
])
def test_time_left_in_the_laws_units(days: int | None, seconds: int | None, expected: str) -> None:
    assert time_left_text(_paused(days, seconds)) == expected
    assert "second" not in expected


def test_working_time_text_of_nothing() -> None:
    assert working_time_text(0, 0) == "no working time"


def test_calendar_range_errors_state_dates_and_years() -> None:
    cal = WorkingCalendar([], 2026, 2026, source="t")
    messages = []
    for call in (lambda: cal.working_day_at_rank(10_000), lambda: cal.working_day_at_rank(-1),
                 lambda: cal.epoch_at(10_000 * 8 * 3600), lambda: cal.working_seconds_at_epoch(2_000_000_000),
                 lambda: cal.working_days_before_epoch(0), lambda: cal.working_seconds_at_epoch(10**15)):
        with pytest.raises(CalendarRangeError) as caught:
            call()
        messages.append(str(caught.value))
    assert messages[0] == messages[2] == "the count runs past the working calendar's last year (2026)"
    assert messages[1] == "the count runs before the working calendar's first year (2026)"
    assert messages[3] == "2033-05-18T12:33:20+09:00 is outside the working calendar, which covers the years 2026-2026"
    assert messages[4].startswith("1970-01-01T09:00:00+09:00 is outside")
    for m in messages[:5]:
        assert "#" not in m and "epoch" not in m, m


@pytest.mark.parametrize(("text", "words"), [
    ("0d", "zero"), ("-3d", "negative"), ("3w", "unknown unit 'w'"), ("abc", "Nh or Nd"), ("7", "no unit"),
    ("1" * 5000 + "d", "longer than any working calendar"),
])
def test_period_messages_name_no_field(text: str, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        Period.parse(text)
    assert words in str(caught.value) and not str(caught.value).startswith("period:"), caught.value
    assert len(str(caught.value)) < 200
