"""The inbox identity: a reference made with its own, never-rotated key, returned to the integrator,
never shared by two citizens who cannot be told apart, and what a citizen portal reads the inbox by."""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from services import wiring
from services.bootstrap import bootstrap
from services.notify.channels.inbox import InboxChannel
from services.notify.delivery import RetryPolicy
from services.platform.log.embedded import EmbeddedLog
from services.platform.settings import Settings
from tests.integration.conftest import TEST_KEYS, api_token
from tests.integration.test_intake_api import PETITION

CLOCK = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
ROTATED = "new2:" + base64.b64encode(b"n" * 32).decode() + "," + TEST_KEYS  # a new key first: it now seals


def _system(tmp: Path, pii_keys: str):  # type: ignore[no-untyped-def]
    c = bootstrap(Settings(data_dir=tmp, pii_keys=pii_keys), clock=lambda: CLOCK, log=EmbeddedLog(tmp / "log.db"))
    c.log.create_topics(c.topics.specs())
    http = TestClient(wiring.intake_app(c))
    http.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    return c, http


def test_references_survive_a_pii_key_rotation_and_are_not_made_with_a_pii_key(tmp_path: Path) -> None:
    c, http = _system(tmp_path, TEST_KEYS)
    first = http.post("/v1/petitions", json=PETITION).json()
    c.close()
    c, http = _system(tmp_path, ROTATED)  # same data dir, the PII keys rotated
    again = http.post("/v1/petitions", json={**PETITION, "title": "다른 민원"}).json()
    c.close()
    assert first["inbox_ref"] == again["inbox_ref"]  # one citizen, one inbox, across the rotation
    key = (tmp_path / "pseudonym.key").read_bytes()
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert base64.b64decode(key.strip()) not in {b"k" * 32, b"n" * 32}  # not a PII key


def test_citizens_without_a_contact_are_never_merged(tmp_path: Path) -> None:
    c, http = _system(tmp_path, TEST_KEYS)
    try:
        bare = {**PETITION, "applicant": {"name": "김민수"}, "notice_channels": []}
        one, two = (http.post("/v1/petitions", json=bare).json() for _ in range(2))
        assert one["inbox_ref"] != two["inbox_ref"]  # two people called 김민수, or one: not known, not merged
        wiring.petition_projection_runner(c).run(poll_timeout=0.1, until_caught_up=True)
        assert http.get(f"/v1/petitions/{two['case_id']}").json()["duplicate_of"] is None
        with_phone = {**PETITION, "applicant": {"name": "김민수", "phone": "010-1111-2222"}, "notice_channels": ["sms"]}
        three, four = (http.post("/v1/petitions", json=with_phone).json() for _ in range(2))
        assert three["inbox_ref"] == four["inbox_ref"]  # with a contact: the same citizen
    finally:
        c.close()


def test_a_portal_reads_the_inbox_by_the_reference_intake_returned(tmp_path: Path) -> None:
    c, http = _system(tmp_path, TEST_KEYS)
    try:
        filed = http.post("/v1/petitions", json={**PETITION, "notice_channels": ["inbox"]})
        assert filed.status_code == 201, filed.text
        ref = filed.json()["inbox_ref"]
        wiring.petition_projection_runner(c).run(poll_timeout=0.1, until_caught_up=True)
        assert http.get(f"/v1/petitions/{filed.json()['case_id']}").json()["inbox_ref"] == ref
        wiring.notify_worker(c, channels={"inbox": InboxChannel(c.database("notify").sessions, c.now)},
                             policy=RetryPolicy(2, 0.01)).run(poll_timeout=0.1, until_caught_up=True)
        portal = TestClient(wiring.notify_app(c))
        portal.headers["Authorization"] = http.headers["Authorization"]
        items = portal.get("/v1/inbox", params={"applicant_ref": ref}).json()["items"]
        assert [m["kind"] for m in items] == ["receipt"]
        other = TestClient(wiring.notify_app(c))
        other.headers["Authorization"] = f"Bearer {api_token(c, 'agency-b')}"
        assert other.get("/v1/inbox", params={"applicant_ref": ref}).json()["items"] == []
    finally:
        c.close()
