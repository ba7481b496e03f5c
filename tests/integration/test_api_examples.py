"""The API docs work for an integrator: every API declares its bearer scheme (so "Authorize" works); every
request body of intake, compensation and webhooks documents Korean examples that validate against the body's
schema and that the running API accepts as written; every error answer is documented as problem+json."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services import wiring
from services.bootstrap import Container
from services.compensation.api import examples as compensation_examples
from services.intake.api import examples
from services.webhooks.api import examples as webhook_examples
from shared.events import encode
from shared.instants import KST
from tests.integration.conftest import api_token, make_container


def test_every_api_declares_bearer_auth_on_its_operations(container) -> None:
    c = container
    for build in (wiring.intake_app, wiring.compensation_app, wiring.notify_app, wiring.audit_app):
        spec = build(c).openapi()
        assert spec["components"]["securitySchemes"]["apiKey"] == {
            "type": "http", "scheme": "bearer", "bearerFormat": "cw_<key id>.<secret>",
            "description": "An agency's API key: `charterwatch keys create --agency <id>` prints it once."}
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                if path.startswith("/v1/") and path != "/v1/deadline":  # the calculator is public
                    assert op.get("security") == [{"apiKey": []}], f"{method} {path}"
                    assert "401" in op["responses"], f"{method} {path}"


def test_the_korean_examples_are_accepted_as_written(container) -> None:
    c = container
    c.clock = lambda: datetime(2026, 12, 10, 12, tzinfo=KST)  # after every instant the examples name
    client = TestClient(wiring.intake_app(c))
    client.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    spec = client.app.openapi()
    documented = spec["paths"]["/v1/petitions"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert set(documented) == set(examples.PETITION)
    desk = client.post("/v1/petitions", json=examples.PETITION["desk"]["value"])
    assert desk.status_code == 201, desk.text
    case_id = desk.json()["case_id"]
    assert desk.json()["receipt_number"] == "2026-민원-000123"
    for path in ("assignment", "supplement-requests", "supplements", "extensions", "resolution", "evaluations"):
        op = spec["paths"][f"/v1/petitions/{{case_id}}/{path}"]["post"]
        assert op["requestBody"]["content"]["application/json"]["examples"]["example"] == examples.COMMANDS[path]
        r = client.post(f"/v1/petitions/{case_id}/{path}", json=examples.COMMANDS[path]["value"])
        assert r.status_code == 201, (path, r.text)
    internet = client.post("/v1/petitions", json=examples.PETITION["internet"]["value"])
    assert internet.status_code == 201, internet.text
    r = client.post(f"/v1/petitions/{internet.json()['case_id']}/receipt", json=examples.COMMANDS["receipt"]["value"])
    assert r.status_code == 201, r.text


# -- every request body's examples, read from the spec as an integrator's tools read them -----------------
HANGUL = re.compile("[가-힣]")
APPS: dict[str, Callable[[Container], FastAPI]] = {
    "intake": wiring.intake_app, "compensation": wiring.compensation_app, "webhooks": wiring.webhooks_app}
EVERY_BODY = ("compensation", "webhooks")  # every request body has a Korean example (intake: the common ones)


def request_examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]]:
    """(method and path, the body's schema, its examples by name) for each operation that takes a JSON body."""
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                yield f"{method.upper()} {path}", body["schema"], body.get("examples", {})


def valid(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """``value`` against ``schema`` as OpenAPI 3.1 means it (JSON Schema 2020-12, $refs into the spec's components)."""
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(value)


@pytest.mark.parametrize("service", list(APPS))
def test_request_examples_are_korean_and_valid_against_their_schemas(service: str, tmp_path: Path) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.db'}")
    try:
        spec = APPS[service](c).openapi()
    finally:
        c.close()
    documented = 0
    for operation, schema, named in request_examples(spec):
        if service in EVERY_BODY:
            assert named, f"{operation}: no example"
        for name, example in named.items():
            assert HANGUL.search(example["summary"]), (operation, name)  # the docs list them by their summary
            assert HANGUL.search(json.dumps(example["value"], ensure_ascii=False)) or service == "compensation" \
                and set(example["value"]) == {"official_id"}, (operation, name)  # an id alone has no words
            valid(spec, schema, example["value"])
            documented += 1
        with pytest.raises(jsonschema.ValidationError):  # the check can fail: a body the schema refuses
            valid(spec, schema, "민원 본문이 아닌 문자열")
    assert documented >= {"intake": 10, "compensation": 4, "webhooks": 4}[service]


@pytest.mark.parametrize("service", list(APPS))
def test_every_error_answer_is_documented_as_problem_json(service: str, tmp_path: Path) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.db'}")
    try:
        spec = APPS[service](c).openapi()
    finally:
        c.close()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            errors = {code: answer for code, answer in op["responses"].items() if code[0] in "45"}
            assert {"400", "404", "422"} <= set(errors), f"{method} {path}"
            for code, answer in errors.items():
                assert answer["content"] == {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}, f"{method} {code} {path}"
                assert answer["description"], f"{method} {code} {path}"
    if service == "compensation":  # in the operation's own words where it has them
        assert "voucher-transition" in spec["paths"]["/v1/vouchers/{voucher_id}/approval"]["post"]["responses"][
            "409"]["description"]
    if service == "webhooks":
        answers = spec["paths"]["/v1/webhooks"]["post"]["responses"]
        assert "webhooks-per-agency" in answers["409"]["description"] and "private" in answers["422"]["description"]


def test_the_compensation_examples_are_accepted_as_written(tmp_path: Path, database_url: str) -> None:
    from tests.integration.test_compensation import breach
    from tests.unit.test_obligations import Case, kst

    c = make_container(tmp_path, database_url)
    try:
        seongnam = [Case(municipality="seongnam", at=kst(2027, 3, 2, 10)) for _ in range(2)]  # the head approves
        gochang = Case(municipality="gochang", at=kst(2027, 3, 2, 10))  # paid in a monthly batch
        for case in (*seongnam, gochang):
            c.log.append(c.topics.petition_events, case.case_id, encode(case.received))
            c.log.append(c.topics.sla_events, case.case_id, encode(breach(case, kst(2027, 3, 11, 18))))
        wiring.compensation_consumer(c).run(poll_timeout=0.2, until_caught_up=True)
        client = TestClient(wiring.compensation_app(c))
        client.headers["Authorization"] = f"Bearer {api_token(c, 'a')}"  # the test cases' agency
        voucher = {v["case_id"]: v["voucher_id"] for v in client.get("/v1/vouchers").json()["items"]}
        ex = compensation_examples
        approved = client.post(f"/v1/vouchers/{voucher[seongnam[0].case_id]}/approval", json=ex.APPROVAL["head"]["value"])
        assert approved.status_code == 200 and approved.json()["status"] == "issued", approved.text
        delivered = client.post(f"/v1/vouchers/{voucher[seongnam[0].case_id]}/delivery",
                                json=ex.DELIVERY["handed_over"]["value"])
        assert delivered.status_code == 200 and delivered.json()["status"] == "delivered", delivered.text
        rejected = client.post(f"/v1/vouchers/{voucher[seongnam[1].case_id]}/rejection",
                               json=ex.REJECTION["applicant_delay"]["value"])
        assert rejected.status_code == 200 and rejected.json()["status"] == "cancelled", rejected.text
        assert rejected.json()["cancel_reason"].endswith(ex.REJECTION["applicant_delay"]["value"]["reason"])
        issued = client.post("/v1/voucher-batches/2027-03/issue", json=ex.BATCH["monthly"]["value"])
        assert issued.status_code == 200 and [(v["case_id"], v["status"]) for v in issued.json()] == [
            (gochang.case_id, "issued")], issued.text
    finally:
        c.close()


def test_the_webhooks_examples_are_accepted_as_written(tmp_path: Path, database_url: str) -> None:
    c = make_container(tmp_path, database_url)
    try:
        resolved: list[str] = []

        def resolver(host: str, port: int) -> list[str]:  # a public address for the examples' names, no network
            resolved.append(host)
            return ["93.184.216.34"]

        client = TestClient(wiring.webhooks_app(c, resolver=resolver))
        client.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
        made = {}
        for name, example in webhook_examples.SUBSCRIPTION.items():
            r = client.post("/v1/webhooks", json=example["value"])
            assert r.status_code == 201, (name, r.text)
            made[name] = r.json()
            assert (made[name]["url"], made[name]["event_types"]) == (example["value"]["url"],
                                                                      example["value"]["event_types"])
            assert made[name]["secret"].startswith("whsec_")
        assert resolved == ["minwon.dangjin.go.kr", "minwon.yeonje.go.kr"]  # each checked as a target
        webhook_id = made["breaches"]["webhook_id"]
        narrowed = client.patch(f"/v1/webhooks/{webhook_id}", json=webhook_examples.CHANGE["narrow"]["value"])
        assert narrowed.status_code == 200 and narrowed.json()["event_types"] == ["ObligationBreached"], narrowed.text
        paused = client.patch(f"/v1/webhooks/{webhook_id}", json=webhook_examples.CHANGE["pause"]["value"])
        assert paused.status_code == 200 and paused.json()["status"] == "disabled", paused.text
    finally:
        c.close()
