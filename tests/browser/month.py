"""A realistic month of petitions for the browser tests: two agencies (Dangjin, whose vouchers need no
approval, and Seongnam, whose department head approves each), 35 petitions of several types and
channels, assignments, electronic receipts, supplements, an extension, a transfer, late completions
(vouchers), repeat visits, discourtesy findings (three strikes: a referral) and a withdrawal,
evaluations, and open cases overdue, at risk, paused and fresh at ``NOW``.

Every fact goes through the intake HTTP API as an integrating agency would send it, in time order, with
the drill clock (``CHARTERWATCH_CLOCK_FILE``) moved to each fact's instant first; the system settles
(every consumer caught up with the log, every outbox published) before the clock moves on, so each
service sees the month as it would have lived it.
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from shared.instants import KST
from shared.working_time import WORKING_DAY_SECONDS, WorkingCalendar

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=KST)  # a Friday morning: "now" for every page
FACTS = "charterwatch.petition-events"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


OFFICIALS = {  # key -> (official id, name, department): the assignments' officials
    "kim": ("o-dj-kim", "김민준", "도로과"), "lee": ("o-dj-lee", "이서연", "도로과"),
    "park": ("o-dj-park", "박지훈", "건축과"), "choi": ("o-dj-choi", "최유진", "민원봉사과"),
    "jung": ("o-sn-jung", "정하은", "교통과"), "kang": ("o-sn-kang", "강도윤", "교통과"),
    "yoon": ("o-sn-yoon", "윤지아", "복지과"),
}
APPLICANTS = ["홍길동", "김영희", "이철수", "박민지", "최준호", "정수아", "강태현", "윤서진", "장하늘", "임도현"]


def official(key: str) -> dict[str, str]:
    oid, name, department = OFFICIALS[key]
    return {"official_id": oid, "name": name, "department": department, "phone": "041-350-0000",
            "email": f"{oid}@example.go.kr"}


@dataclass
class Step:
    offset: float  # working days after the petition's receipt
    path: str  # /v1/petitions/{case_id}/<path>
    body: dict[str, Any]


@dataclass
class Petition:
    key: str
    agency: str  # the agency filing it (its API key) = the charter's municipality here
    petition_type: str
    channel: str
    title: str
    received: datetime
    steps: list[Step] = field(default_factory=list)


def assign(offset: float, who: str) -> Step:
    return Step(offset, "assignment", {"official": official(who)})


def receipt(offset: float, number: str) -> Step:
    return Step(offset, "receipt", {"receipt_number": number})


def resolve(offset: float, explanation: str, outcome: str = "accepted") -> Step:
    body: dict[str, Any] = {"outcome": outcome, "explanation": explanation}
    if outcome == "refused":
        body |= {"refusal_reasons": "관련 규정상 지원 대상이 아닙니다.", "remedies": "90일 이내 행정심판 청구"}
    return Step(offset, "resolution", body)


def evaluate(offset: float, score: int, comment: str = "") -> Step:
    return Step(offset, "evaluations", {"score": score, "comment": comment})


def close(offset: float) -> Step:
    return Step(offset, "closure", {})


def supplement_request(offset: float, items: str) -> Step:
    return Step(offset, "supplement-requests", {"items": items})


def supplement(offset: float) -> Step:
    return Step(offset, "supplements", {"note": "요청한 자료 접수"})


def extend(offset: float, period: str, reason: str, expected_after_days: float) -> Step:
    return Step(offset, "extensions", {"period": period, "reason": reason,
                                       "expected_completion": expected_after_days})  # made an instant in ``steps``


def repeat_visit(offset: float, who: str, cause: str) -> Step:
    return Step(offset, "repeat-visits", {"official_id": OFFICIALS[who][0], "cause": cause})


def discourtesy(offset: float, who: str, finding: str) -> Step:
    return Step(offset, "discourtesy-findings", {"official_id": OFFICIALS[who][0], "finding": finding})


def withdraw(offset: float, finding: str, reason: str) -> Step:
    return Step(offset, "finding-withdrawals", {"finding": finding, "reason": reason})


def transfer(offset: float, department: str, reason: str) -> Step:
    return Step(offset, "transfers", {"scope": "within_agency", "to_department": department, "reason": reason})


def petitions() -> list[Petition]:
    """The month. Keys name the cases the tests look at: D17 is at risk now (its charter target), D18 is
    fresh with less time left but not at risk; D13 and D14 are open past their deadline (Dangjin's
    vouchers are issued by policy); S02, S04, S05 and S06 owe Seongnam vouchers awaiting the department
    head; park's three discourtesy findings (D08, D09, D10) refer him for personnel action; D11's
    finding is withdrawn."""
    P = Petition
    return [
        P("D01", "dangjin", "grievance", "visit", "보도블록 파손 신고", at(11, 2, 10),
          [assign(.05, "kim"), resolve(4, "파손 구간을 보수하였습니다."), evaluate(4.3, 5, "친절하게 안내해 주셔서 감사합니다"),
           close(4.6)]),
        P("D02", "dangjin", "question_system", "internet", "공영주차장 이용 절차 문의", at(11, 3, 11),
          [receipt(.1, "2026-1102"), assign(.15, "lee"), resolve(3, "이용 절차를 안내하였습니다."), evaluate(3.2, 4)]),
        P("D03", "dangjin", "suggestion", "phone", "공원 산책로 조명 설치 건의", at(11, 4, 14),
          [assign(.05, "park"), resolve(9, "내년 예산에 반영하겠습니다."), evaluate(9.5, 3, "처리가 조금 늦었어요")]),
        P("D04", "dangjin", "grievance", "visit", "하수구 악취 민원", at(11, 5, 10),
          [assign(.05, "choi"), resolve(9, "준설 작업을 마쳤습니다."), evaluate(9.4, 2, "기한을 넘겼습니다")]),
        P("D05", "dangjin", "other", "visit", "민원서류 발급 안내 요청", at(11, 6, 9, 30),
          [assign(.02, "kim"), resolve(.2, "발급 방법을 안내하였습니다."), evaluate(.4, 5, "빠르게 처리해 주셨어요")]),
        P("D06", "dangjin", "grievance", "post", "가로수 가지치기 요청", at(11, 9, 10),
          [assign(.05, "lee"), supplement_request(1, "현장 사진"), supplement(3), resolve(8, "가지치기를 하였습니다."),
           evaluate(8.3, 4)]),
        P("D07", "dangjin", "question_statute", "internet", "건축법 적용 여부 질의", at(11, 10, 10),
          [receipt(.1, "2026-1110"), assign(.2, "park"), extend(10, "7d", "관계기관 협의", 17),
           resolve(16, "관계 법령에 따른 해석을 회신하였습니다."), evaluate(16.3, 3)]),
        P("D08", "dangjin", "grievance", "visit", "불법 광고물 철거 요청", at(11, 11, 15),
          [assign(.05, "park"), repeat_visit(1, "park", "구비서류 안내 누락"), discourtesy(1.1, "park", "응대 중 언성을 높임"),
           resolve(5, "광고물을 철거하였습니다."), evaluate(5.3, 1, "불친절했습니다")]),
        P("D09", "dangjin", "question_system", "visit", "주민등록 이전 절차 문의", at(11, 12, 10),
          [assign(.05, "park"), discourtesy(2, "park", "전화 응대 불친절"), resolve(4, "절차를 안내하였습니다.")]),
        P("D10", "dangjin", "suggestion", "internet", "버스 노선 조정 건의", at(11, 13, 10),
          [receipt(.1, "2026-1113"), assign(.2, "park"), discourtesy(1, "park", "문의에 답하지 않음"),
           resolve(8, "버스 회사와 협의하겠습니다."), evaluate(8.5, 2)]),
        P("D11", "dangjin", "grievance", "phone", "층간 소음 측정 요청", at(11, 16, 10),
          [assign(.05, "lee"), discourtesy(1, "lee", "통화 중 불친절"), withdraw(2, "discourtesy", "녹취 확인 결과 사실이 아님"),
           resolve(6, "소음을 측정하고 결과를 안내하였습니다."), evaluate(6.3, 4)]),
        P("D12", "dangjin", "grievance", "visit", "도로 포트홀 보수 요청", at(11, 17, 10),
          [assign(.05, "choi"), resolve(8.6, "보수를 마쳤습니다."), evaluate(9, 2, "느렸어요")]),
        P("D13", "dangjin", "question_system", "phone", "상수도 요금 이의 문의", at(11, 18, 10), [assign(.05, "choi")]),
        P("D14", "dangjin", "grievance", "visit", "무단 투기 쓰레기 수거 요청", at(11, 19, 10), [assign(.05, "lee")]),
        P("D15", "dangjin", "grievance", "internet", "공동주택 누수 분쟁 조정", at(11, 20, 10),
          [receipt(.1, "2026-1120"), assign(.2, "lee"), supplement_request(1, "관리사무소 확인서")]),
        P("D16", "dangjin", "suggestion", "visit", "어린이 보호구역 확대 건의", at(11, 23, 10), [assign(.05, "kim")]),
        P("D17", "dangjin", "grievance", "visit", "신호등 고장 신고", at(11, 30, 10), [assign(.05, "kim")]),
        P("D18", "dangjin", "other", "visit", "제증명 발급 문의", at(12, 4, 9, 5), [assign(.02, "kim")]),
        P("D19", "dangjin", "question_system", "internet", "평생학습 강좌 신청 문의", at(12, 1, 10),
          [receipt(.1, "2026-1201"), assign(.2, "kim")]),
        P("D20", "dangjin", "grievance", "visit", "공사장 비산먼지 민원", at(11, 25, 14),
          [assign(.05, "park"), resolve(6.3, "살수 조치를 명하였습니다."), evaluate(6.4, 3)]),
        P("D21", "dangjin", "question_system", "visit", "경로당 운영 지원 문의", at(11, 26, 10), [assign(.05, "choi")]),
        P("D22", "dangjin", "suggestion", "phone", "하천 산책로 정비 건의", at(11, 24, 10),
          [assign(.05, "lee"), transfer(1, "건축과", "소관 부서"), assign(1.05, "park")]),
        P("D23", "dangjin", "grievance", "visit", "경사로 미끄럼 방지 시설 요청", at(11, 27, 10),
          [assign(.05, "park"), resolve(2, "미끄럼 방지 포장을 하였습니다."), evaluate(2.2, 5, "신속한 처리 감사합니다"),
           close(2.5)]),
        P("S01", "seongnam", "grievance", "visit", "버스정류장 안내판 파손", at(11, 2, 11),
          [assign(.05, "jung"), resolve(5, "안내판을 교체하였습니다."), evaluate(5.2, 4)]),
        P("S02", "seongnam", "question_system", "phone", "주차 과태료 납부 문의", at(11, 4, 10),
          [assign(.05, "kang"), resolve(8.5, "납부 방법을 안내하였습니다."), evaluate(8.7, 2, "답변이 늦었습니다")]),
        P("S03", "seongnam", "suggestion", "internet", "공공 와이파이 확대 건의", at(11, 5, 10),
          [receipt(.1, "SN-1105"), assign(.2, "yoon"), resolve(10, "설치 계획에 반영하였습니다."), evaluate(10.3, 5)]),
        P("S04", "seongnam", "grievance", "visit", "횡단보도 도색 요청", at(11, 9, 10),
          [assign(.05, "jung"), repeat_visit(1, "jung", "서류 보완 안내 누락"), resolve(4, "도색을 마쳤습니다."),
           evaluate(4.2, 3)]),
        P("S05", "seongnam", "grievance", "visit", "복지관 셔틀버스 운행 민원", at(11, 12, 10),
          [assign(.05, "kang"), resolve(9, "운행 시간을 조정하였습니다.")]),
        P("S06", "seongnam", "question_system", "visit", "기초연금 신청 자격 문의", at(11, 16, 10), [assign(.05, "yoon")]),
        P("S07", "seongnam", "other", "phone", "민원 처리 진행 상황 문의", at(11, 18, 10),
          [assign(.02, "jung"), resolve(.1, "진행 상황을 안내하였습니다."), evaluate(.3, 5)]),
        P("S08", "seongnam", "grievance", "internet", "불법 주정차 단속 요청", at(11, 23, 10),
          [receipt(.1, "SN-1123"), assign(.2, "jung"), supplement_request(1, "위치 사진"), supplement(2),
           resolve(6, "단속을 실시하였습니다."), evaluate(6.2, 4)]),
        P("S09", "seongnam", "question_system", "visit", "어린이집 입소 대기 문의", at(11, 26, 10), [assign(.05, "kang")]),
        P("S10", "seongnam", "suggestion", "visit", "공원 운동기구 교체 건의", at(11, 30, 10), [assign(.05, "yoon")]),
        P("S11", "seongnam", "grievance", "phone", "가로등 소등 민원", at(12, 1, 10), [assign(.05, "jung")]),
        P("S12", "seongnam", "question_system", "visit", "전입신고 온라인 절차 문의", at(11, 19, 10),
          [assign(.05, "jung"), extend(5, "3d", "관련 부서 협의", 9), resolve(8.5, "온라인 절차를 안내하였습니다."),
           evaluate(8.7, 4)]),
    ]


def working_instant(calendar: WorkingCalendar, start: datetime, days: float) -> datetime:
    """The instant ``days`` working days (8 working hours each) after ``start``."""
    return calendar.instant_at(calendar.working_seconds_until(start) + round(days * WORKING_DAY_SECONDS))


def write_clock(path: Path, instant: datetime) -> None:
    """Atomically: a service reading the file mid-write must never see it empty."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(instant.isoformat(), encoding="utf-8")
    os.replace(tmp, path)


