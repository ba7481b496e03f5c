"""Who reads a case's delivery records and an applicant's inbox: the agency that filed the case, or one it
was transferred to; to anyone else a case is as missing as one that never existed."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.notify.channels.files import FileChannel
from services.notify.channels.inbox import InboxChannel
from shared.events import Envelope, encode
from shared.events import petition as ev
from tests.integration.conftest import api_token, make_container
from tests.integration.test_notify import petition, worker
from tests.unit.test_obligations import kst


@pytest.fixture
def c(tmp_path: Path, database_url: str, log_lines: io.StringIO):
    container = make_container(tmp_path, database_url)
    yield container
    container.close()


def client(c, agency_id: str) -> TestClient:
    http = TestClient(wiring.notify_app(c))
    http.headers["Authorization"] = f"Bearer {api_token(c, agency_id)}"
    return http


def notify_case(c, tmp_path: Path, channels: tuple[str, ...], agency_id: str = "agency-a",
                applicant_ref: str = "r" * 32, transfer_to: str | None = None) -> str:
    """A case filed by ``agency_id`` and resolved, its notices delivered (SMS and e-mail as files)."""
    case_id, events = petition(c, channels=channels)
    received = events[0]
    events[0] = Envelope(event_id=received.event_id, case_id=case_id, case_version=1, occurred_at=received.occurred_at,
                         recorded_at=received.recorded_at, producer="intake", charter=received.charter,
                         payload=received.payload.model_copy(update={"agency_id": agency_id,
                                                                     "applicant_ref": applicant_ref}))
    if transfer_to:
        events[2] = Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=3, occurred_at=kst(2026, 11, 9, 10),
                             recorded_at=kst(2026, 11, 9, 10), producer="intake", charter=received.charter,
                             payload=ev.PetitionTransferred(scope="other_agency", to_agency_id=transfer_to,
                                                            reason="소관 기관으로 이송"))
    for e in events:
        c.log.append(c.topics.petition_events, case_id, encode(e))
    files = FileChannel(tmp_path / "outgoing")
    worker(c, {"sms": files, "email": files, "inbox": InboxChannel(c.database("notify").sessions, c.clock)}).run(
        poll_timeout=0.2, until_caught_up=True)
    return case_id


def test_a_foreign_sms_and_email_only_case_is_as_missing_as_an_unknown_one(c, tmp_path: Path) -> None:
    case_id = notify_case(c, tmp_path, channels=("sms",))  # no inbox row: ownership cannot come from the inbox
    own = client(c, "agency-a").get("/v1/notices", params={"case_id": case_id})
    assert own.status_code == 200 and {d["channel"] for d in own.json()} >= {"sms"}
    assert all(d["status"] == "sent" for d in own.json() if d["channel"] == "sms")
    other = client(c, "agency-b")
    foreign = other.get("/v1/notices", params={"case_id": case_id})
    unknown_id = str(uuid.uuid4())
    unknown = other.get("/v1/notices", params={"case_id": unknown_id})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.headers["content-type"] == unknown.headers["content-type"]
    assert foreign.text.replace(case_id, "ID") == unknown.text.replace(unknown_id, "ID")
    # the filing agency asking for a case that does not exist gets the very same answer
    mine_unknown = client(c, "agency-a").get("/v1/notices", params={"case_id": unknown_id})
    assert (mine_unknown.status_code, mine_unknown.text) == (404, unknown.text)


def test_a_case_with_inbox_rows_is_hidden_from_other_agencies_too(c, tmp_path: Path) -> None:
    case_id = notify_case(c, tmp_path, channels=("inbox", "email"))
    assert client(c, "agency-a").get("/v1/notices", params={"case_id": case_id}).status_code == 200
    assert client(c, "agency-b").get("/v1/notices", params={"case_id": case_id}).status_code == 404


def test_the_agency_a_case_was_transferred_to_reads_its_notices(c, tmp_path: Path) -> None:
    case_id = notify_case(c, tmp_path, channels=("sms", "email"), transfer_to="agency-c")
    for agency in ("agency-a", "agency-c"):
        answer = client(c, agency).get("/v1/notices", params={"case_id": case_id})
        assert answer.status_code == 200 and "transfer" in {d["kind"] for d in answer.json()}
    assert client(c, "agency-b").get("/v1/notices", params={"case_id": case_id}).status_code == 404


def test_the_inbox_shows_only_the_calling_agencys_messages(c, tmp_path: Path) -> None:
    ref = "s" * 32  # one applicant reference, known to two agencies
    mine = notify_case(c, tmp_path, channels=("inbox",), agency_id="agency-a", applicant_ref=ref)
    theirs = notify_case(c, tmp_path, channels=("inbox",), agency_id="agency-b", applicant_ref=ref)
    for agency, case_id in (("agency-a", mine), ("agency-b", theirs)):
        items = client(c, agency).get("/v1/inbox", params={"applicant_ref": ref}).json()["items"]
        assert items and {m["case_id"] for m in items} == {case_id}
    assert client(c, "agency-c").get("/v1/inbox", params={"applicant_ref": ref}).json()["items"] == []
