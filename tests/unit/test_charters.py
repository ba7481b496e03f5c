"""Charters as versioned data: bundled files, validation with paths, the version in force, targets."""
from datetime import date, datetime

import pytest

from shared.charters import (
    CharterBook,
    CharterFileError,
    NoCharterInForce,
    parse_charter,
)
from shared.charters.model import Callback, OpinionResponse, Remedy
from shared.instants import KST
from shared.periods import Period, PetitionType

MINIMAL = """
id: testville
municipality: 시험시
municipality_en: Testville
version: "{version}"
effective_from: {date}
source: test
promises:
  - id: T1
    kind: processing_target
    fraction: 0.8
    rounding: floor
"""


def test_the_seeded_municipalities_and_the_policy_examples_load() -> None:
    book = CharterBook.bundled()
    assert book.ids() == ["busan", "busan-gangseo-gu", "daegu-donggu", "dangjin", "gochang", "namhae", "seongnam",
                          "uijeongbu", "yeonje-gu"]
    namhae = book.in_force("namhae", datetime(2026, 6, 1, tzinfo=KST)).promise("N1")
    assert namhae.voucher.escalation.cap == 30_000  # type: ignore[attr-defined]


def test_yeonje_gu_promises() -> None:
    c = CharterBook.bundled().in_force("yeonje-gu", datetime(2026, 6, 1, tzinfo=KST))
    callback = c.promise("Y1")
    assert isinstance(callback, Callback) and callback.within == Period(3, "h")
    opinion = c.promise("Y2")
    assert isinstance(opinion, OpinionResponse)
    assert opinion.answer_within == {"simple": Period(1, "d"), "ordinary": Period(3, "d"), "complex": Period(7, "d")}
    assert [r.id for r in c.remedies_for("administrative_error")] == ["Y3"]


def test_dangjin_strike_limit_and_voucher() -> None:
    c = CharterBook.bundled().in_force("dangjin", datetime(2026, 6, 1, tzinfo=KST))
    d11 = c.promise("D11")
    assert isinstance(d11, Remedy) and d11.personnel_referral_at_strike == 3 and d11.retraining
    d10 = c.promise("D10")
    assert isinstance(d10, Remedy) and d10.voucher is not None and d10.voucher.amount_won == 10_000


@pytest.mark.parametrize("statutory, target", [
    (Period(7, "d"), Period(5, "d")),  # 5.6 -> 5 days, then counted in hours (Act 19-1)
    (Period(14, "d"), Period(11, "d")),  # 11.2 -> 11
    (Period(10, "d"), Period(8, "d")),  # 8.0 exactly, despite binary floating point
    (Period(3, "h"), Period(2, "h")),  # 2.4 -> 2
    (Period(1, "h"), Period(1, "h")),  # never below one unit
])
def test_dangjin_target_is_80_percent_rounded_down(statutory: Period, target: Period) -> None:
    c = CharterBook.bundled().in_force("dangjin", datetime(2026, 6, 1, tzinfo=KST))
    found = c.processing_target(statutory, PetitionType.GRIEVANCE)
    assert found is not None and found[1] == target


def test_the_version_in_force_at_an_instant() -> None:
    old = parse_charter(MINIMAL.format(version="2021", date="2021-01-01"))
    new = parse_charter(MINIMAL.format(version="2026", date="2026-07-01"))
    book = CharterBook([new, old])
    assert book.in_force("testville", datetime(2026, 6, 30, 23, 59, tzinfo=KST)).version == "2021"
    assert book.in_force("testville", datetime(2026, 7, 1, 0, 0, tzinfo=KST)).version == "2026"
    # 2026-06-30 15:30 UTC is already 07-01 00:30 in Korea
    assert book.in_force("testville", datetime.fromisoformat("2026-06-30T15:30:00+00:00")).version == "2026"
    with pytest.raises(NoCharterInForce):
        book.in_force("testville", datetime(2020, 1, 1, tzinfo=KST))
    with pytest.raises(NoCharterInForce, match="municipality_id"):
        book.in_force("nowhere", datetime(2026, 1, 1, tzinfo=KST))


def test_every_problem_is_reported_with_its_path() -> None:
    bad = """
id: Bad Id
municipality: 시
municipality_en: x
version: "1"
effective_from: not-a-date
source: s
statutory_periods: {passport: 3w}
promises:
  - id: A
    kind: processing_target
    fraction: 1.5
    rounding: up
  - id: B
    kind: teleport
"""
    with pytest.raises(CharterFileError) as info:
        parse_charter(bad, "bad.yaml")
    paths = [p.split(":")[0] for p in info.value.problems]
    for expected in ["id", "effective_from", "statutory_periods.passport", "promises[0].fraction",
                     "promises[0].rounding", "promises[1]"]:
        assert expected in paths, (expected, info.value.problems)


def test_duplicate_promise_ids_and_bad_yaml() -> None:
    dup = MINIMAL.format(version="1", date="2026-01-01") + "  - {id: T1, kind: rights_notice}\n"
    with pytest.raises(CharterFileError, match="used twice"):
        parse_charter(dup)
    with pytest.raises(CharterFileError, match="line"):
        parse_charter("id: [unclosed")


def test_two_versions_on_one_date_are_refused() -> None:
    a = parse_charter(MINIMAL.format(version="a", date="2026-01-01"))
    b = parse_charter(MINIMAL.format(version="b", date="2026-01-01"))
    with pytest.raises(ValueError, match="two versions"):
        CharterBook([a, b])


def test_effective_dates_are_dates() -> None:
    assert parse_charter(MINIMAL.format(version="1", date="2026-01-01")).effective_from == date(2026, 1, 1)
