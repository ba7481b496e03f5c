"""The API docs work for an integrator: every API declares its bearer scheme (so "Authorize" works), and
the Korean request examples intake documents are accepted as written."""
from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from services import wiring
from services.intake.api import examples
from shared.instants import KST
from tests.integration.conftest import api_token


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
