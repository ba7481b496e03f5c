"""Webhooks over real components: intake's API files the cases, the real log carries them, the SLA monitor,
compensation and notify derive their events, the webhooks worker and sender deliver them over HTTP to a
receiving server in this test, which verifies every delivery with the PyPI ``standardwebhooks`` library (the
receiving side the issue names). The clock is driven: retries, the rotation's 24 hours and the automatic
disabling are checked by moving it.

The receiver listens on 127.0.0.1, a private address: the tests that deliver to it allow private targets
explicitly; the SSRF tests check the refusals with the setting off.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from services import wiring
from services.bootstrap import Container
from services.webhooks import targets
from services.webhooks.orm import DeliveryRow
from services.webhooks.sender import SCHEDULE, Policy
from shared.events import decode
from tests.integration.conftest import api_token, http_client, make_container
from tests.integration.test_intake_api import APPLICANT, PETITION

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:  # pragma: no cover: the test extra installs it
    Webhook = None  # type: ignore[assignment,misc]

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # 12:00 KST, a working Wednesday
PUBLIC = "93.184.216.34"  # what the stand-in resolver answers for a public name (no network is used)


@pytest.fixture(autouse=True)
def _library() -> None:
    if Webhook is None:
        from tests.conftest import _missing

        _missing("the standardwebhooks package (pip install -e '.[test]')")


# -- a receiving server ---------------------------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def verify(self, secret: str) -> dict[str, Any]:
        return Webhook(secret).verify(self.body, self.headers)  # type: ignore[no-any-return]

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class Receiver:
    """A threaded HTTP server that records each POST and answers the scripted statuses in turn, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[int] = []
        self.default = 200
        self.rule: Callable[[dict[str, Any]], int] | None = None  # a status by the event, before the script
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with outer._lock:
                    if outer.rule is not None:
                        status = outer.rule(json.loads(body))
                    else:
                        status = outer.script.pop(0) if outer.script else outer.default
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    outer.requests.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                answer = b'{"echo": "the receiver may answer anything; it is never stored"}'
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- the system around webhooks -------------------------------------------------------------------------
class World:
    def __init__(self, c: Container, allow_private: bool = True) -> None:
        self.c = c
        self.clock = Clock(T0)
        c.clock = self.clock
        self.allow_private = allow_private
        self.apis: dict[str, TestClient] = {}
        self.intakes: dict[str, TestClient] = {}
        self.jitter = lambda cap: cap  # the schedule's caps exactly (a test of the full jitter sets it)
        self.worker = wiring.webhooks_consumer(c)

    def api(self, agency: str = "agency-a") -> TestClient:
        if agency not in self.apis:
            client = TestClient(wiring.webhooks_app(self.c, allow_private=self.allow_private))
            client.headers["Authorization"] = f"Bearer {api_token(self.c, agency)}"
            self.apis[agency] = client
        return self.apis[agency]

    def intake(self, agency: str = "agency-a") -> TestClient:
        if agency not in self.intakes:
            self.intakes[agency] = http_client(self.c, agency)
        return self.intakes[agency]

    def subscribe(self, url: str, agency: str = "agency-a", **body: Any) -> dict[str, Any]:
        body.setdefault("event_types", ["PetitionReceived", "OfficialAssigned", "PetitionTransferred",
                                        "PetitionResolved"])
        r = self.api(agency).post("/v1/webhooks", json={"url": url, **body})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def file(self, agency: str = "agency-a", **changes: Any) -> str:
        r = self.intake(agency).post("/v1/petitions", json={**PETITION, **changes})
        assert r.status_code == 201, r.text
        return r.json()["case_id"]  # type: ignore[no-any-return]

    def act(self, case_id: str, command: str, body: dict[str, Any], agency: str = "agency-a") -> None:
        r = self.intake(agency).post(f"/v1/petitions/{case_id}/{command}", json=body)
        assert r.status_code == 201, r.text

    def assign(self, case_id: str, minute: int, agency: str = "agency-a") -> None:
        self.act(case_id, "assignment", {"occurred_at": f"2026-11-25T10:{minute:02d}:00+09:00", "official": {
            "official_id": "o-17", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}}, agency)

    def transfer(self, case_id: str, to: str) -> None:
        self.act(case_id, "transfers", {"occurred_at": "2026-11-25T10:30:00+09:00", "scope": "other_agency",
                                        "to_agency_id": to, "reason": "소관 기관"})

    def derive(self) -> None:
        """The SLA monitor, compensation and notify catch up with the log (their events feed webhooks)."""
        for _ in range(2):
            monitor = wiring.monitor_loop(self.c)
            monitor.restore()
            monitor.consumer.run(poll_timeout=0.1, until_caught_up=True)
            monitor.tick()
            wiring.compensation_consumer(self.c).run(poll_timeout=0.1, until_caught_up=True)
            wiring.notify_worker(self.c).run(poll_timeout=0.1, until_caught_up=True)

    def record(self) -> None:
        self.worker.run(poll_timeout=0.1, until_caught_up=True)

    def sender(self, **overrides: Any):  # type: ignore[no-untyped-def]
        args: dict[str, Any] = {"allow_private": self.allow_private, "concurrency": 2,
                                "policy": Policy(jitter=self.jitter), **overrides}
        return wiring.webhooks_sender(self.c, **args)

    def send(self, **overrides: Any) -> int:
        self.record()
        return self.sender(**overrides).send_all_due()  # type: ignore[no-any-return]

    def deliveries(self, webhook_id: str, agency: str = "agency-a", **params: Any) -> list[dict[str, Any]]:
        r = self.api(agency).get(f"/v1/webhooks/{webhook_id}/deliveries", params={"limit": 500, **params})
        assert r.status_code == 200, r.text
        return list(reversed(r.json()["items"]))  # oldest first

    def rows(self, webhook_id: str) -> list[DeliveryRow]:
        with self.c.database("webhooks").readers() as s:
            return list(s.execute(select(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id)
                                  .order_by(DeliveryRow.seq)).scalars())


