"""schemathesis against the webhooks API's OpenAPI, as tests/integration/test_openapi_fuzz.py does for the others:
authenticated as a real agency with a webhook and a delivery on file, whatever it sends, no 5xx, and every
answer conforms to the spec. Names are resolved by a stand-in (every host public, no DNS query leaves the
machine); the SSRF refusals themselves are tested in test_webhooks.py."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import wiring
from tests.integration.conftest import api_token, make_container
from tests.integration.test_intake_api import PETITION
from tests.integration.test_openapi_fuzz import fuzz

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXAMPLES = 12


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    tmp: Path = tmp_path_factory.mktemp("fuzz-webhooks")
    c = make_container(tmp, f"sqlite:///{tmp / 'rm.db'}")
    token = api_token(c, "fuzz-agency")
    api = wiring.webhooks_app(c, resolver=lambda host, port: ["93.184.216.34"])
    auth = {"Authorization": f"Bearer {token}"}
    made = TestClient(api).post("/v1/webhooks", headers=auth, json={
        "url": "https://hooks.example.org/cw", "event_types": ["PetitionReceived"]})
    assert made.status_code == 201, made.text
    filed = TestClient(wiring.intake_app(c)).post("/v1/petitions", json=PETITION, headers=auth)
    assert filed.status_code == 201, filed.text
    wiring.webhooks_consumer(c).run(poll_timeout=0.1, until_caught_up=True)
    yield api, token
    c.close()


def test_every_answer_conforms_and_none_is_a_server_error(app) -> None:  # type: ignore[no-untyped-def]
    api, token = app
    fuzz(api, token, "webhooks")
