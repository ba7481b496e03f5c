"""The audit report as an auditor reads it (issue 17): a Korean conclusion at the top (promised, kept,
owed, whether the record agrees), working time in days and hours, instants in Korean date form,
Korean labels, the official named, a charter target's warning never called a breach; the JSON
keeps its machine fields beside the words."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from services.audit.labels import LABELS, OBLIGATIONS, breach_label, obligation_label
from services.audit.replay import (
    CaseLog,
    CompensationReplayer,
    rederive_sla,
    replay_case,
)
from services.audit.report import as_html, as_json
from services.audit.wording import josa, period_phrase, rule_ko, working_duration
from shared.charters import CharterBook
from shared.events import encode
from shared.events import petition as ev
from shared.notices.render import Renderer
from shared.working_time import WorkingCalendar
from tests.unit.test_obligations import OFFICIAL, Case, kst

CHARTERS = CharterBook.bundled()
ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def reported(calendar: WorkingCalendar, steps: list[tuple[Any, datetime]], until: datetime,
             tamper: Callable[[CaseLog], None] | None = None) -> dict[str, Any]:
    """A Dangjin grievance received Mon 2026-11-02 10:00 (statutory deadline Tue 11-10 18:00, charter
    target D4 Mon 11-09 10:00) with these facts; its SLA and compensation decisions recorded as the
    live services decide them (the same rules), then replayed and reported as of ``until``."""
    case = Case(at=kst(2026, 11, 2, 10))
    log = CaseLog(case.case_id, petition=[case.received, case.event(ev.OfficialAssigned(official=OFFICIAL),
                                                                    kst(2026, 11, 2, 11))])
    log.petition += [case.event(payload, at) for payload, at in steps]
    log.sla_wire = [encode(e) for e in rederive_sla(log, calendar, CHARTERS, until)]
    log.compensation = CompensationReplayer(calendar, CHARTERS).rederive([log])[case.case_id][0]
    if tamper is not None:
        tamper(log)
    return as_json(replay_case(log, calendar, CHARTERS, Renderer(), now=until), log, calendar, CHARTERS)


def resolved(at: datetime) -> tuple[ev.PetitionResolved, datetime]:
    return ev.PetitionResolved(outcome="accepted", explanation="보수 완료"), at


SUPPLEMENT = [(ev.SupplementRequested(items="도면"), kst(2026, 11, 3, 10)), (ev.SupplementReceived(), kst(2026, 11, 4, 10))]


def test_a_late_case_concludes_with_the_promise_the_lateness_the_voucher_and_the_agreement(
        calendar: WorkingCalendar) -> None:
    r = reported(calendar, [*SUPPLEMENT, resolved(kst(2026, 11, 13, 15))], kst(2026, 11, 20, 10))
    text = r["conclusion"]
    assert text.startswith("이 민원은 2026년 11월 2일(월) 10:00에 접수된 고충민원으로")
    assert "처리기간 7일(근무일 기준)" in text and "정지 1회를 반영하여 2026년 11월 11일(수) 18:00까지" in text
    assert "당진시 행정서비스헌장(2024.1판)" in text and "헌장 목표기한은 2026년 11월 10일(화) 10:00까지" in text
    # kept: 11-11 18:00 -> 11-13 15:00 is Thu 8h + Fri 09:00-15:00 5h = 13 working hours = 1 day 5 hours
    assert "담당 공무원 도로과 박주무관이 2026년 11월 13일(금) 15:00에 처리를 마쳤으나" in text
    assert "법정 처리기한을 근무시간 기준 1일 5시간 넘겼습니다(법정 처리기한 위반)" in text
    assert "법정 처리기한 위반에 따른 상품권 10,000원(지급됨)" in text and "지급된 보상은 모두 10,000원" in text
    assert "사과(사과 통지 기록 없음)" in text  # owed, and no apology notice on this log
    assert text.endswith("기록된 결정 16건은 모두 로그에서 다시 계산한 결과와 일치합니다.")
    assert "\n" not in text  # one paragraph

    f = r["findings"]
    [first] = f["rounds"]
    assert first["statutory_result"] == {
        "due_at": "2026-11-11T18:00:00+09:00", "due_at_ko": "2026년 11월 11일(수) 18:00", "kept": False,
        "late_working_seconds": 13 * 3600, "late_ko": "1일 5시간", "early_working_seconds": 0, "early_ko": None}
    assert first["official"]["name"] == "박주무관" and first["target"]["promise_id"] == "D4"
    assert f["owed"]["paid_won"] == 10_000 and f["owed"]["vouchers"][0]["status"] == "issued"
    assert f["record"] == {"agrees": True, "undecided": None, "decisions": 16, "differences": 0}
    states = {o["obligation_id"]: o["status_ko"] for o in f["obligations"]}
    assert states == {"statutory_deadline": "위반", "charter_target": "헌장 목표 미달 (경고, 법정 기한 위반 아님)",
                      "interim_notice:1": "기한 내 이행"}


def test_working_time_reads_in_days_and_hours_and_the_machine_fields_stay(calendar: WorkingCalendar) -> None:
    r = reported(calendar, [*SUPPLEMENT, resolved(kst(2026, 11, 13, 15))], kst(2026, 11, 20, 10))
    w = r["working_time"]
    # the machine fields, as before
    assert (w["period"], w["counting"], w["due_at"]) == ("7d", "working_days", "2026-11-11T18:00:00+09:00")
    assert w["counted_working_seconds"] == 198_000  # 7 days 7 hours to the deadline, less the day the pause took and w["pauses"][0]["start"] == "2026-11-03T10:00:00+09:00"
    # and the words: 226,800 s is 7 working days (of 8 hours) and 7 hours (receipt at 10:00 on day 1)
    assert w["counted_working_time_ko"] == "6일 7시간" and w["period_ko"] == "7일(근무일 기준)"
    assert w["pauses"][0] | {"start_ko": "2026년 11월 3일(화) 10:00", "end_ko": "2026년 11월 4일(수) 10:00",
                             "reason_ko": "보완 요청", "not_counted_ko": "근무일 1일"} == w["pauses"][0]
    assert w["target"]["due_at_ko"] == "2026년 11월 10일(화) 10:00"
    assert {"case_id", "as_of", "charter", "calendar_version", "agrees", "undecided", "rederived", "agreed",
            "differences", "official_actions", "working_time", "timeline"} <= r.keys()
    for t in r["timeline"]:
        assert ISO_INSTANT.match(t["occurred_at"]) and not ISO_INSTANT.search(t["occurred_at_ko"] + t["detail"])
    assert r["officials"][0]["text"] == "도로과 박주무관 (041-350-1234, p@x.kr)"


def test_a_missed_charter_target_is_a_warning_never_a_breach(calendar: WorkingCalendar) -> None:
    # resolved Tue 11-10 15:00: past the target (Mon 11-09 10:00) by 7 + 5 working hours, before 18:00
    r = reported(calendar, [resolved(kst(2026, 11, 10, 15))], kst(2026, 11, 12, 10))
    text = r["conclusion"]
    assert "법정 처리기한은 지켰으나 헌장 목표기한은 근무시간 기준 1일 4시간 넘겼습니다" in text
    assert "내부 경고이며 법정 기한 위반이 아닙니다" in text and "(법정 처리기한 위반)" not in text
    assert "보상이나 시정 조치의 사유는 기록되지 않았습니다" in text
    [warning] = [t for t in r["timeline"] if t["event_type"] == "ObligationBreached"]
    assert warning["label"] == "헌장 목표 미달 (경고)" and "위반" not in warning["label"]
    assert "법정 기한 위반이 아님" in warning["detail"] and warning["fields"]["severity"] == "warning"
    at_risk = [t["label"] for t in r["timeline"] if t["event_type"] == "ObligationAtRisk"]
    assert at_risk and set(at_risk) == {"기한 임박 경고"}
    html = as_html(r)
    assert "헌장 목표 미달 (경고)" in html and "법정 처리기한 위반" not in html


def test_kept_paused_and_reopened_cases_say_so(calendar: WorkingCalendar) -> None:
    kept = reported(calendar, [resolved(kst(2026, 11, 5, 10))], kst(2026, 11, 6, 10))["conclusion"]
    assert "2026년 11월 5일(목) 10:00에 처리를 마쳐 헌장 목표기한과 법정 처리기한을 모두 지켰습니다." in kept
    paused = reported(calendar, SUPPLEMENT[:1], kst(2026, 11, 5, 10))
    assert ("로그의 마지막 기록 시각(2026년 11월 3일(화) 10:00) 현재 보완 요청으로 처리기간이 정지되어 있어 법정 처리기한은 "
            "아직 정해지지 않았으며, 남은 기간은 근무일 6일입니다.") in paused["conclusion"]
    assert paused["working_time"]["due_at_ko"] == "기간 정지 중"
    online = Case(channel="internet", at=kst(2026, 11, 2, 10))  # not yet formally received: no clock
    log = CaseLog(online.case_id, petition=[online.received])
    log.sla_wire = [encode(e) for e in rederive_sla(log, calendar, CHARTERS, kst(2026, 11, 2, 12))]
    filed = as_json(replay_case(log, calendar, CHARTERS, Renderer(), now=kst(2026, 11, 2, 12)), log, calendar, CHARTERS)
    assert filed["conclusion"].startswith("이 민원은 전자적으로 제출되어 정식 접수(제출 후 8 근무시간 이내) 전이므로")
    assert filed["findings"]["obligations"][0]["label"] == "전자민원 정식 접수 기한"
    refused = ev.PetitionResolved(outcome="refused", explanation="요건 미충족", refusal_reasons="도로법 제61조",
                                  remedies="60일 이내 이의신청")
    reopened = reported(calendar, [(refused, kst(2026, 11, 5, 10)), (ev.ObjectionFiled(reason="재검토 요청"),
                                                                       kst(2026, 11, 9, 10)),
                                   resolved(kst(2026, 11, 12, 10))], kst(2026, 11, 13, 10))
    text = reopened["conclusion"]
    assert "이의신청(2026년 11월 9일(월) 10:00)에 따른 재검토는 처리기간 10일(근무일 기준)" in text
    assert text.count("처리를 마쳐") == 2 and "재검토 요청" not in str(reopened)  # the applicant's words stay out


def test_a_record_that_differs_is_named_in_the_conclusion(calendar: WorkingCalendar) -> None:
    def rewrite(log: CaseLog) -> None:
        [opened] = [d for d in log.sla_records if d["event_type"] == "ObligationOpened"
                    and d["payload"]["obligation_id"] == "statutory_deadline"]
        opened["payload"]["due_at"] = "2026-11-20T18:00:00+09:00"  # what a buggy release wrote

    r = reported(calendar, [resolved(kst(2026, 11, 5, 10))], kst(2026, 11, 6, 10), tamper=rewrite)
    assert not r["agrees"] and r["findings"]["record"]["differences"] == 1
    assert "기록과 로그에서 다시 계산한 결과 사이에 1건의 차이가 있어" in r["conclusion"]
    [d] = r["differences"]
    assert (d["kind_ko"], d["label"], d["problem_ko"]) == ("기한·위반 결정", "의무 발생", "값이 다름")


def test_the_html_reads_in_korean_without_raw_seconds_iso_instants_or_key_value_pairs(
        calendar: WorkingCalendar) -> None:
    r = reported(calendar, [*SUPPLEMENT, resolved(kst(2026, 11, 13, 15))], kst(2026, 11, 20, 10))
    html = as_html(r)
    assert html.index(r["conclusion"]) < html.index("처리기간 계산")  # the conclusion comes first
    assert "(초)" not in html and "198000" not in html and "6일 7시간" in html
    assert not ISO_INSTANT.search(html), ISO_INSTANT.search(html)
    assert not re.search(r"\b[a-z]+(?:_[a-z]+)+=", html)  # no obligation_id=..., due_at=...
    assert "도로과 박주무관 (041-350-1234, p@x.kr)" in html and "의무별 이행 현황" in html
    assert "법정 처리기한 위반" in html and "보완 요청: 2026년 11월 3일(화) 10:00 ~ 2026년 11월 4일(수) 10:00" in html


def test_the_wording_helpers() -> None:
    assert working_duration(687_600) == "23일 7시간"  # the example: 23 working days and 7 hours
    assert (working_duration(5_400), working_duration(0), working_duration(30)) == ("1시간 30분", "0분", "1분 미만")
    assert period_phrase("3h", "working_time") == "3시간(근무시간 기준)"
    assert period_phrase("5d", "working_time") == "5일(근무시간 기준, 1일은 8시간)"
    assert rule_ko("Act 19; Decree 16, 19") == "민원처리법 제19조; 민원처리법 시행령 제16조·제19조"
    assert rule_ko("charter dangjin D4") == "헌장 약속 D4" and rule_ko("Decree 6-7") == "민원처리법 시행령 제6조 제7항"
    assert [josa(w, "으로", "로") for w in ("보완 요청", "현장조사", "정보공개청구", "서울")] == [
        "보완 요청으로", "현장조사로", "정보공개청구로", "서울로"]
    assert (josa("박주무관", "이", "가"), josa("김철수", "이", "가")) == ("박주무관이", "김철수가")


@pytest.mark.parametrize("obligation_id", ["statutory_deadline", "charter_target", "formal_receipt", "interim_notice:2",
                                           "extension_notice:1", "transfer:1", "callback:cb1",
                                           "opinion_acknowledgement:op1", "opinion_answer:op1"])
def test_every_obligation_has_a_korean_name_and_a_warning_is_never_a_breach(obligation_id: str) -> None:
    label = obligation_label(obligation_id)
    assert re.search("[가-힣]", label) and "_" not in label and "{" not in label
    assert "위반" not in breach_label(obligation_id, "warning") and "경고" in breach_label(obligation_id, "warning")
    assert breach_label(obligation_id, "breach").endswith("위반")
    assert obligation_label("interim_notice:2") == "2차 중간통지" and obligation_label("extension_notice:1") == "1차 연장통지"
    assert obligation_id.partition(":")[0] in OBLIGATIONS and "ObligationBreached" in LABELS