@pytest.fixture
def world(container: Container) -> World:
    return World(container)


def _types(received: list[Received]) -> list[str]:
    return [r.event["type"] for r in received]


# -- every delivery verifies; the payload; no applicant data ------------------------------------------------
def test_every_event_of_every_topic_is_delivered_signed_and_without_the_applicant(world: World,
                                                                                  receiver: Receiver) -> None:
    every = world.api().get("/v1/webhook-event-types").json()
    assert {"PetitionReceived", "ObligationOpened", "VoucherProposed", "NoticeSent"} <= set(every)
    sub = world.subscribe(receiver.url(), event_types=every, description="모든 이벤트")
    secret = sub["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    assert "secret" not in world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()  # shown once
    case_id = world.file()
    world.assign(case_id, 30)
    world.act(case_id, "repeat-visits", {"occurred_at": "2026-11-25T11:00:00+09:00", "official_id": "o-17",
                                         "cause": "서류 누락"})
    world.derive()
    world.send()

    got = receiver.requests
    types = _types(got)
    facts = [r.event["type"] for r in got if r.event["data"]["producer"] == "intake"]
    assert facts == ["PetitionReceived", "OfficialAssigned", "RepeatVisitRecorded"]  # the log's order per case
    assert types[0] == "PetitionReceived"  # every derived event waited for the receipt
    assert {"ObligationOpened", "VoucherProposed", "NoticeSent"} <= set(types), types  # sla, compensation, notice
    log = {decode(r.value).event_id for t in (world.c.topics.petition_events, world.c.topics.sla_events,
                                             world.c.topics.compensation_events, world.c.topics.notice_events)
           for r in _read(world.c, t)}
    assert {r.event["data"]["event_id"] for r in got} == {str(e) for e in log}  # every event, once
    assert len(got) == len(log)
    for r in got:
        payload = r.verify(secret)  # the standardwebhooks library: raises unless the signature is good
        assert set(payload) == {"type", "timestamp", "data"} and payload["type"] == payload["data"]["event_type"]
        assert r.headers["webhook-id"] == payload["data"]["event_id"]  # the event id: constant across retries
        assert payload["timestamp"] == payload["data"]["occurred_at"]
        assert payload["data"]["case_id"] == case_id and "prev_hash" not in payload["data"]
        assert r.headers["content-type"] == "application/json"
        assert abs(int(r.headers["webhook-timestamp"]) - datetime.now(timezone.utc).timestamp()) < 300
    received = got[0].event["data"]
    assert received["payload"]["municipality_id"] == "dangjin" and received["payload"]["agency_id"] == "agency-a"
    assert "applicant" not in received["payload"] and "applicant_ref" not in received["payload"]
    assert received["redacted"] == ["applicant", "applicant_ref"]

    filed = next(decode(r.value) for r in _read(world.c, world.c.topics.petition_events)
                 if decode(r.value).event_type == "PetitionReceived")
    secrets = [APPLICANT["name"], APPLICANT["phone"], APPLICANT["phone"].replace("-", ""), "+821023456789",
               APPLICANT["email"], APPLICANT["address"], filed.payload.applicant_ref,  # type: ignore[attr-defined]
               filed.payload.applicant.ciphertext, '"ciphertext"', '"kid"']  # type: ignore[attr-defined]
    for r in got:
        text = r.body.decode()
        assert not [s for s in secrets if s in text], r.event["type"]

    log_items = world.deliveries(sub["webhook_id"])
    assert {d["status"] for d in log_items} == {"succeeded"} and {d["last_status_code"] for d in log_items} == {200}
    detail = world.api().get(f"/v1/webhooks/{sub['webhook_id']}/deliveries/{log_items[0]['delivery_id']}").json()
    assert [(a["attempt"], a["status_code"], a["error"]) for a in detail["attempt_log"]] == [(1, 200, None)]
    assert "echo" not in json.dumps(detail) and "body" not in detail  # the receiver's answer is never kept


def _read(c: Container, topic: str) -> list[Any]:
    from services.sla_monitor.runner import read_all

    return read_all(c.log, topic)[0]  # type: ignore[no-any-return]


def test_filters_and_event_types_choose_what_is_sent(world: World, receiver: Receiver) -> None:
    breaches = world.subscribe(receiver.url("/kinds"), event_types=["ObligationOpened"],
                               filters={"obligation_kinds": ["statutory_deadline"]})
    other_town = world.subscribe(receiver.url("/namhae"), event_types=["PetitionReceived"],
                                 filters={"municipality_id": "namhae"})
    questions = world.subscribe(receiver.url("/questions"), event_types=["PetitionReceived"],
                                filters={"petition_types": ["question_system"]})
    assert questions["filters"]["petition_types"] == ["question_system"]
    assert breaches["filters"]["obligation_kinds"] == ["statutory_deadline"]
    assert other_town["filters"]["municipality_ids"] == ["namhae"]
    world.file()
    world.file(municipality_id="namhae", received_at="2026-11-25T10:05:00+09:00")
    world.derive()
    world.send()
    opened = [r.verify(breaches["secret"]) for r in receiver.at("/kinds")]
    assert opened and {p["data"]["payload"]["kind"] for p in opened} == {"statutory_deadline"}
    assert {p["type"] for p in opened} == {"ObligationOpened"}
    namhae = [r.verify(other_town["secret"]) for r in receiver.at("/namhae")]
    assert [p["data"]["payload"]["municipality_id"] for p in namhae] == ["namhae"]
    assert receiver.at("/questions") == []


# -- secret rotation --------------------------------------------------------------------------------------
def test_a_rotated_secret_signs_beside_the_new_one_for_24_hours(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    old = sub["secret"]
    world.file()
    world.send()
    first = receiver.requests[-1]
    first.verify(old)
    assert len(first.headers["webhook-signature"].split(" ")) == 1

    rotated = world.api().post(f"/v1/webhooks/{sub['webhook_id']}/secrets")
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert datetime.fromisoformat(rotated.json()["previous_valid_until"]) == T0 + timedelta(hours=24)
    shown = world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()["secrets"]
    assert len(shown) == 2 and "secret" not in json.dumps(shown).replace("secret_id", "")

    world.clock.now = T0 + timedelta(hours=23)
    world.file(received_at="2026-11-25T10:10:00+09:00")
    world.send()
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2  # both, space-separated
    during.verify(new)  # a receiver already on the new secret
    during.verify(old)  # and one still on the old

    world.clock.now = T0 + timedelta(hours=24, seconds=1)
    world.file(received_at="2026-11-25T10:20:00+09:00")
    world.send()
    after = receiver.requests[-1]
    after.verify(new)
    with pytest.raises(WebhookVerificationError):
        after.verify(old)
    assert len(world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()["secrets"]) == 1
    with world.c.database("webhooks").readers() as s:  # kept sealed: the secret's text is nowhere in the table
        from services.webhooks.orm import SecretRow

        stored = json.dumps([r.sealed for r in s.execute(select(SecretRow)).scalars()])
    assert new.removeprefix("whsec_") not in stored and old.removeprefix("whsec_") not in stored


# -- order, retries, backoff ------------------------------------------------------------------------------
def test_a_cases_next_event_waits_for_the_one_before_under_retries(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    case_id = world.file()
    world.assign(case_id, 30)
    receiver.script = [500]  # the first delivery fails once
    world.send()
    assert [(r.event["type"], r.status) for r in receiver.requests] == [("PetitionReceived", 500)]
    other = world.file(received_at="2026-11-25T10:40:00+09:00")  # another case is never held up by it
    world.send()
    assert [r.event["data"]["case_id"] for r in receiver.requests[1:]] == [other]
    first, second = world.deliveries(sub["webhook_id"], case_id=case_id)
    assert (first["status"], first["attempts"], first["last_status_code"], first["last_error"]) == \
        ("pending", 1, 500, "http_5xx")
    assert datetime.fromisoformat(first["next_attempt_at"]) == T0 + timedelta(seconds=5)
    assert (second["status"], second["attempts"]) == ("pending", 0)

    world.clock.now = T0 + timedelta(seconds=5)
    world.send()
    mine = [r for r in receiver.requests if r.event["data"]["case_id"] == case_id]
    assert [(r.event["type"], r.status) for r in mine] == [("PetitionReceived", 500), ("PetitionReceived", 200),
                                                            ("OfficialAssigned", 200)]
    assert mine[0].headers["webhook-id"] == mine[1].headers["webhook-id"]  # the retry: the same id and body
    assert mine[0].body == mine[1].body
    for r in mine:
        r.verify(sub["secret"])
    assert [d["status"] for d in world.deliveries(sub["webhook_id"], case_id=case_id)] == ["succeeded"] * 2
    assert world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()["failing_since"] is None


def test_retries_back_off_over_hours_then_the_delivery_is_failed_and_the_case_goes_on(world: World,
                                                                                      receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    case_id = world.file()
    world.assign(case_id, 30)
    receiver.rule = lambda event: 503 if event["type"] == "PetitionReceived" else 200
    world.send()
    delays = []
    while (row := world.rows(sub["webhook_id"])[0]).status == "pending":
        delays.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
        assert receiver.requests[-1].event["type"] == "PetitionReceived"  # the case's next one waits
        world.clock.now = row.next_attempt_at
        world.send()
    assert delays == [*SCHEDULE, SCHEDULE[-1]]  # 5 s, 30 s, 2 min, ... 8 h, 8 h: about a day
    assert row.status == "failed" and row.attempts == len(delays) + 1
    span = row.last_attempt_at - row.first_attempt_at
    assert timedelta(hours=20) < span <= timedelta(hours=24)
    detail = world.api().get(f"/v1/webhooks/{sub['webhook_id']}/deliveries/{row.delivery_id}").json()
    assert {(a["status_code"], a["error"]) for a in detail["attempt_log"]} == {(503, "http_5xx")}
    assert len(detail["attempt_log"]) == row.attempts
    # given up: the case's next event went at once
    assert [(r.event["type"], r.status) for r in receiver.requests[-2:]] == [("PetitionReceived", 503),
                                                                            ("OfficialAssigned", 200)]
    receiver.requests[-1].verify(sub["secret"])


def test_full_jitter_keeps_each_delay_under_its_step(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    world.file()
    receiver.default = 500
    sender = world.sender(policy=Policy())  # random.uniform(0, cap)
    world.record()
    sender.send_all_due()
    delays, attempts = [], 1
    while (row := world.rows(sub["webhook_id"])[0]).status == "pending":
        delays.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
        world.clock.now = row.next_attempt_at
        sender.send_all_due()
        attempts += 1
    for n, delay in enumerate(delays):
        assert 0 <= delay <= SCHEDULE[min(n, len(SCHEDULE) - 1)]
    assert row.status == "failed" and row.last_attempt_at - row.first_attempt_at <= timedelta(hours=24)
    assert len(set(delays)) > 1


# -- redelivery ---------------------------------------------------------------------------------------------
def test_redelivery_sends_the_same_event_again(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    world.file()
    world.send()
    (done,) = world.deliveries(sub["webhook_id"])
    again = world.api().post(f"/v1/webhooks/{sub['webhook_id']}/deliveries/{done['delivery_id']}/redeliver")
    assert again.status_code == 202, again.text
    assert again.json()["redelivery_of"] == done["delivery_id"] and again.json()["status"] == "pending"
    world.send()
    first, second = receiver.requests
    assert second.headers["webhook-id"] == first.headers["webhook-id"] == done["event_id"]
    assert second.body == first.body
    second.verify(sub["secret"])
    assert [d["status"] for d in world.deliveries(sub["webhook_id"])] == ["succeeded", "succeeded"]
    b = world.api("agency-b")
    assert b.post(f"/v1/webhooks/{sub['webhook_id']}/deliveries/{done['delivery_id']}/redeliver").status_code == 404
    assert world.api().post(f"/v1/webhooks/{sub['webhook_id']}/deliveries/nope/redeliver").status_code == 404
    # the log's own redelivery (positions lost): no second delivery of any event
    with world.c.database("webhooks").sessions.begin() as s:
        from services.webhooks.schema import RUNTIME

        s.execute(RUNTIME.position.__table__.delete())
    wiring.webhooks_consumer(world.c).run(poll_timeout=0.1, until_caught_up=True)
    assert len(world.rows(sub["webhook_id"])) == 2


# -- disabling ------------------------------------------------------------------------------------------------
def test_a_webhook_failing_for_days_is_disabled_with_a_notice_then_enabled_again(world: World,
                                                                                receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    hook = sub["webhook_id"]
    first_case = world.file()
    receiver.default = 500
    world.send()
    while (row := world.rows(hook)[0]).status == "pending":
        world.clock.now = row.next_attempt_at
        world.send()
    seen = world.api().get(f"/v1/webhooks/{hook}").json()
    assert seen["status"] == "enabled" and datetime.fromisoformat(seen["failing_since"]) == T0
    world.clock.now = T0 + timedelta(days=3) - timedelta(seconds=1)
    world.send()
    assert world.api().get(f"/v1/webhooks/{hook}").json()["status"] == "enabled"
    world.clock.now = T0 + timedelta(days=3)
    world.send()
    seen = world.api().get(f"/v1/webhooks/{hook}").json()
    assert seen["status"] == "disabled" and "disabled automatically" in seen["disabled_reason"]
    (notice,) = world.api().get("/v1/webhook-notices").json()
    assert notice["webhook_id"] == hook and notice["kind"] == "webhook_disabled"
    assert world.api("agency-b").get("/v1/webhook-notices").json() == []

    # while disabled: recorded, not sent
    tried = len(receiver.requests)
    world.assign(first_case, 30)
    later = world.file(received_at="2026-11-25T10:50:00+09:00")
    world.send()
    assert len(receiver.requests) == tried
    assert [d["status"] for d in world.deliveries(hook)] == ["failed", "pending", "pending"]

    receiver.default = 200
    enabled = world.api().post(f"/v1/webhooks/{hook}/enable")
    assert enabled.status_code == 200 and enabled.json()["status"] == "enabled"
    assert enabled.json()["failing_since"] is None and enabled.json()["disabled_reason"] is None
    world.send()
    sent = receiver.requests[tried:]
    assert sorted((r.event["data"]["case_id"], r.event["type"]) for r in sent) == sorted(
        [(first_case, "OfficialAssigned"), (later, "PetitionReceived")])
    for r in sent:
        r.verify(sub["secret"])
    seen = world.api().get(f"/v1/webhooks/{hook}").json()
    assert seen["failing_since"] is None and seen["last_success_at"] is not None


def test_a_success_between_failures_keeps_the_webhook_enabled(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    world.file()
    receiver.script = [500]
    world.send()
    world.clock.now = T0 + timedelta(days=2)
    world.send()  # the retry succeeds
    assert world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()["failing_since"] is None
    receiver.default = 500
    world.file(received_at="2026-11-25T10:10:00+09:00")
    world.send()
    world.clock.now = T0 + timedelta(days=4)  # three days after the first failure, not after the latest
    world.send()
    assert world.api().get(f"/v1/webhooks/{sub['webhook_id']}").json()["status"] == "enabled"


# -- tenancy ------------------------------------------------------------------------------------------------
def test_never_another_agencys_case_and_a_transfer_moves_the_deliveries(world: World, receiver: Receiver) -> None:
    kinds = ["PetitionReceived", "OfficialAssigned", "PetitionTransferred", "ObligationOpened",
             "ObligationDischarged", "NoticeSent"]
    a = world.subscribe(receiver.url("/a"), "agency-a", event_types=kinds)
    b = world.subscribe(receiver.url("/b"), "agency-b", event_types=kinds)
    case_id = world.file("agency-a")
    world.derive()
    world.send()
    assert receiver.at("/b") == []  # B's subscription never receives A's case
    assert "PetitionReceived" in _types(receiver.at("/a"))

    world.transfer(case_id, "agency-b")
    world.derive()
    world.send()
    transfer = next(r.event for r in receiver.at("/a") if r.event["type"] == "PetitionTransferred")
    moved_at = transfer["data"]["case_version"]
    world.assign(case_id, 40, agency="agency-b")  # B handles it now
    world.derive()
    world.send()
    at_a = [r.verify(a["secret"]) for r in receiver.at("/a")]
    at_b = [r.verify(b["secret"]) for r in receiver.at("/b")]
    assert "OfficialAssigned" not in {p["type"] for p in at_a}  # nothing after the transfer reaches A
    assert all(p["data"]["case_version"] < moved_at or p["type"] == "PetitionTransferred" for p in at_a)
    assert [p["type"] for p in at_b][0] == "PetitionTransferred"  # B: from the transfer on
    assert "OfficialAssigned" in {p["type"] for p in at_b}
    assert all(p["data"]["case_version"] >= moved_at for p in at_b)
    assert {p["data"]["case_id"] for p in at_a + at_b} == {case_id}

    # the API: another agency's webhook is as missing as a missing one
    hook = a["webhook_id"]
    bb = world.api("agency-b")
    for method, path in (("get", f"/v1/webhooks/{hook}"), ("patch", f"/v1/webhooks/{hook}"),
                         ("delete", f"/v1/webhooks/{hook}"), ("post", f"/v1/webhooks/{hook}/secrets"),
                         ("post", f"/v1/webhooks/{hook}/enable"), ("get", f"/v1/webhooks/{hook}/deliveries")):
        kwargs = {"json": {"description": "x"}} if method == "patch" else {}
        r = getattr(bb, method)(path, **kwargs)
        assert r.status_code == 404, (method, path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert [w["webhook_id"] for w in bb.get("/v1/webhooks").json()["items"]] == [b["webhook_id"]]


# -- SSRF ---------------------------------------------------------------------------------------------------
REFUSED = ["http://127.0.0.1/hooks", "http://10.1.2.3/hooks", "http://169.254.169.254/latest/meta-data/",
           "http://[::1]/hooks", "http://[::ffff:127.0.0.1]/hooks", "http://localhost:8080/hooks",
           "http://172.16.0.9/", "http://192.168.0.1/", "http://100.64.0.1/", "http://0.0.0.0/",
           "http://2130706433/", "http://[fe80::1]/", "http://224.0.0.1/"]


@pytest.mark.parametrize("url", REFUSED)
def test_private_targets_are_refused_at_subscription(tmp_path: Path, url: str) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}")
    try:
        assert c.settings.webhooks_allow_private_targets is False
        api = TestClient(wiring.webhooks_app(c))
        api.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
        r = api.post("/v1/webhooks", json={"url": url, "event_types": ["PetitionReceived"]})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "url" and r.headers["content-type"] == "application/problem+json"
        assert api.get("/v1/webhooks").json()["items"] == []
    finally:
        c.close()


def test_malformed_targets_and_event_types_are_refused(world: World) -> None:
    api = world.api()
    for url in ("ftp://example.org/x", "https://user:pw@example.org/", "file:///etc/passwd", "https:///nohost",
                "javascript:alert(1)", "http://exa mple.org/"):
        r = api.post("/v1/webhooks", json={"url": url, "event_types": ["PetitionReceived"]})
        assert r.status_code == 422 and r.json()["field"] == "url", (url, r.text)
    r = api.post("/v1/webhooks", json={"url": "https://example.org/", "event_types": ["NoSuchEvent"]})
    assert r.status_code == 422 and r.json()["field"] == "event_types" and "NoSuchEvent" in r.json()["detail"]
    r = api.post("/v1/webhooks", json={"url": "https://example.org/", "event_types": []})
    assert r.status_code == 422 and r.json()["field"] == "event_types"
    r = api.post("/v1/webhooks", json={"url": "https://example.org/", "event_types": ["PetitionReceived"],
                                       "filters": {"obligation_kinds": ["sometimes"]}})
    assert r.status_code == 422
    assert api.get("/v1/webhooks", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_public_name_is_accepted_and_checked_again_at_each_delivery(tmp_path: Path, receiver: Receiver,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a name that resolved to a public address at subscription resolves to loopback at
    delivery: refused with the setting off. With it on, the sender connects to the address it checked and
    sends the original Host header (the pinning)."""
    answers = {"hooks.example.org": [PUBLIC]}
    monkeypatch.setattr(targets, "resolve", lambda host, port: list(answers.get(host, ["127.0.0.1"])))
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}")
    try:
        w = World(c, allow_private=False)
        url = f"http://hooks.example.org:{receiver.port}/hooks"
        sub = w.subscribe(url)
        assert sub["url"] == url
        answers["hooks.example.org"] = ["127.0.0.1"]  # rebound
        w.file()
        w.send()
        assert receiver.requests == []
        (d,) = w.deliveries(sub["webhook_id"])
        assert (d["status"], d["last_error"], d["last_status_code"]) == ("pending", "target_refused", None)
        # a PATCH to a private target is refused as a creation is
        r = w.api().patch(f"/v1/webhooks/{sub['webhook_id']}", json={"url": receiver.url()})
        assert r.status_code == 422 and r.json()["field"] == "url"
        # the setting on: the rebound name reaches the receiver through the checked address, Host kept
        w.clock.now = T0 + timedelta(minutes=1)
        w.send(allow_private=True)
        (got,) = receiver.requests
        assert got.headers["host"] == f"hooks.example.org:{receiver.port}"
        got.verify(sub["secret"])
    finally:
        c.close()


def test_the_setting_allows_private_targets(tmp_path: Path, receiver: Receiver) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", webhooks_allow_private_targets=True)
    try:
        api = TestClient(wiring.webhooks_app(c))
        api.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
        r = api.post("/v1/webhooks", json={"url": receiver.url("/x"), "event_types": ["PetitionReceived"]})
        assert r.status_code == 201, r.text
        intake = http_client(c, "agency-a")
        assert intake.post("/v1/petitions", json=PETITION).status_code == 201
        wiring.webhooks_consumer(c).run(poll_timeout=0.1, until_caught_up=True)
        assert wiring.webhooks_sender(c).send_all_due() == 1  # the sender built from the same settings
        receiver.requests[0].verify(r.json()["secret"])
    finally:
        c.close()


def test_redirects_are_not_followed(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url())
    world.file()
    receiver.script = [302]
    world.send()
    (d,) = world.deliveries(sub["webhook_id"])
    assert (d["last_status_code"], d["last_error"], d["status"]) == (302, "redirect_not_followed", "pending")
    assert len(receiver.requests) == 1


# -- the API's other answers -----------------------------------------------------------------------------
def test_change_pause_and_delete_a_webhook(world: World, receiver: Receiver) -> None:
    sub = world.subscribe(receiver.url("/one"))
    hook = sub["webhook_id"]
    r = world.api().patch(f"/v1/webhooks/{hook}", json={"url": receiver.url("/two"), "event_types": ["OfficialAssigned"],
                                                         "description": "배정만"})
    assert r.status_code == 200, r.text
    assert (r.json()["url"], r.json()["event_types"]) == (receiver.url("/two"), ["OfficialAssigned"])
    case_id = world.file()
    world.assign(case_id, 30)
    world.send()
    assert [(x.path, x.event["type"]) for x in receiver.requests] == [("/two", "OfficialAssigned")]
    paused = world.api().patch(f"/v1/webhooks/{hook}", json={"enabled": False})
    assert paused.json()["status"] == "disabled" and paused.json()["disabled_reason"] == "paused by the agency"
    world.assign(case_id, 35)
    world.send()
    assert len(receiver.requests) == 1
    assert world.api().patch(f"/v1/webhooks/{hook}", json={"enabled": True}).json()["status"] == "enabled"
    world.send()
    assert len(receiver.requests) == 2
    assert world.api().patch(f"/v1/webhooks/{hook}", json={"url": None}).status_code == 422
    assert world.api().delete(f"/v1/webhooks/{hook}").status_code == 204
    assert world.api().get(f"/v1/webhooks/{hook}").status_code == 404
    world.assign(case_id, 36)
    world.send()
    assert len(receiver.requests) == 2 and world.rows(hook) == []


def test_the_api_documents_itself_offline_and_runs_in_the_topology(world: World) -> None:
    from services.topology import DATABASE, parts_of

    api = world.api()
    docs = api.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    spec = api.get("/openapi.json").json()
    assert {"/v1/webhooks", "/v1/webhooks/{webhook_id}", "/v1/webhooks/{webhook_id}/secrets",
            "/v1/webhooks/{webhook_id}/deliveries", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            "/v1/webhooks/{webhook_id}/enable", "/v1/webhook-notices"} <= set(spec["paths"])
    assert spec["paths"]["/v1/webhooks"]["post"]["responses"]["422"]["content"]["application/problem+json"]
    assert {p.name for p in parts_of("webhooks")} == {"webhooks", "webhooks_sender", "webhooks_api"}
    assert DATABASE["webhooks"] == "webhooks" and world.c.settings.webhooks_port == 8085


def test_a_sealed_secret_that_cannot_be_opened_is_a_classified_failure(world: World, receiver: Receiver) -> None:
    from services.webhooks.orm import SecretRow

    sub = world.subscribe(receiver.url())
    world.file()
    with world.c.database("webhooks").sessions.begin() as s:
        s.execute(update(SecretRow).values(sealed={"kid": "gone", "nonce": "AAAA", "ciphertext": "AAAA"}))
    world.send()
    (d,) = world.deliveries(sub["webhook_id"])
    assert d["last_error"] == "secret_unavailable" and receiver.requests == []


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (its own trust anchor) and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_is_pinned_to_the_checked_address_and_verified_against_the_name(tmp_path: Path, receiver: Receiver,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender connects to the address it checked, yet TLS names the URL's host (SNI) and the certificate
    is verified against that name: a certificate for another name fails as tls_error."""
    import ssl

    cert, key = _certificate(tmp_path, "hooks.example.org")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    receiver.server.socket = server_tls.wrap_socket(receiver.server.socket, server_side=True)
    trusted = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}")
    try:
        w = World(c)
        good = w.subscribe(f"https://hooks.example.org:{receiver.port}/tls")
        other, _ = _certificate(tmp_path, "elsewhere.example.org")
        w.file()
        w.send(verify=ssl.create_default_context(cafile=str(other)))  # trusts only another name's certificate
        (d,) = w.deliveries(good["webhook_id"])
        assert d["last_error"] == "tls_error" and receiver.requests == []
        w.clock.now = T0 + timedelta(minutes=1)
        w.send(verify=trusted)
        (got,) = receiver.requests
        got.verify(good["secret"])
        assert got.headers["host"] == f"hooks.example.org:{receiver.port}"
    finally:
        c.close()