class Settle:
    """The system has caught up: every consumer's committed position is at the log's end and every outbox
    is published. Read from the data dir's SQLite files, read-only."""

    def __init__(self, data_dir: Path) -> None:
        self.log = sqlite3.connect(f"file:{data_dir / 'eventlog.db'}?mode=ro", uri=True, timeout=30)
        self.db = sqlite3.connect(f"file:{data_dir / 'readmodel.db'}?mode=ro", uri=True, timeout=30)
        tables = [n for (n,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        self.positions = [t for t in tables if t.endswith("_consumer_positions")]
        self.outboxes = [t for t in tables if t.endswith("_outbox")]

    def behind(self, topics: Collection[str] | None = None, consumers: Collection[str] | None = None) -> list[str]:
        """What is not yet done (only these topics and consumers, and their services' outboxes, if given)."""
        ends = {(t, p): e for t, p, e in self.log.execute(
            "SELECT topic, partition, MAX(offset) + 1 FROM records GROUP BY topic, partition")}
        out = []
        for table in self.positions:
            for consumer, topic, partition, offset in self.db.execute(
                    f'SELECT consumer, topic, partition, next_offset FROM "{table}"'):  # noqa: S608 - our table names
                if (topics is None or topic in topics) and (consumers is None or consumer in consumers) \
                        and offset < ends.get((topic, partition), 0):
                    out.append(f"{consumer} {topic}[{partition}] {offset}/{ends[(topic, partition)]}")
        for table in self.outboxes:
            if consumers is not None and table.removesuffix("_outbox") not in consumers:
                continue
            (n,) = self.db.execute(f'SELECT COUNT(*) FROM "{table}" WHERE published = 0').fetchone()  # noqa: S608
            if n:
                out.append(f"{table}: {n} unpublished")
        return out

    def wait(self, timeout: float = 60, quiet: float = 0.0, topics: Collection[str] | None = None,
             consumers: Collection[str] | None = None) -> None:
        """Until nothing is behind (and stays so for ``quiet`` seconds)."""
        deadline = time.monotonic() + timeout
        since: float | None = None
        behind: list[str] = []
        while time.monotonic() < deadline:
            behind = self.behind(topics, consumers)
            if not behind:
                since = since if since is not None else time.monotonic()
                if time.monotonic() - since >= quiet:
                    return
            else:
                since = None
            time.sleep(0.03)
        raise AssertionError(f"the system did not settle: {behind[:10]}")

    def close(self) -> None:
        self.log.close()
        self.db.close()


def seed(http: httpx.Client, tokens: dict[str, str], clock: Path, data_dir: Path, calendar: WorkingCalendar,
         wait_running: Callable[[], None] = lambda: None) -> dict[str, str]:
    """File the month through the intake API; returns the case id of each petition key."""
    timeline: list[tuple[datetime, int, Petition, Step | None]] = []
    for n, p in enumerate(petitions()):
        timeline.append((p.received, n, p, None))
        for step in p.steps:
            timeline.append((working_instant(calendar, p.received, step.offset), n, p, step))
    timeline.sort(key=lambda t: (t[0], t[1]))
    assert all(t[0] <= NOW for t in timeline), [(t[2].key, t[0]) for t in timeline if t[0] > NOW]
    cases: dict[str, str] = {}
    settle = Settle(data_dir)
    try:
        for instant, n, p, step in timeline:
            write_clock(clock, instant)
            headers = {"Authorization": f"Bearer {tokens[p.agency]}"}
            if step is None:
                body: dict[str, Any] = {
                    "municipality_id": p.agency, "petition_type": p.petition_type, "channel": p.channel,
                    "title": p.title, "received_at": instant.isoformat(),
                    "applicant": {"name": APPLICANTS[n % len(APPLICANTS)], "phone": f"010-{2000 + n:04d}-{3000 + n:04d}",
                                  "email": f"citizen{n}@example.kr"},
                    "notice_channels": ["sms", "email"] if n % 3 == 0 else ["sms"]}
                r = http.post("/v1/petitions", json=body, headers=headers)
                assert r.status_code == 201, (p.key, r.text)
                cases[p.key] = r.json()["case_id"]
            else:
                body = dict(step.body)
                if "expected_completion" in body:
                    body["expected_completion"] = working_instant(
                        calendar, p.received, body["expected_completion"]).isoformat()
                body["occurred_at"] = instant.isoformat()
                r = http.post(f"/v1/petitions/{cases[p.key]}/{step.path}", json=body, headers=headers)
                assert r.status_code == 201, (p.key, step.path, r.text)
            # Before the clock moves on, the monitor has read the fact (a timer never fires ahead of a
            # fact that met it) and notify has sent what it owes (a notice is stamped with the clock).
            # What an extension owes the petitioner (its notice, Decree 21) is waited for to the end.
            if step is not None and step.path == "extensions":
                settle.wait()
            else:
                settle.wait(topics=(FACTS,), consumers=("sla_monitor", "notify"))
        write_clock(clock, NOW)
        wait_running()
        settle.wait(quiet=2.0)  # the monitor's timers at NOW, and what they cause, have run
    finally:
        settle.close()
    return cases
