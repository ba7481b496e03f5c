"""`charterwatch up` runs webhooks as an integrator meets it: a subscription made over HTTP on the webhooks
port, a petition filed on intake's, and the receipt posted to a receiving server that verifies it with the
PyPI standardwebhooks library; the process stops cleanly."""
from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.harness import RunningSystem
from tests.e2e.test_walking_skeleton import drill_clock, stopped_cleanly
from tests.integration.test_intake_api import PETITION
from tests.integration.test_webhooks import Receiver


def test_up_delivers_a_verified_webhook(tmp_path: Path) -> None:
    from standardwebhooks.webhooks import Webhook

    receiver = Receiver()
    system = RunningSystem(tmp_path, {"CHARTERWATCH_MODE": "embedded", "CHARTERWATCH_CLOCK_FILE": drill_clock(tmp_path),
                                      "CHARTERWATCH_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"})
    try:
        assert f"webhooks API on http://127.0.0.1:{system.webhooks_port}" in system.text()
        hooks = httpx.Client(base_url=f"http://127.0.0.1:{system.webhooks_port}", timeout=30,
                             headers={"Authorization": system.http.headers["Authorization"]})
        made = hooks.post("/v1/webhooks", json={"url": receiver.url(), "event_types": ["PetitionReceived"]})
        assert made.status_code == 201, made.text
        filed = system.http.post("/v1/petitions", json={**PETITION, "received_at": "2026-11-24T10:00:00+09:00"})
        assert filed.status_code == 201, filed.text
        system.wait_for(lambda: bool(receiver.requests), 30, "the webhook to arrive")
        (got,) = receiver.requests
        event = Webhook(made.json()["secret"]).verify(got.body, got.headers)
        assert event["type"] == "PetitionReceived" and event["data"]["case_id"] == filed.json()["case_id"]
        delivered = hooks.get(f"/v1/webhooks/{made.json()['webhook_id']}/deliveries").json()["items"]
        system.wait_for(lambda: hooks.get(f"/v1/webhooks/{made.json()['webhook_id']}/deliveries").json()
                        ["items"][0]["status"] == "succeeded", 10, "the delivery to be settled")
        assert [d["event_type"] for d in delivered] == ["PetitionReceived"]
        hooks.close()
    finally:
        stopped_cleanly(system)
        receiver.close()
