"""Intake remembers a verified API key for a TTL: a revoked key stops working within it, not at once."""
from __future__ import annotations

from fastapi.testclient import TestClient

from services.bootstrap import Container
from services.platform.access.keys import revoke_key
from services.platform.http.key_cache import TTL_SECONDS, KeyCache
from services.wiring import intake_app
from tests.integration.conftest import api_token


def test_a_revoked_key_stops_working_once_its_cached_verification_expires(container: Container) -> None:
    c = container
    now = [1000.0]
    app = intake_app(c)
    app.state.key_cache = KeyCache(clock=lambda: now[0])
    token = api_token(c, "agency-a")
    http = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert http.get("/v1/petitions").status_code == 200  # verified in the database, remembered
    with c.database("access").sessions.begin() as session:
        assert revoke_key(session, token[3:].split(".")[0], c.clock())
    now[0] += TTL_SECONDS - 1
    assert http.get("/v1/petitions").status_code == 200  # within the TTL: still the cached verification
    now[0] += 2
    r = http.get("/v1/petitions")
    assert r.status_code == 401 and r.json()["field"] == "Authorization"  # looked up again: revoked
    now[0] += 1
    assert http.get("/v1/petitions").status_code == 401  # a refusal is never remembered as a success


def test_only_the_exact_key_verified_is_remembered(container: Container) -> None:
    c = container
    app = intake_app(c)
    token = api_token(c, "agency-a")
    ok = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert ok.get("/v1/petitions").status_code == 200
    forged = TestClient(app, headers={"Authorization": f"Bearer {token[:-2]}xx"})  # same key id, wrong secret
    assert forged.get("/v1/petitions").status_code == 401
    # a key issued after the app started works at once: failures are not cached, successes only by their hash
    later = TestClient(app, headers={"Authorization": f"Bearer {api_token(c, 'agency-b')}"})
    assert later.get("/v1/petitions").status_code == 200
