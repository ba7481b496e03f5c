"""Intake over HTTP with the real embedded log and a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Container
from services.platform.log.kafka import KafkaLog
from services.wiring import case_keys, petition_projection_runner
from shared.events import decode
from shared.sealing import unseal
from tests.integration.conftest import http_client, make_container

APPLICANT = {"name": "홍길동", "phone": "010-2345-6789", "email": "hong@example.kr", "address": "충남 당진시 시청1로 1"}
PETITION = {
    "municipality_id": "dangjin",
    "petition_type": "grievance",
    "channel": "visit",
    "title": "가로등이 꺼져 있습니다",
    "body": "시청 앞 가로등",
    "received_at": "2026-11-25T10:00:00+09:00",
    "applicant": APPLICANT,
    "notice_channels": ["sms", "email"],
    "electronic_consent": True,
}


def client(c: Container, agency_id: str = "agency-a") -> TestClient:
    return http_client(c, agency_id)


def project(c: Container) -> int:
    runner = petition_projection_runner(c)
    return runner.run(poll_timeout=0.2, until_caught_up=True)


def appended(c: Container) -> int:
    return sum(c.log.end_offsets(c.topics.petition_events).values())


def test_file_then_read_back(container: Container, log_lines: io.StringIO) -> None:
    http = client(container)
    r = http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    body = r.json()
    case_id = body["case_id"]
    assert r.headers["location"] == f"/v1/petitions/{case_id}"
    # grievance: 7 days (Decree 17), counted in days from Wed 11/25 -> Thu 12/3 18:00
    assert body["statutory_deadline"]["due_at"] == "2026-12-03T18:00:00+09:00"
    assert body["charter_id"] == "dangjin" and body["charter_version"] == "2024.1"
    # a short number of its own (municipality, year of receipt, sequence), which notices call it by
    assert body["case_number"] == body["reference"] == "dangjin-2026-000001" and body["receipt_number"] is None
    assert body["notice_channels"] == ["sms", "email"] and body["notice_channels_chosen_by"] == "integrator"
    assert body["warnings"] == [] and body["clock"] == "running"
    # Wed 25th at noon (the clock): the rest of Wed to Thu 3rd, seven working days, counted at the answer
    assert body["statutory_deadline"]["remaining_working_days"] == 7

    assert http.get(f"/v1/petitions/{case_id}").status_code == 404  # not projected yet
    assert project(container) == 1
    got = http.get(f"/v1/petitions/{case_id}").json()
    assert got["status"] == "received" and got["version"] == 1
    assert got["received_at"] == "2026-11-25T10:00:00+09:00"
    assert got["statutory_due_at"] == "2026-12-03T18:00:00+09:00"
    assert (got["case_number"], got["reference"], got["inbox_ref"]) == ("dangjin-2026-000001", "dangjin-2026-000001",
                                                                       body["inbox_ref"])
    # while the clock runs, the working time left is counted at the request, not left null
    assert got["clock"] == "running" and got["remaining_working_days"] == 7
    assert got["remaining_working_seconds"] == 6 * 8 * 3600 + 5 * 3600 and got["time_left"] == "7 working days left"
    assert got["remaining_as_of"] == "2026-11-25T12:00:00+09:00"
    timeline = http.get(f"/v1/petitions/{case_id}/timeline").json()
    assert [t["event_type"] for t in timeline] == ["PetitionReceived"]

    # The event on the log carries the applicant sealed, openable with the key.
    record = container.log.reader(container.topics.petition_events).poll(timeout=1)[0]
    env = decode(record.value)
    assert record.key == case_id and "홍길동" not in record.value.decode()
    assert unseal(case_keys(container), env.payload.applicant, case_id)["phone"] == "+821023456789"  # E.164
    assert env.schema_version == 2 and env.payload.case_number == "dangjin-2026-000001"

    logged = log_lines.getvalue()
    assert case_id in logged
    for value in APPLICANT.values():
        assert value not in logged


def test_redelivery_projects_once(container: Container) -> None:
    client(container).post("/v1/petitions", json=PETITION)
    assert project(container) == 1
    from services.intake.readmodel.orm import TimelineRow
    from services.intake.schema import RUNTIME
    with container.database("intake").sessions.begin() as s:
        s.query(RUNTIME.position).delete()  # forget where we were: everything is redelivered
    assert project(container) == 0
    with container.database("intake").sessions() as s:
        assert s.query(TimelineRow).count() == 1


def test_undecodable_records_are_dead_lettered(container: Container) -> None:
    container.log.append(container.topics.petition_events, "bad-case", b'{"not": "an event"}')
    client(container).post("/v1/petitions", json=PETITION)
    assert project(container) == 1
    dead = container.log.reader(container.topics.dead_letter).poll(timeout=1)
    assert len(dead) == 1
    entry = json.loads(dead[0].value)
    assert entry["service"] == "projection" and "envelope_version" in entry["reason"]


@pytest.mark.parametrize("mutate, status, field", [
    (lambda p: p.pop("title"), 422, "title"),
    (lambda p: p.update(petition_type="complaint"), 422, "petition_type"),
    (lambda p: p.update(channel="pigeon"), 422, "channel"),
    (lambda p: p.update(received_at="2026-11-25T10:00:00"), 422, "received_at"),
    (lambda p: p.update(received_at="2027-11-25T10:00:00+09:00"), 422, "received_at"),
    (lambda p: p["applicant"].update(phone="02-12"), 422, "applicant.phone"),
    (lambda p: p["applicant"].update(phone="+1 202 555 0100"), 422, "applicant.phone"),
    (lambda p: p.update(receipt_number="2026\n0001"), 422, "receipt_number"),
    (lambda p: p["applicant"].update(email="hong@"), 422, "applicant.email"),
    (lambda p: p.update(surprise=1), 422, "surprise"),
    (lambda p: p.update(municipality_id="atlantis"), 422, "municipality_id"),
    (lambda p: p.update(petition_type="statutory"), 422, "petition_kind"),
    (lambda p: p.update(petition_type="statutory", petition_kind="moon_landing"), 422, "petition_kind"),
    (lambda p: p["applicant"].pop("phone"), 422, "notice_channels[0]"),
])
def test_bad_input_names_the_field_and_appends_nothing(container: Container, mutate, status: int, field: str) -> None:
    payload = json.loads(json.dumps(PETITION))
    mutate(payload)
    r = client(container).post("/v1/petitions", json=payload)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field
    assert appended(container) == 0


def test_malformed_json_and_oversize_body(container: Container) -> None:
    http = client(container)
    r = http.post("/v1/petitions", content=b'{"title": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "body"
    big = dict(PETITION, body="가" * 200_000)
    r = http.post("/v1/petitions", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert appended(container) == 0


def test_statutory_period_from_the_agency_table(container: Container) -> None:
    r = client(container).post("/v1/petitions", json=dict(
        PETITION, petition_type="statutory", petition_kind="resident_registration_certificate"))
    assert r.status_code == 201
    assert r.json()["statutory_deadline"]["due_at"] == "2026-11-25T14:00:00+09:00"  # 3 working hours from 10:00


def test_broker_down_still_records_through_the_outbox(tmp_path: Path, database_url: str) -> None:
    """The event, the version claim and the idempotency record commit in intake's store: the answer is
    201 with the broker down, the outbox keeps the event, and a retry with the key returns the same case."""
    from services.intake.schema import OutboxRow

    c = make_container(tmp_path, database_url, log=KafkaLog("127.0.0.1:1", timeout_s=1), create_topics=False)
    try:
        http = client(c)
        r = http.post("/v1/petitions", json=PETITION, headers={"Idempotency-Key": "k-1"})
        assert r.status_code == 201, r.text
        again = http.post("/v1/petitions", json=PETITION, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 201 and again.json()["case_id"] == r.json()["case_id"]
        with c.database("intake").sessions() as s:
            rows = s.query(OutboxRow).all()
        assert [(row.case_id, row.published) for row in rows] == [(r.json()["case_id"], False)]
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
    finally:
        c.close()


def test_deadline_endpoint(container: Container) -> None:
    http = client(container)
    r = http.get("/v1/deadline", params={"received": "2026-02-13T16:00:00+09:00", "period": "3d"})
    assert r.json()["due_at"] == "2026-02-23T16:00:00+09:00"
    r = http.get("/v1/deadline", params=[("received", "2026-11-25T09:00:00+09:00"), ("period", "3d"),
                                         ("pause", "2026-11-26T14:00:00+09:00/2026-11-30T11:00:00+09:00")])
    assert r.json()["due_at"] == "2026-12-01T16:00:00+09:00"
    for params, field in [({"received": "yesterday", "period": "3d"}, "received"),
                          ({"received": "2026-11-25T09:00:00+09:00", "period": "0d"}, "period"),
                          ({"received": "2026-11-25T09:00:00+09:00", "period": "3d",
                            "pause": "2026-11-26T14:00:00+09:00/2026-11-26T11:00:00+09:00"}, "pause[0]")]:
        r = http.get("/v1/deadline", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, r.text


ELECTRONIC = dict(PETITION, channel="internet")


def test_an_electronic_petition_has_no_deadline_until_formal_receipt_in_the_answer_and_in_get(
        container: Container) -> None:
    """The filing answer and the read say the same: no deadline before formal receipt (Decree 6-7), only when
    receipt is due; from the receipt on, the deadline, in both; a receipt number given then names the case."""
    http = client(container)
    filed = http.post("/v1/petitions", json=dict(ELECTRONIC, received_at="2026-11-25T09:00:00+09:00")).json()
    case_id = filed["case_id"]
    assert filed["status"] == "filed" and filed["statutory_deadline"] is None
    assert filed["clock"] == "awaiting_formal_receipt" and filed["formal_receipt_due_at"] == "2026-11-25T18:00:00+09:00"
    project(container)
    got = http.get(f"/v1/petitions/{case_id}").json()
    assert (got["statutory_due_at"], got["clock"], got["formal_receipt_due_at"], got["remaining_working_days"]) == (
        None, "awaiting_formal_receipt", "2026-11-25T18:00:00+09:00", None)
    early = http.post(f"/v1/petitions/{case_id}/assignment", json={
        "occurred_at": "2026-11-25T10:00:00+09:00", "official": {"official_id": "o-1", "name": "박주무관",
                                                                "department": "도로과", "phone": "041-350-1234",
                                                                "email": "p@dangjin.go.kr"}})
    assert early.status_code == 409 and early.json()["rule"] == "case-status"
    bad = http.post(f"/v1/petitions/{case_id}/receipt", json={"occurred_at": "2026-11-25T11:00:00+09:00",
                                                               "receipt_number": "<script>"})
    assert bad.status_code == 422 and bad.json()["field"] == "receipt_number"
    receipt = http.post(f"/v1/petitions/{case_id}/receipt", json={"occurred_at": "2026-11-25T11:00:00+09:00",
                                                                   "receipt_number": "2AA-2611-0001"}).json()
    assert receipt["clock"] == "running" and receipt["statutory_deadline"]["due_at"] == "2026-12-03T18:00:00+09:00"
    project(container)
    got = http.get(f"/v1/petitions/{case_id}").json()
    assert got["statutory_due_at"] == receipt["statutory_deadline"]["due_at"] and got["clock"] == "running"
    assert (got["receipt_number"], got["reference"]) == ("2AA-2611-0001", "2AA-2611-0001")


def test_case_numbers_count_per_municipality_and_year_of_receipt_in_kst(container: Container) -> None:
    http = client(container)
    numbers = [http.post("/v1/petitions", json=PETITION).json()["case_number"] for _ in range(3)]
    assert numbers == ["dangjin-2026-000001", "dangjin-2026-000002", "dangjin-2026-000003"]
    assert http.post("/v1/petitions", json=dict(PETITION, municipality_id="seongnam")).json()[
        "case_number"] == "seongnam-2026-000001"
    # 2025-12-31 15:30 UTC is 2026-01-01 00:30 in Korea: a case of 2026; 14:30 UTC is still 2025
    assert http.post("/v1/petitions", json=dict(PETITION, received_at="2025-12-31T15:30:00Z")).json()[
        "case_number"] == "dangjin-2026-000004"
    assert http.post("/v1/petitions", json=dict(PETITION, received_at="2025-12-31T14:30:00Z")).json()[
        "case_number"] == "dangjin-2025-000001"
    # a retry with the same Idempotency-Key takes no second number
    first = http.post("/v1/petitions", json=PETITION, headers={"Idempotency-Key": "n-1"}).json()
    again = http.post("/v1/petitions", json=PETITION, headers={"Idempotency-Key": "n-1"}).json()
    assert first["case_number"] == again["case_number"] == "dangjin-2026-000005"
    assert http.post("/v1/petitions", json=PETITION).json()["case_number"] == "dangjin-2026-000006"


def test_case_numbers_are_unique_under_concurrent_filings(container: Container) -> None:
    """Filings racing on one (municipality, year) each take the next number, none twice, none skipped."""
    from concurrent.futures import ThreadPoolExecutor

    from services.intake.store.orm import CaseNumberRow

    clients = [client(container) for _ in range(6)]

    def file(i: int) -> tuple[int, str]:
        r = clients[i % len(clients)].post("/v1/petitions", json=PETITION)
        return r.status_code, r.json().get("case_number", r.text)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(file, range(24)))
    assert {status for status, _ in answers} == {201}, answers
    assert sorted(n for _, n in answers) == [f"dangjin-2026-{i:06d}" for i in range(1, 25)]
    with container.database("intake").sessions() as s:
        assert s.query(CaseNumberRow).count() == 24


def test_a_case_is_found_by_its_case_number_or_receipt_number_within_the_agency(container: Container) -> None:
    http = client(container)
    mine = http.post("/v1/petitions", json=dict(PETITION, receipt_number="민원-2026-77")).json()
    http.post("/v1/petitions", json=PETITION)
    other = client(container, "agency-b")
    theirs = other.post("/v1/petitions", json=dict(PETITION, receipt_number="민원-2026-77")).json()
    project(container)
    assert mine["reference"] == "민원-2026-77" and mine["case_number"] == "dangjin-2026-000001"
    for number in ("dangjin-2026-000001", "민원-2026-77", " 민원-2026-77 "):
        found = http.get("/v1/petitions", params={"number": number}).json()["items"]
        assert [i["case_id"] for i in found] == [mine["case_id"]], number
    assert [i["case_id"] for i in other.get("/v1/petitions", params={"number": "민원-2026-77"}).json()["items"]] == [
        theirs["case_id"]]
    assert other.get("/v1/petitions", params={"number": "dangjin-2026-000001"}).json()["items"] == []
    assert http.get("/v1/petitions", params={"number": "x" * 81}).status_code == 422


@pytest.mark.parametrize("phone, e164", [("02-123-4567", "+8221234567"), ("031 123 4567", "+82311234567"),
                                         ("+82 2-123-4567", "+8221234567")])
def test_a_landline_is_accepted_and_the_answer_says_no_sms_goes_to_it(container: Container, phone: str,
                                                                        e164: str) -> None:
    http = client(container)
    r = http.post("/v1/petitions", json=dict(PETITION, applicant=dict(APPLICANT, phone=phone)))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["notice_channels"] == ["email"] and body["notice_channels_chosen_by"] == "integrator"
    assert [w["code"] for w in body["warnings"]] == ["sms_impossible"] and "landline" in body["warnings"][0]["message"]
    env = decode(container.log.reader(container.topics.petition_events).poll(timeout=1)[0].value)
    assert unseal(case_keys(container), env.payload.applicant, body["case_id"])["phone"] == e164
    assert [c.value for c in env.payload.notice_channels] == ["email"]
    # SMS only, to a landline: nothing named can be used, so the charter's channels with a contact are
    only_sms = http.post("/v1/petitions", json=dict(PETITION, applicant=dict(APPLICANT, phone=phone),
                                                    notice_channels=["sms"])).json()
    assert only_sms["notice_channels"] == ["inbox", "email"] and only_sms["notice_channels_chosen_by"] == "default"
    assert [w["code"] for w in only_sms["warnings"]] == ["sms_impossible", "default_channels"]


def test_international_and_unseparated_mobile_numbers_are_stored_in_e164(container: Container) -> None:
    http = client(container)
    for phone in ("+82 10-2345-6789", "01023456789", "+82 (0)10 2345 6789"):
        r = http.post("/v1/petitions", json=dict(PETITION, applicant=dict(APPLICANT, phone=phone)))
        assert r.status_code == 201 and r.json()["notice_channels"] == ["sms", "email"], r.text
    refs = {r.payload.applicant_ref for r in (decode(x.value) for x in
                                              container.log.reader(container.topics.petition_events).poll(timeout=1))}
    assert len(refs) == 1  # one applicant however the number was written: one inbox, duplicates still found


def test_without_notice_channels_the_charters_channels_with_a_contact_are_used(container: Container) -> None:
    http = client(container)
    no_channels = {k: v for k, v in PETITION.items() if k != "notice_channels"}
    body = http.post("/v1/petitions", json=no_channels).json()
    # Dangjin promises SMS, the homepage inbox and e-mail for results (D3); the applicant gave a mobile and an e-mail
    assert body["notice_channels"] == ["sms", "inbox", "email"] and body["notice_channels_chosen_by"] == "default"
    landline = http.post("/v1/petitions", json=dict(no_channels, notice_channels=None,
                                                    applicant={"name": "홍길동", "phone": "041-350-1234"})).json()
    assert landline["notice_channels"] == ["inbox"] and landline["warnings"] == []
    seongnam = http.post("/v1/petitions", json=dict(no_channels, municipality_id="seongnam")).json()
    assert seongnam["notice_channels"] == ["sms", "email", "inbox"]  # a charter promising none: every one sent
    empty = http.post("/v1/petitions", json=dict(PETITION, notice_channels=[])).json()
    assert empty["notice_channels"] == [] and [w["code"] for w in empty["warnings"]] == ["no_channels"]
    stored = {e.case_id: [c.value for c in e.payload.notice_channels] for e in
              (decode(x.value) for x in container.log.reader(container.topics.petition_events).poll(timeout=1))}
    assert [stored[b["case_id"]] for b in (body, landline, seongnam, empty)] == [
        ["sms", "inbox", "email"], ["inbox"], ["sms", "email", "inbox"], []]


KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}


@pytest.mark.parametrize("mutate, field, code, english, korean", [
    (lambda p: p.pop("title"), "title", "missing", "Field required", "필수 항목입니다"),
    (lambda p: p.update(title=5), "title", "string_type", "Input should be a valid string", "문자열이어야 합니다"),
    (lambda p: p.update(title="가" * 201), "title", "string_too_long", "String should have at most 200 characters",
     "200자 이하여야 합니다"),
    (lambda p: p.update(received_at="2026-11-25T10:00:00"), "received_at", "timezone_aware",
     "Input should have timezone info", "UTC 오프셋이 있는 ISO 8601 시각이어야 합니다 (예: 2026-11-25T10:00:00+09:00)"),
    (lambda p: p.update(received_at="어제"), "received_at", "datetime_from_date_parsing", None,
     "UTC 오프셋이 있는 ISO 8601 시각이어야 합니다 (예: 2026-11-25T10:00:00+09:00)"),
    (lambda p: p["applicant"].update(phone="010-12"), "applicant.phone", "phone", None,
     "한국 전화번호가 아닙니다 (예: 010-1234-5678, 02-123-4567, +82 10 1234 5678)"),
    (lambda p: p["applicant"].update(email="hong@"), "applicant.email", "email", "not an e-mail address",
     "전자우편 주소가 아닙니다 (예: hong@example.kr)"),
    (lambda p: p.update(electronic_consent="maybe"), "electronic_consent", "bool_parsing", None,
     "true 또는 false여야 합니다"),
])
def test_validation_messages_in_english_and_korean(container: Container, mutate, field: str, code: str,
                                                   english: str | None, korean: str) -> None:
    payload = json.loads(json.dumps(PETITION))
    mutate(payload)
    http = client(container)
    en = http.post("/v1/petitions", json=payload)
    assert en.status_code == 422 and en.headers["content-language"] == "en"
    error = en.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, code), en.text
    assert "Value error" not in en.text and not error["message"].startswith(field)
    if english is not None:
        assert error["message"] == english
    ko = http.post("/v1/petitions", json=payload, headers=KOREAN)
    assert ko.headers["content-language"] == "ko" and ko.json()["title"] == "요청 값이 올바르지 않습니다"
    assert ko.json()["errors"][0]["message"] == korean and ko.json()["detail"] == f"{field}: {korean}"
    assert appended(container) == 0


def test_a_model_check_names_its_field_without_the_value_error_prefix(container: Container) -> None:
    http = client(container)
    case_id = http.post("/v1/petitions", json=PETITION).json()["case_id"]
    r = http.post(f"/v1/petitions/{case_id}/resolution", json={
        "occurred_at": "2026-11-25T11:00:00+09:00", "outcome": "refused", "explanation": "불가"})
    assert r.status_code == 422 and r.json()["field"] == "refusal_reasons"
    assert r.json()["errors"][0]["message"].startswith("a refusal must state") and "Value error" not in r.text
    malformed = http.post("/v1/petitions", content=b'{"title": ', headers={"content-type": "application/json", **KOREAN})
    assert malformed.status_code == 400 and malformed.json()["type"] == "/problems/malformed-json"
    assert malformed.json()["errors"][0]["message"] == "JSON 형식이 아닙니다"


def test_every_clock_of_a_case_with_the_notices_that_discharged_it(container: Container) -> None:
    from shared.events import Envelope, encode
    from shared.events.notice import NoticeSent

    http = client(container)
    case_id = http.post("/v1/petitions", json=PETITION).json()["case_id"]
    extended = http.post(f"/v1/petitions/{case_id}/extensions", json={
        "occurred_at": "2026-11-25T11:00:00+09:00", "period": "7d", "reason": "현장 확인",
        "expected_completion": "2026-12-14T18:00:00+09:00"}).json()
    # notify told the petitioner of the extension by SMS: its NoticeSent, on the notice topic
    sent = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=0,
                    occurred_at=datetime.fromisoformat("2026-11-25T11:01:00+09:00"),
                    recorded_at=datetime.fromisoformat("2026-11-25T11:01:00+09:00"), producer="notify",
                    payload=NoticeSent(notice_id="n-ext-sms", kind="extension", channel="sms",
                                       cause_event_id=extended["event_id"], template_id="extension",
                                       template_version="1", content_sha256="0" * 64, attempts=1))
    container.log.append(container.topics.notice_events, case_id, encode(sent))
    project(container)
    r = http.get(f"/v1/petitions/{case_id}/obligations")
    assert r.status_code == 200, r.text
    body = r.json()
    clocks = {o["obligation_id"]: o for o in body["obligations"]}
    assert body["as_of"] == "2026-11-25T12:00:00+09:00"
    assert set(clocks) == {"statutory_deadline", "charter_target", "interim_notice:1", "extension_notice:1"}
    statutory = clocks["statutory_deadline"]
    assert statutory["state"] == "running" and statutory["due_at"] == "2026-12-14T18:00:00+09:00"  # 7d + 7d
    assert statutory["remaining_working_days"] == 14 and statutory["time_left"] == "14 working days left"
    assert statutory["rule"] == "Act 19; Decree 17" and statutory["citizen_facing"] is True
    told = clocks["extension_notice:1"]
    assert told["state"] == "kept" and told["discharged_by"]["event_type"] == "NoticeSent"
    assert [(n["notice_id"], n["channel"]) for n in told["notices"]] == [("n-ext-sms", "sms")]
    assert clocks["charter_target"]["citizen_facing"] is False
    # a pause: the statutory clock stands still, with what it left
    http.post(f"/v1/petitions/{case_id}/supplement-requests", json={"occurred_at": "2026-11-25T11:30:00+09:00",
                                                                    "items": "도면"})
    project(container)
    paused = {o["obligation_id"]: o for o in http.get(f"/v1/petitions/{case_id}/obligations").json()["obligations"]}
    assert paused["statutory_deadline"]["state"] == "paused" and paused["statutory_deadline"]["due_at"] is None
    assert paused["statutory_deadline"]["remaining_working_days"] == 14
    got = http.get(f"/v1/petitions/{case_id}").json()
    assert got["clock"] == "paused" and got["remaining_working_days"] == 14 and got["time_left"] == "14 working days left"
    assert client(container, "agency-b").get(f"/v1/petitions/{case_id}/obligations").status_code == 404
