"""The whole petition lifecycle over HTTP: every command appends one event, illegal ones are 409."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi.testclient import TestClient

from services.bootstrap import Container
from services.wiring import petition_projection_runner
from tests.integration.conftest import http_client

APPLICANT = {"name": "이민원", "phone": "010-1111-2222", "email": "lee@example.kr"}
OFFICIAL = {"official_id": "o-17", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}
T0 = "2026-11-02T10:00:00+09:00"  # a Monday


def file(http: TestClient, **over) -> str:
    body = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "보도블록 파손",
            "body": "시장 앞 보도블록이 깨졌습니다", "received_at": T0, "applicant": APPLICANT, "notice_channels": ["sms"]}
    body.update(over)
    r = http.post("/v1/petitions", json=body)
    assert r.status_code == 201, r.text
    return r.json()["case_id"]


def do(http: TestClient, case_id: str, path: str, at: str, expect: int = 201, headers=None, **fields) -> dict:
    r = http.post(f"/v1/petitions/{case_id}/{path}", json={"occurred_at": at, **fields}, headers=headers or {})
    assert r.status_code == expect, r.text
    return r.json()


def project(c: Container) -> None:
    petition_projection_runner(c).run(poll_timeout=0.2, until_caught_up=True)


def case(http: TestClient, c: Container, case_id: str) -> dict:
    project(c)
    r = http.get(f"/v1/petitions/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


def events(c: Container) -> int:
    return sum(c.log.end_offsets(c.topics.petition_events).values())


def test_electronic_petition_clock_starts_at_formal_receipt(container: Container) -> None:
    http = http_client(container)
    case_id = file(http, channel="internet")
    assert case(http, container, case_id)["status"] == "filed"
    assert case(http, container, case_id)["statutory_due_at"] is None
    do(http, case_id, "assignment", "2026-11-02T11:00:00+09:00", 409, official=OFFICIAL)  # not received yet
    r = do(http, case_id, "receipt", "2026-11-03T09:30:00+09:00", receipt_number="2026-0001")
    assert r["status"] == "received" and r["case_version"] == 2
    # 7 days from Tue 11/3 (day 1): 3, 4, 5, 6, 9, 10, 11 -> Wed 11/11 18:00
    assert r["statutory_deadline"]["due_at"] == "2026-11-11T18:00:00+09:00"
    assert case(http, container, case_id)["statutory_due_at"] == "2026-11-11T18:00:00+09:00"
    do(http, case_id, "receipt", "2026-11-03T10:00:00+09:00", 409)  # only once


def test_pause_extension_resolution_objection(container: Container) -> None:
    http = http_client(container)
    case_id = file(http)
    do(http, case_id, "assignment", "2026-11-02T11:00:00+09:00", official=OFFICIAL,
       guardian=dict(OFFICIAL, official_id="g-1", name="최후견"))
    row = case(http, container, case_id)
    assert row["official"]["name"] == "박주무관" and row["guardian"]["official_id"] == "g-1"
    # Dangjin D4: target is 80% of 7 days = 5 days (40 working hours) from Mon 10:00 -> next Mon 10:00
    assert row["target_due_at"] == "2026-11-09T10:00:00+09:00"
    assert row["statutory_due_at"] == "2026-11-10T18:00:00+09:00"

    do(http, case_id, "supplement-requests", "2026-11-04T10:00:00+09:00", items="현장 사진")
    do(http, case_id, "supplement-requests", "2026-11-04T11:00:00+09:00", 409, items="또")
    paused = case(http, container, case_id)
    assert paused["paused"] and paused["statutory_due_at"] is None and paused["remaining_working_days"] == 5
    do(http, case_id, "resolution", "2026-11-04T12:00:00+09:00", 409, outcome="accepted", explanation="x")
    do(http, case_id, "supplements", "2026-11-06T15:00:00+09:00")
    # 11/4 and 11/5 do not count; 11/6 does: 2, 3, 6, 9, 10, 11, 12 -> Thu 11/12
    assert case(http, container, case_id)["statutory_due_at"] == "2026-11-12T18:00:00+09:00"

    ext = {"reason": "관계기관 협의", "expected_completion": "2026-11-25T18:00:00+09:00"}
    do(http, case_id, "extensions", "2026-11-10T10:00:00+09:00", period="8d", **ext, expect=409)  # longer than 7d
    do(http, case_id, "extensions", "2026-11-10T10:00:00+09:00", period="7d", **ext)
    r = do(http, case_id, "extensions", "2026-11-11T10:00:00+09:00", 409, period="3d", **ext)
    do(http, case_id, "extensions", "2026-11-11T10:00:00+09:00", period="3d", petitioner_consent=True, **ext)
    do(http, case_id, "extensions", "2026-11-12T10:00:00+09:00", 409, period="1d", petitioner_consent=True, **ext)

    do(http, case_id, "evaluations", "2026-11-12T11:00:00+09:00", 409, score=4)  # no result yet
    bad = http.post(f"/v1/petitions/{case_id}/resolution",
                    json={"occurred_at": "2026-11-13T10:00:00+09:00", "outcome": "refused", "explanation": "불가"})
    assert bad.status_code == 422 and bad.json()["field"] == "refusal_reasons"
    do(http, case_id, "resolution", "2026-11-13T10:00:00+09:00", outcome="refused", explanation="예산 부족으로 불가",
       refusal_reasons="예산 미확보", remedies="이의신청 60일 이내, 행정심판")
    do(http, case_id, "resolution", "2026-11-13T11:00:00+09:00", 409, outcome="accepted", explanation="x")
    do(http, case_id, "evaluations", "2026-11-13T12:00:00+09:00", score=2, comment="아쉽습니다")
    do(http, case_id, "evaluations", "2026-11-13T13:00:00+09:00", 409, score=5)
    do(http, case_id, "closure", "2026-11-14T09:00:00+09:00")
    do(http, case_id, "resolution", "2026-11-14T10:00:00+09:00", 409, outcome="accepted", explanation="x")
    r = do(http, case_id, "objections", "2026-11-20T10:00:00+09:00", reason="재검토 요청")
    assert r["status"] == "reopened"
    row = case(http, container, case_id)
    # Act 35: the objection is decided in 10 days from 11/20: 20, 23..27, 30, 12/1, 2, 3 -> Thu 12/3
    assert row["status"] == "reopened" and row["statutory_due_at"] == "2026-12-03T18:00:00+09:00"
    timeline = http.get(f"/v1/petitions/{case_id}/timeline").json()
    assert [t["version"] for t in timeline] == list(range(1, len(timeline) + 1))


def test_objection_window_is_60_days(container: Container) -> None:
    http = http_client(container)
    case_id = file(http)
    do(http, case_id, "resolution", "2026-11-03T10:00:00+09:00", outcome="refused", explanation="불가",
       refusal_reasons="요건 미충족", remedies="이의신청")
    container.clock = lambda: datetime(2027, 3, 1, tzinfo=timezone.utc)
    r = do(http, case_id, "objections", "2027-01-05T10:00:00+09:00", 409, reason="늦은 이의")
    assert r["rule"] == "Act 35"


def test_if_match_and_idempotency(container: Container) -> None:
    http = http_client(container)
    case_id = file(http)
    fields = {"occurred_at": "2026-11-02T11:00:00+09:00", "official": OFFICIAL}
    stale = http.post(f"/v1/petitions/{case_id}/assignment", json=fields, headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["field"] == "If-Match"
    before = events(container)
    first = http.post(f"/v1/petitions/{case_id}/assignment", json=fields,
                      headers={"If-Match": '"1"', "Idempotency-Key": "assign-1"})
    again = http.post(f"/v1/petitions/{case_id}/assignment", json=fields,
                      headers={"If-Match": '"1"', "Idempotency-Key": "assign-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replay"] == "true"
    assert first.headers["etag"] == '"2"'
    assert events(container) == before + 1
    other = http.post(f"/v1/petitions/{case_id}/assignment", json=dict(fields, occurred_at="2026-11-02T12:00:00+09:00"),
                      headers={"Idempotency-Key": "assign-1"})
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    filed = {"municipality_id": "dangjin", "petition_type": "other", "channel": "phone", "title": "문의",
             "received_at": T0, "applicant": APPLICANT}
    a = http.post("/v1/petitions", json=filed, headers={"Idempotency-Key": "file-1"})
    b = http.post("/v1/petitions", json=filed, headers={"Idempotency-Key": "file-1"})
    assert a.json()["case_id"] == b.json()["case_id"] and events(container) == before + 2


def test_agencies_see_only_their_cases_and_transfers(container: Container) -> None:
    a, b = http_client(container, "agency-a"), http_client(container, "agency-b")
    case_id = file(a)
    project(container)
    assert b.get(f"/v1/petitions/{case_id}").status_code == 404
    do(b, case_id, "assignment", "2026-11-02T11:00:00+09:00", 404, official=OFFICIAL)
    assert http_client(container).get("/v1/petitions").status_code == 200
    unauth = TestClient(a.app)
    assert unauth.get(f"/v1/petitions/{case_id}").status_code == 401
    assert unauth.get(f"/v1/petitions/{case_id}", headers={"Authorization": "Bearer cw_nope.nope"}).status_code == 401
    do(a, case_id, "transfers", "2026-11-02T11:00:00+09:00", 422, scope="other_agency", reason="소관 아님")
    do(a, case_id, "transfers", "2026-11-02T11:00:00+09:00", scope="other_agency", to_agency_id="agency-b",
       reason="소관 기관으로 이송")
    assert case(b, container, case_id)["case_id"] == case_id
    assert b.get(f"/v1/petitions/{case_id}/applicant").json()["name"] == "이민원"
    do(b, case_id, "assignment", "2026-11-02T14:00:00+09:00", official=OFFICIAL)


def test_yeonje_gu_callbacks_and_opinions(container: Container) -> None:
    http = http_client(container)
    case_id = file(http, municipality_id="yeonje-gu", petition_type="other", channel="phone")
    do(http, case_id, "callbacks", "2026-11-02T11:00:00+09:00", 409, callback_id="cb1")
    do(http, case_id, "callback-promises", "2026-11-02T10:05:00+09:00", callback_id="cb1")
    do(http, case_id, "callback-promises", "2026-11-02T10:06:00+09:00", 409, callback_id="cb1")
    do(http, case_id, "callbacks", "2026-11-02T12:00:00+09:00", callback_id="cb1")
    do(http, case_id, "callbacks", "2026-11-02T12:30:00+09:00", 409, callback_id="cb1")
    do(http, case_id, "opinions", "2026-11-02T13:00:00+09:00", opinion_id="op1", kind="complaint",
       opinion_class="ordinary")
    do(http, case_id, "opinion-answers", "2026-11-02T14:00:00+09:00", 409, opinion_id="op2", answer="x")
    do(http, case_id, "opinion-acknowledgements", "2026-11-02T14:00:00+09:00", opinion_id="op1",
       expected_answer_at="2026-11-05T18:00:00+09:00")
    do(http, case_id, "opinion-acknowledgements", "2026-11-02T14:10:00+09:00", 409, opinion_id="op1",
       expected_answer_at="2026-11-05T18:00:00+09:00")
    do(http, case_id, "opinion-answers", "2026-11-04T14:00:00+09:00", opinion_id="op1", answer="조치했습니다")
    for path, fields in [("repeat-visits", {"official_id": "o-17", "cause": "서류 안내 누락"}),
                         ("administrative-errors", {"description": "수수료 오부과"}),
                         ("discourtesy-findings", {"official_id": "o-17", "finding": "불친절 확인"}),
                         ("insincere-handling-findings", {"official_id": "o-17", "finding": "불성실 확인"})]:
        do(http, case_id, path, "2026-11-05T10:00:00+09:00", **fields)
    do(http, case_id, "field-investigation/start", "2026-11-05T11:00:00+09:00", 409)  # grievances only


def test_disclosure_steps_in_order(container: Container) -> None:
    http = http_client(container)
    case_id = file(http, petition_type="disclosure")
    do(http, case_id, "disclosure-steps", "2026-11-02T11:00:00+09:00", 409, step="decide")
    for step in ["route", "decide", "notify_decision"]:
        do(http, case_id, "disclosure-steps", "2026-11-03T11:00:00+09:00", step=step)
    other = file(http)
    do(http, other, "disclosure-steps", "2026-11-03T11:00:00+09:00", 409, step="route")


def test_lists_filters_pagination_duplicates(container: Container) -> None:
    http = http_client(container)
    ids = [file(http, received_at=f"2026-11-0{d}T10:00:00+09:00", title=f"민원 {d}번 가로등 고장 신고합니다")
           for d in (2, 3, 4, 5, 6)]
    other_person = file(http, applicant={"name": "다른사람", "phone": "010-9999-8888"}, title="민원 2번 가로등 고장 신고합니다")
    do(http, ids[0], "assignment", "2026-11-02T11:00:00+09:00", official=OFFICIAL)
    project(container)
    page = http.get("/v1/petitions", params={"limit": 2}).json()
    seen = [p["case_id"] for p in page["items"]]
    while page["next_cursor"]:
        page = http.get("/v1/petitions", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        seen += [p["case_id"] for p in page["items"]]
    assert len(seen) == 6 and len(set(seen)) == 6
    assert [p["case_id"] for p in http.get("/v1/petitions", params={"official_id": "o-17"}).json()["items"]] == [ids[0]]
    assert http.get("/v1/petitions", params={"department": "도로과"}).json()["items"][0]["case_id"] == ids[0]
    ranged = http.get("/v1/petitions", params={"received_from": "2026-11-03T00:00:00+09:00",
                                               "received_to": "2026-11-05T00:00:00+09:00"}).json()["items"]
    assert {p["case_id"] for p in ranged} == {ids[1], ids[2]}
    # the clock is 2026-11-25: every one of these 7-day grievances is overdue
    assert len(http.get("/v1/petitions", params={"overdue": "true"}).json()["items"]) == 6
    dups = {p["case_id"]: p["duplicate_of"] for p in http.get("/v1/petitions").json()["items"]}
    assert dups[ids[0]] is None and dups[other_person] is None
    assert all(dups[i] == ids[0] for i in ids[1:])
    assert http.get("/v1/petitions", params={"cursor": "garbage"}).status_code == 400
    assert http.get("/v1/petitions", params={"status": "lost"}).status_code == 422


def test_metrics_are_exported(container: Container) -> None:
    http = http_client(container)
    file(http)
    text = http.get("/metrics").text
    assert 'charterwatch_events_appended_total{event_type="PetitionReceived"} 1.0' in text
    assert "charterwatch_http_request_seconds_bucket" in text and "charterwatch_outbox_unpublished" in text


def test_logs_name_no_applicant(container: Container, log_lines) -> None:
    http = http_client(container)
    case_id = file(http)
    http.get(f"/v1/petitions/{case_id}/applicant")
    logged = log_lines.getvalue()
    assert case_id in logged
    for value in APPLICANT.values():
        assert value not in logged
    assert json.loads(logged.splitlines()[0])  # JSON lines
