"""Intake over HTTP with the real embedded log and a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
import json
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

    assert http.get(f"/v1/petitions/{case_id}").status_code == 404  # not projected yet
    assert project(container) == 1
    got = http.get(f"/v1/petitions/{case_id}").json()
    assert got["status"] == "received" and got["version"] == 1
    assert got["received_at"] == "2026-11-25T10:00:00+09:00"
    assert got["statutory_due_at"] == "2026-12-03T18:00:00+09:00"
    timeline = http.get(f"/v1/petitions/{case_id}/timeline").json()
    assert [t["event_type"] for t in timeline] == ["PetitionReceived"]

    # The event on the log carries the applicant sealed, openable with the key.
    record = container.log.reader(container.topics.petition_events).poll(timeout=1)[0]
    env = decode(record.value)
    assert record.key == case_id and "홍길동" not in record.value.decode()
    assert unseal(case_keys(container), env.payload.applicant, case_id)["phone"] == APPLICANT["phone"]

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
    (lambda p: p["applicant"].update(phone="02-123-4567"), 422, "applicant.phone"),
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
