"""Input is bounded at the door: every instant any API accepts is inside the calendar and sane for its
case; bad input is problem+json naming the field, never a 5xx, and nothing is stored.

Each row is an input a careless integrator (or an attacker) sends; the answer must be a 4xx naming
the field, and the log must not have moved.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.bootstrap import Container
from services.platform.http.paging import encode_cursor
from tests.integration.conftest import api_token, make_container
from tests.integration.test_intake_api import PETITION
from tests.integration.test_lifecycle import OFFICIAL

ABSURD = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2206-03-01T10:00:00+09:00",
          "1899-12-31T23:00:00+09:00"]
T = "2026-11-25T11:00:00+09:00"  # a sane occurred_at for the case below (filed 10:00, clock at 12:00)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Container, TestClient, str]]:
    from datetime import datetime, timezone

    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                       clock=lambda: datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc))
    http = TestClient(wiring.intake_app(c))
    http.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    r = http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    opinion = http.post(f"/v1/petitions/{case_id}/opinions",
                        json={"occurred_at": T, "opinion_id": "op-1", "kind": "opinion", "opinion_class": "simple"})
    assert opinion.status_code == 201, opinion.text
    wiring.petition_projection_runner(c).run(poll_timeout=0.1, until_caught_up=True)
    yield c, http, case_id
    c.close()


def events(c: Container) -> int:
    return sum(c.log.end_offsets(c.topics.petition_events).values())


def refused(r: httpx.Response, field: str, statuses: tuple[int, ...] = (400, 422)) -> None:
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == field or any(e["field"] == field for e in body["errors"]), body


def bad_commands(case_id: str) -> list[tuple[str, dict[str, Any], str]]:
    out: list[tuple[str, dict[str, Any], str]] = []
    for at in ABSURD:
        out += [
            ("/v1/petitions", {**PETITION, "received_at": at}, "received_at"),
            (f"/v1/petitions/{case_id}/assignment",
             {"occurred_at": at, "official": OFFICIAL}, "occurred_at"),
            (f"/v1/petitions/{case_id}/callback-promises",
             {"occurred_at": T, "callback_id": "cb-1", "requested_at": at}, "requested_at"),
            (f"/v1/petitions/{case_id}/extensions",
             {"occurred_at": T, "period": "7d", "reason": "협의", "expected_completion": at}, "expected_completion"),
            (f"/v1/petitions/{case_id}/interim-notices",
             {"occurred_at": T, "progress": "검토 중", "expected_completion": at}, "expected_completion"),
            (f"/v1/petitions/{case_id}/supplement-requests",
             {"occurred_at": T, "items": "도면", "respond_by": at}, "respond_by"),
        ]
    return out + [
        # sane years, insane for the case
        (f"/v1/petitions/{case_id}/callback-promises",
         {"occurred_at": T, "callback_id": "cb-2", "requested_at": "2027-03-01T10:00:00+09:00"}, "requested_at"),
        (f"/v1/petitions/{case_id}/callback-promises",
         {"occurred_at": T, "callback_id": "cb-3", "requested_at": "2026-11-20T10:00:00+09:00"}, "requested_at"),
        (f"/v1/petitions/{case_id}/extensions",
         {"occurred_at": T, "period": "7d", "reason": "협의", "expected_completion": "2027-06-01T18:00:00+09:00"},
         "expected_completion"),
        (f"/v1/petitions/{case_id}/extensions",
         {"occurred_at": T, "period": "0d", "reason": "협의", "expected_completion": "2026-12-08T18:00:00+09:00"},
         "period"),
        (f"/v1/petitions/{case_id}/opinion-acknowledgements",
         {"occurred_at": T, "opinion_id": "op-1", "expected_answer_at": "2028-01-01T10:00:00+09:00"},
         "expected_answer_at"),
        (f"/v1/petitions/{case_id}/assignment",
         {"occurred_at": "2026-11-24T10:00:00+09:00", "official": OFFICIAL},
         "occurred_at"),
    ]


def test_absurd_and_insane_instants_are_refused_and_nothing_is_stored(world) -> None:
    c, http, case_id = world
    before = events(c)
    tried = 0
    for path, body, field in bad_commands(case_id):
        refused(http.post(path, json=body), field)
        tried += 1
    assert events(c) == before  # nothing stored
    assert tried >= 30


def test_queries_headers_and_cursors_are_bounded(world) -> None:
    c, http, case_id = world
    for at in ABSURD:
        refused(http.get("/v1/petitions", params={"received_from": at}), "received_from")
        refused(http.get("/v1/petitions", params={"received_to": at}), "received_to")
        refused(http.get("/v1/deadline", params={"received": at, "period": "3d"}), "received")
    for cursor in (encode_cursor("2026-11-25T10:00:00", "x"),  # naive
                   encode_cursor("0001-01-01T00:00:00+14:00", "x"), encode_cursor("not-a-time", "x"), "%%%"):
        refused(http.get("/v1/petitions", params={"cursor": cursor}), "cursor")
    refused(http.get("/v1/deadline", params={"received": "2026-11-25T10:00:00+09:00", "period": "99999d"}), "period")
    refused(http.get("/v1/deadline", params={"received": "2026-11-25T10:00:00+09:00", "period": "3d",
                                             "pause": "0001-01-01T00:00:00+14:00/"}), "pause[0]")
    for stale in ('"²"', '"٣"', '"99999999999999999999"', "W/x"):
        refused(http.post(f"/v1/petitions/{case_id}/assignment", headers={"If-Match": stale.encode()},
                          json={"occurred_at": T, "official": OFFICIAL}),
                "If-Match")


def test_audit_as_of_is_bounded(world) -> None:
    c, http, case_id = world
    audit = TestClient(wiring.audit_app(c))
    audit.headers["Authorization"] = http.headers["Authorization"]
    for at in ABSURD:
        refused(audit.get(f"/v1/audit/cases/{case_id}", params={"as_of": at}), "as_of")
    assert audit.get(f"/v1/audit/cases/{case_id}", params={"as_of": T}).status_code == 200
    refused(audit.get(f"/v1/audit/cases/{case_id}", params={"as_of": "2030-01-01T00:00:00+09:00"}), "as_of")


def test_a_chunked_body_over_the_limit_is_413(world) -> None:
    c, http, _ = world

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(400):
            yield b"x" * 1024
        yield b'"}'

    before = events(c)
    r = http.post("/v1/petitions", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["field"] == "body"
    small = http.post("/v1/petitions", content=iter([b'{"title"', b': 1}']), headers={"Content-Type": "application/json"})
    assert small.status_code == 422  # a chunked body under the limit reaches the API as before
    assert events(c) == before
