"""Bulk ingest (POST /v1/petitions:bulk) over the real log and database: each command answered as its single
request would be, in order; replays store nothing twice; tenancy and limits as for single requests."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.bootstrap import Container
from services.intake.api.examples import BULK
from services.intake.schema import OutboxRow
from services.intake.store.orm import StreamEventRow
from services.wiring import case_keys
from shared.events import decode
from shared.instants import KST
from shared.sealing import unseal
from tests.integration.conftest import http_client
from tests.integration.test_intake_api import PETITION, appended

OFFICIAL = {"official_id": "o-1", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(items: list[Any]) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in items).encode() + b"\n"


def stored(c: Container) -> tuple[int, int]:
    with c.database("intake").sessions() as s:
        return (s.execute(select(func.count()).select_from(StreamEventRow)).scalar_one(),
                s.execute(select(func.count()).select_from(OutboxRow)).scalar_one())


def without_replay_flag(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "idempotent_replay"} for r in results]


def test_a_mixed_batch_answers_each_command_as_its_single_request(container: Container) -> None:
    c = container
    http = http_client(c)
    filed = http.post("/v1/petitions", json=PETITION).json()["case_id"]
    bad_phone = {**PETITION, "applicant": {"name": "김민원", "phone": "12"}}
    late = {**PETITION, "received_at": "2027-01-05T10:00:00+09:00"}  # after the test's clock
    assignment = {"occurred_at": "2026-11-25T11:00:00+09:00", "official": OFFICIAL}
    batch = [
        {"idempotency_key": "k0", "path": "/v1/petitions", "body": PETITION},
        {"idempotency_key": "k1", "path": "/v1/petitions", "body": bad_phone},
        {"idempotency_key": "k2", "path": f"/v1/petitions/{filed}/assignment", "body": assignment},
        {"idempotency_key": "k3", "path": "/v1/petitions", "body": {**PETITION, "extra": 1}},
        {"idempotency_key": "k4", "path": "/v1/petitions", "body": late},
        {"idempotency_key": "k5", "path": f"/v1/petitions/{filed}/no-such-command", "body": assignment},
        {"idempotency_key": "k6", "path": "/v1/petitions", "body": {**PETITION, "channel": "pigeon"}},
        {"idempotency_key": "k7", "path": f"/v1/petitions/{filed}/closure", "body": {"occurred_at": "2026-11-25T11:05:00+09:00"}},
    ]
    before = stored(c)
    r = http.post("/v1/petitions:bulk", content=ndjson(batch), headers=NDJSON)
    assert r.status_code == 200, r.text
    out = r.json()
    results = out["results"]
    assert [x["index"] for x in results] == list(range(len(batch)))
    assert [x["status"] for x in results] == [201, 422, 201, 422, 422, 404, 422, 409]
    assert out["recorded"] == 2 and out["refused"] == 6
    # the refused ones carry the very problem the single endpoint answers, naming the field
    assert results[1]["problem"] == http.post("/v1/petitions", json=bad_phone).json()
    assert results[1]["problem"]["field"] == "applicant.phone"
    assert results[4]["problem"] == http.post("/v1/petitions", json=late).json()
    assert results[7]["problem"] == http.post(f"/v1/petitions/{filed}/closure",
                                              json={"occurred_at": "2026-11-25T11:05:00+09:00"}).json()
    assert results[3]["problem"] == http.post("/v1/petitions", json={**PETITION, "extra": 1}).json()
    assert results[6]["problem"]["field"] == "channel" and results[6]["problem"]["errors"][0]["code"] == "enum"
    assert results[5]["problem"]["field"] == "path"
    # the good ones answer what their single request would, and their events are on the log
    assert results[0]["answer"]["event_type"] == "PetitionReceived" and results[0]["answer"]["case_number"]
    assert results[2]["answer"]["case_version"] == 2 and results[2]["case_id"] == filed
    assert stored(c) == (before[0] + 2, before[1] + 2)
    assert appended(c) == 3
    # the applicant is sealed under the case's own data key, made by the vault for the batch
    with c.database("intake").sessions() as s:
        raw = s.execute(select(StreamEventRow.envelope).where(StreamEventRow.case_id == results[0]["case_id"])).scalar_one()
    sealed = decode(raw.encode()).payload.applicant
    assert unseal(case_keys(c), sealed, results[0]["case_id"])["name"] == PETITION["applicant"]["name"]


def test_a_malformed_request_stores_nothing(container: Container) -> None:
    """The bulk request's own form (JSON lines, each command's key, path and body) is checked as a whole: a
    malformed command refuses the request, naming it by its place; only its body is answered per command."""
    c = container
    http = http_client(c)
    good = {"idempotency_key": "g", "path": "/v1/petitions", "body": PETITION}
    r = http.post("/v1/petitions:bulk", content=ndjson([good, "{not json"]), headers=NDJSON)
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed-json" and r.json()["field"] == "[1]"
    for bad, field in (({"path": "/v1/petitions", "body": PETITION}, "[1].idempotency_key"),
                       ({**good, "idempotency_key": ""}, "[1].idempotency_key"),
                       ({**good, "body": "text"}, "[1].body"), ({**good, "extra": 1}, "[1].extra")):
        r = http.post("/v1/petitions:bulk", json=[good, bad])
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert stored(c) == (0, 0)


def test_a_replayed_batch_answers_the_same_and_stores_nothing_twice(container: Container) -> None:
    c = container
    http = http_client(c)
    batch = [{"idempotency_key": f"sync-{i}", "path": "/v1/petitions", "body": {**PETITION, "title": f"민원 {i}"}}
             for i in range(5)]
    batch.append({"idempotency_key": "sync-bad", "path": "/v1/petitions",
                  "body": {**PETITION, "channel": "pigeon"}})
    first = http.post("/v1/petitions:bulk", json=batch)
    assert first.status_code == 200, first.text
    counts = stored(c)
    again = http.post("/v1/petitions:bulk", content=ndjson(batch), headers=NDJSON)  # the same batch, as NDJSON
    assert again.status_code == 200
    assert without_replay_flag(again.json()["results"]) == without_replay_flag(first.json()["results"])
    assert [x["idempotent_replay"] for x in again.json()["results"]] == [True] * 5 + [False]
    assert again.json()["recorded"] == 0
    assert stored(c) == counts and counts[0] == 5
    assert appended(c) == 5
    # a bulk command and its single twin share the key: the single request replays the bulk's answer
    single = http.post("/v1/petitions", json={**PETITION, "title": "민원 0"}, headers={"Idempotency-Key": "sync-0"})
    assert single.status_code == 201 and single.headers["Idempotent-Replay"] == "true"
    assert single.json() == first.json()["results"][0]["answer"]
    # the same key with another body is refused, as for single requests
    changed = http.post("/v1/petitions:bulk", json=[{**batch[0], "body": {**PETITION, "title": "다른 민원"}}])
    assert changed.json()["results"][0]["status"] == 422
    assert changed.json()["results"][0]["problem"]["field"] == "Idempotency-Key"
    assert stored(c) == counts


def test_a_case_filed_earlier_in_the_batch_takes_its_facts(container: Container) -> None:
    http = http_client(container)
    first = http.post("/v1/petitions:bulk", json=[{"idempotency_key": "f", "path": "/v1/petitions", "body": PETITION}])
    case_id = first.json()["results"][0]["case_id"]
    r = http.post("/v1/petitions:bulk", json=[
        {"idempotency_key": "a1", "path": f"/v1/petitions/{case_id}/assignment",
         "body": {"occurred_at": "2026-11-25T11:00:00+09:00", "official": OFFICIAL}},
        {"idempotency_key": "a2", "path": f"/v1/petitions/{case_id}/resolution", "if_match": '"2"',
         "body": {"occurred_at": "2026-11-25T11:30:00+09:00", "outcome": "accepted", "explanation": "교체함"}},
        {"idempotency_key": "a3", "path": f"/v1/petitions/{case_id}/closure", "if_match": '"2"',
         "body": {"occurred_at": "2026-11-25T11:40:00+09:00"}},
    ])
    assert [x["status"] for x in r.json()["results"]] == [201, 201, 412]
    assert r.json()["results"][1]["answer"]["status"] == "resolved"


def test_another_agencys_case_in_a_batch_is_not_found(container: Container) -> None:
    c = container
    theirs = http_client(c, "agency-b").post("/v1/petitions", json=PETITION).json()["case_id"]
    mine = http_client(c, "agency-a")
    fact = {"occurred_at": "2026-11-25T11:00:00+09:00", "official": OFFICIAL}
    before = stored(c)
    r = mine.post("/v1/petitions:bulk", json=[
        {"idempotency_key": "x", "path": f"/v1/petitions/{theirs}/assignment", "body": fact},
        {"idempotency_key": "y", "path": f"/v1/petitions/{theirs}-missing/assignment", "body": fact}])
    foreign, missing = r.json()["results"]
    assert foreign["status"] == missing["status"] == 404
    assert foreign["problem"] == mine.post(f"/v1/petitions/{theirs}/assignment", json=fact).json()
    assert foreign["problem"]["detail"].replace(theirs, "?") == missing["problem"]["detail"].replace(f"{theirs}-missing", "?")
    assert stored(c) == before


def test_a_bulk_request_is_bounded(container: Container) -> None:
    c = container
    app = http_client(c).app
    app.state.intake = intake = app.state.intake.__class__(**{**vars(app.state.intake), "bulk_max_items": 3})
    http = TestClient(app, headers=http_client(c).headers)
    four = [{"idempotency_key": f"b{i}", "path": "/v1/petitions", "body": PETITION} for i in range(4)]
    for r in (http.post("/v1/petitions:bulk", json=four),
              http.post("/v1/petitions:bulk", content=ndjson(four), headers=NDJSON)):
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/body-too-large" and r.json()["field"] == "body"
    big = ndjson([{"idempotency_key": "big", "path": "/v1/petitions",
                   "body": {**PETITION, "body": "가" * (intake.bulk_max_bytes // 3 + 1)}}])
    r = http.post("/v1/petitions:bulk", content=big, headers=NDJSON)
    assert r.status_code == 413 and r.json()["type"] == "/problems/body-too-large"
    r = http.post("/v1/petitions:bulk", content=b"idempotency_key=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["field"] == "Content-Type"
    r = http.post("/v1/petitions:bulk", json={"idempotency_key": "x"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    assert stored(c) == (0, 0) and appended(c) == 0
    ok = http.post("/v1/petitions:bulk", json=four[:3])
    assert [x["status"] for x in ok.json()["results"]] == [201, 201, 201]


def test_the_korean_bulk_example_is_accepted_as_written(container: Container) -> None:
    container.clock = lambda: datetime(2026, 12, 10, 12, tzinfo=KST)  # after the instants the example names
    r = http_client(container).post("/v1/petitions:bulk", json=BULK)
    assert [x["status"] for x in r.json()["results"]] == [201, 201], r.text
    spec = http_client(container).get("/openapi.json").json()
    content = spec["paths"]["/v1/petitions:bulk"]["post"]["requestBody"]["content"]
    assert "application/x-ndjson" in content and content["application/json"]["example"] == BULK
